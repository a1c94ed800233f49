// The read-only web view: embedded assets and the JSON tables behind its pages.
#include "web_ui.h"

#include <nlohmann/json.hpp>

#include "vigie/core/time.h"
#include "vigie/store/store.h"

namespace vigie::app {
namespace {

std::string time_text(std::optional<TimePoint> t) { return t ? format_rfc3339(*t) : std::string(); }

// Event text is attacker-controlled: invalid UTF-8 is replaced, never an exception.
std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

WebUi::WebUi(WebUiSources sources) : sources_(std::move(sources)) {}
WebUi::~WebUi() = default;

bool WebUi::handle(const net::HttpRequest& req, const net::Respond& respond) {
  if (req.method != "GET" && req.method != "HEAD") return false;
  for (const auto& a : web_assets()) {
    if (req.path == a.path) {
      auto r = net::HttpResponse::text(200, std::string(a.body), std::string(a.content_type));
      r.headers.emplace_back("Cache-Control", "no-cache");
      // The page loads nothing from elsewhere and runs only its own script.
      r.headers.emplace_back(
          "Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'");
      r.headers.emplace_back("X-Content-Type-Options", "nosniff");
      respond(std::move(r));
      return true;
    }
  }
  constexpr std::string_view prefix = "/ui/api/";
  if (req.path.rfind(prefix, 0) != 0) return false;
  respond(api(std::string_view(req.path).substr(prefix.size())));
  return true;
}

net::HttpResponse WebUi::api(std::string_view table) {
  nlohmann::json out = nlohmann::json::array();
  if (table == "rules") {
    auto st = sources_.rules ? sources_.rules() : WebUiSources::RulesState{};
    nlohmann::json rules = nlohmann::json::array();
    if (st.rules) {
      for (const auto& r : st.rules->rules()) {
        rules.push_back({{"name", r.name},
                         {"description", r.description},
                         {"severity", r.severity},
                         {"file", r.file},
                         {"enabled", r.enabled}});
      }
    }
    return net::HttpResponse::json(
        200,
        dump({{"last_reload", st.last_reload}, {"diagnostics", st.diagnostics}, {"rules", rules}}));
  }
  if (table != "alerts" && table != "silences" && table != "audit" && table != "collectors") {
    return net::HttpResponse::json_error(404, "not found", "no such table");
  }
  std::lock_guard lock(store_mutex_);
  if (!store_) {
    auto s = store::Store::open(sources_.store_path);
    if (!s) return net::HttpResponse::json_error(503, "store unavailable", s.error().message);
    store_ = std::move(*s);
  }
  if (table == "alerts") {
    auto alerts = store_->alerts_in_state(std::nullopt);
    if (!alerts)
      return net::HttpResponse::json_error(503, "store unavailable", alerts.error().message);
    // Newest first, open ones at most a few hundred: a page, not an export.
    for (auto it = alerts->rbegin(); it != alerts->rend() && out.size() < 300; ++it) {
      const auto& a = *it;
      out.push_back({{"id", a.id},
                     {"rule", a.rule},
                     {"labels", a.labels},
                     {"state", a.state},
                     {"silenced", a.silenced},
                     {"inhibited", a.inhibited},
                     {"count", a.count},
                     {"first_seen", time_text(a.first_seen)},
                     {"last_seen", time_text(a.last_seen)},
                     {"acked_by", a.acked_by},
                     {"resolved_at", time_text(a.resolved_at)}});
    }
  } else if (table == "silences") {
    auto silences = store_->all_silences();
    if (!silences)
      return net::HttpResponse::json_error(503, "store unavailable", silences.error().message);
    const TimePoint now = sources_.clock->system_now();
    for (auto it = silences->rbegin(); it != silences->rend() && out.size() < 300; ++it) {
      const auto& s = *it;
      const bool active = !s.expired && s.starts <= now && now < s.ends;
      out.push_back({{"id", s.id},
                     {"matchers", s.matchers},
                     {"starts", time_text(s.starts)},
                     {"ends", time_text(s.ends)},
                     {"author", s.author},
                     {"comment", s.comment},
                     {"active", active}});
    }
  } else if (table == "audit") {
    store::AuditQuery q;
    q.limit = 300;
    auto rows = store_->audit(q);
    if (!rows) return net::HttpResponse::json_error(503, "store unavailable", rows.error().message);
    for (const auto& e : *rows) {
      out.push_back({{"id", e.id},
                     {"time", time_text(e.time)},
                     {"user", e.user},
                     {"channel", e.channel},
                     {"action", e.action},
                     {"alert_id", e.alert_id},
                     {"args", e.args},
                     {"result", e.result}});
    }
  } else {
    for (const auto& h :
         sources_.collectors ? sources_.collectors() : std::vector<collectors::CollectorHealth>{}) {
      auto cursor = store_->cursor(h.name);
      out.push_back({{"name", h.name},
                     {"type", h.type},
                     {"state", h.state},
                     {"error", h.error},
                     {"polls", h.polls},
                     {"events", h.events},
                     {"errors", h.errors},
                     {"last_success", time_text(h.last_success)},
                     {"cursor", cursor && *cursor ? **cursor : std::string()}});
    }
  }
  return net::HttpResponse::json(200, dump(out));
}

}  // namespace vigie::app
