// A fake Heroku Platform API (api-notes section 5): dyno restarts (one or all) and formation
// updates, with the checks the real one makes (Accept: application/vnd.heroku+json; version=3,
// Authorization: Bearer <token>), its error bodies {"id":...,"message":...}, the
// RateLimit-Remaining header and 429 rate_limit on demand. In-process, 127.0.0.1, port 0.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fake_upstream.h"

namespace vigie::testing {

class FakeHeroku {
 public:
  struct Formation {
    int quantity = 1;
    std::string size = "standard-1X";
  };

  explicit FakeHeroku(std::string token = "heroku-fake-token");

  std::string base_url() const { return upstream_.base_url(); }
  std::vector<RecordedRequest> requests() const { return upstream_.requests(); }
  FakeUpstream& upstream() { return upstream_; }

  // An app with its dynos ("web.1", ...) and formation (process type → quantity and size;
  // by default one standard-1X web dyno).
  void add_app(const std::string& name, std::vector<std::string> dynos);
  void add_app(const std::string& name, std::vector<std::string> dynos,
               std::map<std::string, Formation> formation);
  // Restarts applied, in order: "app/web.1", or "app/*" for all dynos.
  std::vector<std::string> restarts() const;
  Formation formation(const std::string& app, const std::string& type) const;

  // The next request gets 429 {"id":"rate_limit",...} with RateLimit-Remaining: 0.
  void rate_limit_next();

 private:
  net::HttpResponse answer(const RecordedRequest& r);

  struct App {
    std::vector<std::string> dynos;
    std::map<std::string, Formation> formation;
  };
  std::string token_;
  std::map<std::string, App> apps_;
  std::vector<std::string> restarts_;
  FakeUpstream upstream_;  // last: its server thread uses the members above
};

}  // namespace vigie::testing
