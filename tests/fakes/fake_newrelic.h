// A fake NewRelic for tests: in-process, 127.0.0.1, port 0. It serves REST v2
// GET /v2/alerts_violations.json (only_open, start_date on opened_at, page; Link rel="next" only,
// as NewRelic sends it there) and GET /v2/applications.json (Link rel="next" and rel="last"), and
// NerdGraph POST /graphql (NRQL results per query text, or GraphQL errors), with the documented
// payloads (api-notes section 1). It checks the key header (Api-Key or X-Api-Key for REST,
// API-Key for NerdGraph), records every request, and misbehaves on demand: 429 with or without
// Retry-After, 5xx, slow answers, truncated and malformed JSON bodies.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigie/net/http.h"

namespace vigie::testing {

class FakeNewRelic {
 public:
  struct Request {
    std::string method, path, query;
    net::Headers headers;
    std::string body;
    int status = 0;  // what the fake answered
  };

  // What the next request(s) to a path get instead of (or on top of) the normal answer.
  struct Fault {
    int status = 0;                      // 0: the normal status; 429, 500, 503, ...
    std::optional<int> retry_after;      // seconds, with 429
    bool truncated = false;              // the normal body cut in half
    bool malformed = false;              // a body that is not JSON
    std::chrono::milliseconds delay{0};  // answer this late
  };

  explicit FakeNewRelic(std::string api_key = "NRAK-FAKEKEY");
  ~FakeNewRelic();
  FakeNewRelic(const FakeNewRelic&) = delete;
  FakeNewRelic& operator=(const FakeNewRelic&) = delete;

  // http://127.0.0.1:<port> — the value of base_url (the REST paths add /v2/...).
  std::string base_url() const;
  // http://127.0.0.1:<port>/graphql
  std::string graphql_url() const;

  // --- data ----------------------------------------------------------------------------------
  // A violation as documented: id, label, policy_name, condition_name, priority, opened_at (ms),
  // entity{...}, links{...}; fields not given get plausible values. No closed_at: open.
  void add_violation(std::int64_t id, std::int64_t opened_at_ms,
                     nlohmann::json fields = nlohmann::json::object());
  void close_violation(std::int64_t id, std::int64_t closed_at_ms);
  void remove_violation(std::int64_t id);  // NewRelic stops listing it at all
  // An application: id, name, health_status, reporting, application_summary{...}.
  void set_application(std::int64_t id, const std::string& name, const std::string& health_status,
                       nlohmann::json summary, bool reporting = true);
  // Rows returned for an NRQL text (exact match); an unknown query gets a GraphQL error.
  void set_nrql(const std::string& nrql, nlohmann::json rows);
  // The scheme://host:port Link headers point to (default: the fake's own), to check that a
  // client never follows pagination to another host with its key.
  void set_link_origin(std::string origin);
  // Items per page of either listing (NewRelic's own is larger; tests paginate with small ones).
  void set_page_size(std::size_t n);

  // --- misbehaviour --------------------------------------------------------------------------
  // The next `times` requests whose path is `path` ("/v2/alerts_violations.json",
  // "/v2/applications.json", "/graphql", or "*" for any) get `fault`. Queued in order.
  void fail_next(const std::string& path, Fault fault, int times = 1);

  std::vector<Request> requests() const;
  std::size_t count(const std::string& path) const;
  void clear_requests();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::testing
