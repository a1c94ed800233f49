// The fake Rackspace identity and Cloud Servers endpoints.
#include "fake_rackspace.h"

#include <nlohmann/json.hpp>

#include <cctype>

namespace vigie::testing {
namespace {

using nlohmann::json;

net::HttpResponse fault(int status, const std::string& name, const std::string& message) {
  return net::HttpResponse::json(status,
                                 json{{name, {{"message", message}, {"code", status}}}}.dump());
}

}  // namespace

FakeRackspace::FakeRackspace(std::string username, std::string api_key, std::string tenant)
    : username_(std::move(username)),
      api_key_(std::move(api_key)),
      tenant_(std::move(tenant)),
      upstream_("fake-rackspace", [this](const RecordedRequest& r) { return answer(r); }) {}

std::string FakeRackspace::compute_url(const std::string& region) const {
  return upstream_.base_url() + "/compute/" + region + "/v2/" + tenant_;
}

void FakeRackspace::set_token_expires(std::string expires) {
  upstream_.locked([&] { expires_ = std::move(expires); });
}

void FakeRackspace::revoke_tokens() {
  upstream_.locked([&] { valid_tokens_.clear(); });
}

int FakeRackspace::token_requests() const {
  int n = 0;
  upstream_.locked([&] { n = token_requests_; });
  return n;
}

void FakeRackspace::add_server(const std::string& region, const std::string& id,
                               std::string status) {
  upstream_.locked([&] { servers_[id] = Server{region, std::move(status)}; });
}

void FakeRackspace::set_status(const std::string& id, std::string status) {
  upstream_.locked([&] { servers_.at(id).status = std::move(status); });
}

std::vector<std::string> FakeRackspace::reboots() const {
  std::vector<std::string> out;
  upstream_.locked([&] { out = reboots_; });
  return out;
}

net::HttpResponse FakeRackspace::answer(const RecordedRequest& r) {
  const auto seg = path_segments(r.path);
  if (r.method == "POST" && seg.size() == 2 && seg[0] == "v2.0" && seg[1] == "tokens")
    return tokens(r);
  if (seg.size() >= 3 && seg[0] == "compute") return compute(r, seg);
  return fault(404, "itemNotFound", "The resource could not be found.");
}

net::HttpResponse FakeRackspace::tokens(const RecordedRequest& r) {
  ++token_requests_;
  const json body = json::parse(r.body, nullptr, false);
  const json creds =
      body.is_object() ? body.value(json::json_pointer("/auth/RAX-KSKEY:apiKeyCredentials"), json())
                       : json();
  if (!creds.is_object()) {
    return fault(400, "badRequest", "Invalid json request body");
  }
  if (creds.value("username", "") != username_ || creds.value("apiKey", "") != api_key_) {
    return fault(401, "unauthorized", "Username or api key is invalid.");
  }
  const std::string token = "rax-token-" + std::to_string(token_requests_);
  valid_tokens_.insert(token);
  json endpoints = json::array();
  for (const char* region : {"DFW", "ORD", "IAD"}) {
    endpoints.push_back(
        {{"region", region},
         {"tenantId", tenant_},
         {"publicURL", compute_url(region)},
         {"versionInfo", "https://" + std::string(region) + ".servers.api.rackspacecloud.com/v2"},
         {"versionId", "2"}});
  }
  json catalog = json::array();
  // Another service first, so a client must look the compute one up, not take the first.
  catalog.push_back({{"name", "cloudFiles"},
                     {"type", "object-store"},
                     {"endpoints",
                      {{{"region", "DFW"},
                        {"tenantId", "MossoCloudFS_x"},
                        {"publicURL", upstream_.base_url() + "/files"}}}}});
  catalog.push_back(
      {{"name", "cloudServersOpenStack"}, {"type", "compute"}, {"endpoints", endpoints}});
  json access{{"access",
               {{"token",
                 {{"id", token},
                  {"expires", expires_},
                  {"tenant", {{"id", tenant_}, {"name", tenant_}}},
                  {"RAX-AUTH:authenticatedBy", {"APIKEY"}}}},
                {"serviceCatalog", catalog},
                {"user", {{"id", "10000"}, {"name", username_}, {"roles", json::array()}}}}}};
  return net::HttpResponse::json(200, access.dump());
}

net::HttpResponse FakeRackspace::compute(const RecordedRequest& r,
                                         const std::vector<std::string>& seg) {
  // /compute/{region}/v2/{tenant}/servers/{id}/action
  const auto token = r.header("X-Auth-Token");
  if (!token || !valid_tokens_.count(*token)) {
    return fault(401, "unauthorized",
                 "This server could not verify that you are authorized to access the document you "
                 "requested.");
  }
  if (seg.size() != 7 || seg[2] != "v2" || seg[3] != tenant_ || seg[4] != "servers" ||
      seg[6] != "action" || r.method != "POST") {
    return fault(404, "itemNotFound", "The resource could not be found.");
  }
  auto it = servers_.find(seg[5]);
  if (it == servers_.end() || it->second.region != seg[1]) {
    return fault(404, "itemNotFound", "Instance could not be found");
  }
  const json body = json::parse(r.body, nullptr, false);
  const std::string type =
      body.is_object() ? body.value(json::json_pointer("/reboot/type"), json("")).get<std::string>()
                       : "";
  if (type != "SOFT" && type != "HARD") {
    return fault(400, "badRequest",
                 "Argument 'type' for reboot must be a string value 'HARD' or 'SOFT'");
  }
  Server& server = it->second;
  if (server.status == "REBOOT" || server.status == "HARD_REBOOT" ||
      (type == "SOFT" && server.status != "ACTIVE")) {
    std::string state = server.status == "REBOOT" || server.status == "HARD_REBOOT"
                            ? "task_state rebooting"
                            : "vm_state " + server.status;
    for (auto& c : state) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return fault(409, "conflictingRequest",
                 "Cannot 'reboot' instance " + seg[5] + " while it is in " + state);
  }
  reboots_.push_back(seg[1] + "/" + seg[5] + ":" + type);
  net::HttpResponse resp;
  resp.status = 202;
  resp.content_type = "text/html; charset=UTF-8";
  return resp;
}

}  // namespace vigie::testing
