// A fake Sentry for tests: in-process, 127.0.0.1, port 0. It serves the organization issues
// endpoint and the legacy project issues endpoint with the documented item shape (`count` as a
// string), `Link` pagination with results="true"/"false" and opaque cursors, the issue by id, and
// the `PUT` issue update (status resolved/unresolved/ignored) so a test can resolve an issue the
// way a person in Sentry's UI would. On demand it answers 429 with X-Sentry-Rate-Limit-* headers
// (no Retry-After, as Sentry), 5xx, slow responses, truncated and malformed JSON. Every request is
// recorded. (api-notes section 2.)
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigie/net/http.h"

namespace vigie::testing {

class FakeSentry {
 public:
  struct Request {
    std::string method;
    std::string path;
    std::string query;  // raw, after '?'
    net::Headers headers;
    std::string body;
    int status = 0;  // what the fake answered

    // Decoded values of a query parameter (repeatable ones such as `project`).
    std::vector<std::string> params(const std::string& name) const;
    std::optional<std::string> param(const std::string& name) const;
    bool is_list() const;  // an issues listing (organization or project endpoint)
  };

  explicit FakeSentry(std::string token = "sntrys-fake-token", std::string organization = "acme");
  ~FakeSentry();
  FakeSentry(const FakeSentry&) = delete;
  FakeSentry& operator=(const FakeSentry&) = delete;

  // http://127.0.0.1:<port> — the value of base_url (the API lives under /api/0/).
  std::string base_url() const;
  std::uint16_t port() const;

  // --- issues ----------------------------------------------------------------------------------
  // Adds an issue (or replaces the one with its id). Missing fields get documented defaults:
  // shortId, title, culprit, level "error", status "unresolved", substatus "ongoing", count "1"
  // (string), userCount 1, firstSeen/lastSeen, permalink, project {id, name, slug} from `project`.
  void add_issue(nlohmann::json issue, const std::string& project = "shop-api");
  // `n` more events on an issue: count grows (kept a string), lastSeen becomes `last_seen`.
  void add_events(const std::string& id, std::int64_t n, const std::string& last_seen);
  // Sets one field of an issue as Sentry would report it.
  void set_field(const std::string& id, const std::string& field, nlohmann::json value);
  void remove_issue(const std::string& id);
  std::optional<nlohmann::json> issue(const std::string& id) const;
  // Items per listed page (Sentry's default is 100).
  void set_page_size(std::size_t n);

  // --- misbehaviour, queued one per GET in order -----------------------------------------------
  // `times` answers of `status` with {"detail": ...}.
  void fail_next(int status, int times = 1);
  // 429 with X-Sentry-Rate-Limit-Limit/-Remaining 0/-Reset (epoch seconds) and no Retry-After.
  void rate_limit_next(std::int64_t reset_epoch_seconds);
  // 200 with this body instead of the page.
  void malformed_next(std::string body);
  // 200 with the real page cut in the middle (valid length, broken JSON).
  void truncate_next();
  // The real answer, `delay` late.
  void delay_next(std::chrono::milliseconds delay);
  // X-Sentry-Rate-Limit-* sent on every answer with this Remaining (unset: none, as self-hosted).
  void set_rate_limit_remaining(std::optional<std::int64_t> remaining,
                                std::int64_t reset_epoch_seconds = 0);

  // --- what was asked --------------------------------------------------------------------------
  std::vector<Request> requests() const;
  std::size_t list_requests() const;
  // Waits until at least `n` listings were answered (any status); false after `timeout`.
  bool wait_for_list_requests(std::size_t n, std::chrono::milliseconds timeout) const;
  std::optional<Request> wait_for_request(const std::function<bool(const Request&)>& pred,
                                          std::chrono::milliseconds timeout) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::testing
