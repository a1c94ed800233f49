// A minimal fake of NewRelic REST API v2's incident mutations (api-notes 1.3, from
// newrelic-client-go): PUT /v2/alerts_incidents/{id}/acknowledge.json and .../close.json with
// the key in Api-Key or X-Api-Key; 200 {"incident":{...}}. The error body is not in the notes:
// the fake answers REST v2's usual {"error":{"title":...}} (unverified, [U]).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fake_upstream.h"

namespace vigie::testing {

class FakeNewRelicApi {
 public:
  explicit FakeNewRelicApi(std::string api_key = "NRAK-FAKE");

  // The value of [providers.newrelic] base_url: "http://127.0.0.1:<port>".
  std::string base_url() const { return upstream_.base_url(); }
  std::vector<RecordedRequest> requests() const { return upstream_.requests(); }
  FakeUpstream& upstream() { return upstream_; }

  // An incident: "open", "acknowledged" or "closed".
  void add_incident(const std::string& id, std::string state = "open");
  std::string state(const std::string& id) const;

 private:
  net::HttpResponse answer(const RecordedRequest& r);

  std::string api_key_;
  std::map<std::string, std::string> incidents_;
  FakeUpstream upstream_;  // last: its server thread uses the members above
};

}  // namespace vigie::testing
