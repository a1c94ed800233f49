// The read-only operator web view ([server] ui = true, and `vigie demo`): the page, script and
// style embedded in the binary (app/web/, turned into web_assets.cpp at build time), and JSON
// tables of alerts, silences, audit, rules (with the last reload and its diagnostics) and
// collectors (health, last poll, cursor). Nothing here writes: the store is read through a
// connection of its own, the rest through the daemon's snapshots. The JSON carries event text as
// it is; the script inserts it with textContent only.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/collectors/scheduler.h"
#include "vigie/core/clock.h"
#include "vigie/net/http.h"
#include "vigie/rules/rule_set.h"

namespace vigie::store {
class Store;
}

namespace vigie::app {

// One embedded file: its bytes and content type (generated web_assets.cpp).
struct WebAsset {
  std::string_view path;  // "/", "/ui/app.js", ...
  std::string_view content_type;
  std::string_view body;
};
const std::vector<WebAsset>& web_assets();

struct WebUiSources {
  struct RulesState {
    rules::RuleSetPtr rules;
    std::string last_reload;
    std::string diagnostics;
  };
  std::string store_path;
  Clock* clock = nullptr;
  std::function<RulesState()> rules;
  std::function<std::vector<collectors::CollectorHealth>()> collectors;
};

class WebUi {
 public:
  explicit WebUi(WebUiSources sources);
  ~WebUi();
  // GET of the page, its assets and /ui/api/*; false for any other request.
  bool handle(const net::HttpRequest& req, const net::Respond& respond);

 private:
  net::HttpResponse api(std::string_view table);

  WebUiSources sources_;
  std::mutex store_mutex_;
  std::unique_ptr<store::Store> store_;  // opened at the first request that needs it
};

}  // namespace vigie::app
