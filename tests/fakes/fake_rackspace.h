// A fake Rackspace cloud (api-notes section 7): identity v2.0 (POST /v2.0/tokens with
// RAX-KSKEY:apiKeyCredentials → a token with an `expires` time, its tenant, and a service catalog
// whose cloudServersOpenStack endpoints are per region) and Cloud Servers (POST
// {publicURL}/servers/{id}/action {"reboot":{"type":"SOFT"|"HARD"}} → 202, X-Auth-Token checked).
// Faults use the Nova shape {"<faultName>":{"message","code"}}: 401 unauthorized, 404
// itemNotFound, 409 conflictingRequest (a server already rebooting, or SOFT on a server that is
// not ACTIVE). Tokens can be revoked to force re-authentication; token requests are counted.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "fake_upstream.h"

namespace vigie::testing {

class FakeRackspace {
 public:
  FakeRackspace(std::string username = "ops", std::string api_key = "rax-fake-key",
                std::string tenant = "123456");

  // The value of [providers.rackspace] identity_url: "http://127.0.0.1:<port>/v2.0".
  std::string identity_url() const { return upstream_.base_url() + "/v2.0"; }
  // The compute endpoint the catalog lists for `region` ("DFW", "ORD").
  std::string compute_url(const std::string& region) const;
  std::vector<RecordedRequest> requests() const { return upstream_.requests(); }
  FakeUpstream& upstream() { return upstream_; }

  // The `expires` of tokens issued from now on (RFC 3339, e.g. "2026-01-01T01:00:00.000Z").
  void set_token_expires(std::string expires);
  // Every token issued so far is refused from now on (401), as after an expiry on the server.
  void revoke_tokens();
  int token_requests() const;

  // A server in `region` with its status (ACTIVE, REBOOT, HARD_REBOOT, ...).
  void add_server(const std::string& region, const std::string& id, std::string status = "ACTIVE");
  void set_status(const std::string& id, std::string status);
  // Reboots accepted, in order: "REGION/id:TYPE".
  std::vector<std::string> reboots() const;

 private:
  net::HttpResponse answer(const RecordedRequest& r);
  net::HttpResponse tokens(const RecordedRequest& r);
  net::HttpResponse compute(const RecordedRequest& r, const std::vector<std::string>& seg);

  struct Server {
    std::string region, status;
  };
  std::string username_, api_key_, tenant_;
  std::string expires_ = "2099-01-01T00:00:00.000Z";
  std::set<std::string> valid_tokens_;
  int token_requests_ = 0;
  std::map<std::string, Server> servers_;
  std::vector<std::string> reboots_;
  FakeUpstream upstream_;  // last: its server thread uses the members above
};

}  // namespace vigie::testing
