// A fake DigitalOcean API (api-notes section 6): POST /v2/droplets/{id}/actions answers 201 with
// an action `in-progress`; GET /v2/actions/{id} (or /v2/droplets/{d}/actions/{id}) reports it
// `in-progress` for a set number of polls, then `completed` (or `errored`). Bearer token checked,
// ratelimit-* headers on every answer, 429 too_many_requests and error bodies {"id","message"}.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "fake_upstream.h"

namespace vigie::testing {

class FakeDigitalOcean {
 public:
  explicit FakeDigitalOcean(std::string token = "do-fake-token");

  std::string base_url() const { return upstream_.base_url(); }
  std::vector<RecordedRequest> requests() const { return upstream_.requests(); }
  FakeUpstream& upstream() { return upstream_; }

  void add_droplet(const std::string& id);
  // Actions created from now on stay in-progress for `polls` status requests, then end with
  // `outcome` ("completed" or "errored").
  void finish_after(int polls, std::string outcome = "completed");
  // Status requests answered so far, all actions together.
  int polls() const;
  // "droplet_id:type" per action created, in order.
  std::vector<std::string> actions() const;

  // The next request gets 429 too_many_requests with ratelimit-remaining 0 and ratelimit-reset
  // `reset_epoch`; retry-after too when given.
  void rate_limit_next(long long reset_epoch, std::optional<int> retry_after = std::nullopt);

 private:
  net::HttpResponse answer(const RecordedRequest& r);

  struct Action {
    std::string id, droplet, type, outcome;
    int polls_left = 0;
  };
  std::string token_;
  std::set<std::string> droplets_;
  int polls_until_done_ = 2;
  std::string outcome_ = "completed";
  int polls_ = 0;
  long long next_id_ = 1'900'000'000;
  std::map<std::string, Action> by_id_;
  std::vector<std::string> created_;
  FakeUpstream upstream_;  // last: its server thread uses the members above
};

}  // namespace vigie::testing
