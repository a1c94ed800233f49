// A minimal fake of Sentry's issue update endpoint (api-notes 2.3) for the sentry.resolve and
// sentry.ignore actions: PUT /api/0/organizations/{org}/issues/{id}/ with Authorization: Bearer,
// a JSON body whose `status` (and `statusDetails`, `substatus`) it applies; 200 with the issue,
// 404/403/401 {"detail": ...}, and 429 with X-Sentry-Rate-Limit-Reset on demand.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fake_upstream.h"

namespace vigie::testing {

class FakeSentryApi {
 public:
  explicit FakeSentryApi(std::string token = "sentry-fake-token", std::string org = "acme");

  // The value of [providers.sentry] base_url: "http://127.0.0.1:<port>".
  std::string base_url() const { return upstream_.base_url(); }
  std::vector<RecordedRequest> requests() const { return upstream_.requests(); }
  FakeUpstream& upstream() { return upstream_; }

  void add_issue(const std::string& id, std::string status = "unresolved");
  std::string status(const std::string& id) const;
  // Requests with this token get 403 (a token without event:write).
  void set_read_only_token(std::string token);
  // The next request gets 429 with X-Sentry-Rate-Limit-Reset: reset_epoch (no Retry-After).
  void rate_limit_next(long long reset_epoch);

 private:
  net::HttpResponse answer(const RecordedRequest& r);

  std::string token_, org_, read_only_token_;
  std::map<std::string, std::string> issues_;  // id → status
  FakeUpstream upstream_;                      // last: its server thread uses the members above
};

}  // namespace vigie::testing
