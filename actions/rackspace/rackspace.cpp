// rackspace.reboot (api-notes section 7) and the rackspace provider. The provider owns the
// identity token: POST {identity_url}/tokens with RAX-KSKEY:apiKeyCredentials once, then reused
// by every action (any thread) until shortly before its `expires`; the compute endpoint is looked
// up in the same answer's service catalog by region. A 401 from Cloud Servers (a token revoked or
// expired early) drops the cached token and tries once more with a new one.
//   POST {publicURL}/servers/{id}/action  X-Auth-Token  {"reboot":{"type":"SOFT"|"HARD"}} → 202
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "../src/provider_http.h"
#include "../src/provider_kinds.h"
#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {

using nlohmann::json;

constexpr std::string_view kService = "Rackspace";
// A token is renewed this long before its `expires`, so none expires during a request.
constexpr Duration kRenewBefore{5 * 60'000};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

struct Session {
  std::string token;
  std::string compute_url;
  TimePoint expires;
};

class RackspaceProvider final : public provider::SecretProvider {
 public:
  RackspaceProvider(std::string name, std::string identity_url, std::string username,
                    std::string api_key, std::string region)
      : name_(std::move(name)),
        identity_url_(std::move(identity_url)),
        username_(std::move(username)),
        api_key_(std::move(api_key)),
        region_(upper(std::move(region))) {}

  // A valid session: the cached one, or a new one when there is none, it expires within
  // kRenewBefore, or `renew` (the last one was refused).
  tl::expected<Session, StepResult> session(net::HttpClient& http, TimePoint now, bool renew) {
    std::lock_guard lock(mutex_);
    if (!renew && session_ && now + kRenewBefore < session_->expires) return *session_;
    session_.reset();
    auto fresh = authenticate(http, now);
    if (!fresh) return tl::unexpected(fresh.error());
    session_ = *fresh;
    return *session_;
  }

  const std::string& name() const { return name_; }
  const std::string& region() const { return region_; }

 private:
  tl::expected<Session, StepResult> authenticate(net::HttpClient& http, TimePoint now) {
    auto target = provider::endpoint(identity_url_, "tokens", "identity_url");
    if (!target) return tl::unexpected(StepResult(Fail{target.error(), {}, {}}));
    net::ClientRequest r;
    r.method = "POST";
    r.url = *target;
    r.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    r.body =
        json{{"auth",
              {{"RAX-KSKEY:apiKeyCredentials", {{"username", username_}, {"apiKey", api_key_}}}}}}
            .dump();
    auto response = http.send(r);
    if (!response)
      return tl::unexpected(provider::transport_failure("Rackspace identity", response.error()));
    if (response->status != 200) {
      return tl::unexpected(provider::http_failure(
          "Rackspace identity", *response, now,
          {.reset_header = {},
           .rate_limit_fallback = Duration(60'000),
           .auth_hint = auth_hint_,
           .not_found_hint = "is identity_url of [providers." + name_ + "] right?"}));
    }
    const json j = json::parse(response->body, nullptr, false);
    // Asking for a token changes nothing: an answer that is not identity's JSON (a proxy's error
    // page) is worth another try; JSON without a token is a real refusal.
    if (j.is_discarded()) {
      return tl::unexpected(StepResult(
          Retry{Duration{0}, "Rackspace identity answered 200 with a body that is not JSON"}));
    }
    const json* access = j.is_object() && j.contains("access") ? &j["access"] : nullptr;
    if (!access || !access->is_object() || !access->contains("token") ||
        !(*access)["token"].is_object() ||
        provider::string_field((*access)["token"], "id").empty()) {
      return tl::unexpected(
          StepResult(Fail{"Rackspace identity answered without a token", {}, {}}));
    }
    Session s;
    s.token = provider::string_field((*access)["token"], "id");
    const auto expires = parse_rfc3339(provider::string_field((*access)["token"], "expires"));
    // No readable expiry: use the token for this request only.
    s.expires = expires ? *expires : now;
    std::vector<std::string> regions;
    for (const auto& service : provider::array_field(*access, "serviceCatalog")) {
      if (provider::string_field(service, "type") != "compute") continue;
      // Rackspace lists first-gen servers too; the OpenStack one is cloudServersOpenStack.
      const std::string service_name = provider::string_field(service, "name");
      if (service_name != "cloudServersOpenStack" && service_name != "nova" &&
          service_name != "compute")
        continue;
      for (const auto& ep : provider::array_field(service, "endpoints")) {
        const std::string region = upper(provider::string_field(ep, "region"));
        regions.push_back(region);
        if (region == region_ && s.compute_url.empty())
          s.compute_url = provider::string_field(ep, "publicURL");
      }
    }
    if (s.compute_url.empty()) {
      std::string known;
      for (const auto& r : regions) known += (known.empty() ? "" : ", ") + r;
      return tl::unexpected(StepResult(Fail{
          "no Cloud Servers endpoint for region " + region_ + " in the service catalog (regions: " +
              (known.empty() ? "none" : known) + "): check region of [providers." + name_ + "]",
          {},
          {}}));
    }
    return s;
  }

  const std::string name_, identity_url_, username_, api_key_, region_;
  const std::string auth_hint_ = "check username and api_key of [providers." + name_ + "]";
  std::mutex mutex_;
  std::optional<Session> session_;  // guarded by mutex_
};

class RackspaceReboot final : public Action {
 public:
  RackspaceReboot(RackspaceProvider& provider, net::HttpClient& http, std::string server,
                  std::string type)
      : provider_(provider), http_(http), server_(std::move(server)), type_(std::move(type)) {}

  StepResult run(const RunContext& ctx) override {
    const TimePoint now = ctx.clock.system_now();
    for (int round = 0; round < 2; ++round) {
      auto session = provider_.session(http_, now, round > 0);
      if (!session) return session.error();
      auto target = provider::endpoint(session->compute_url,
                                       "servers/" + net::url_encode(server_) + "/action",
                                       "the catalog's publicURL");
      if (!target) return Fail{target.error(), {}, {}};
      net::ClientRequest r;
      r.method = "POST";
      r.url = *target;
      r.headers = {{"X-Auth-Token", session->token},
                   {"Content-Type", "application/json"},
                   {"Accept", "application/json"}};
      r.body = json{{"reboot", {{"type", type_}}}}.dump();
      auto response = http_.send(r);
      if (!response) return provider::transport_failure(kService, response.error());
      if (response->status == 401 && round == 0) continue;  // the token went stale: a new one, once
      if (response->status == 202 || response->status == 204 || response->status == 200) {
        return Ok{"Rebooted server " + server_ + " (" + type_ + ") in " + provider_.region() +
                      " (Rackspace answered " + std::to_string(response->status) + ")",
                  json{{"server_id", server_},
                       {"type", type_},
                       {"region", provider_.region()},
                       {"status", response->status}}};
      }
      if (response->status == 409) {
        return Fail{"Rackspace refused the " + type_ + " reboot of server " + server_ +
                        " (409): " + provider::error_text(response->body) +
                        ". The server is already rebooting or not ACTIVE; wait for it to settle" +
                        (type_ == "SOFT" ? ", or use reboot_type = \"HARD\"" : ""),
                    {},
                    json{{"status", 409}, {"server_id", server_}}};
      }
      return provider::http_failure(
          kService, *response, now,
          {.reset_header = {},
           .rate_limit_fallback = Duration(60'000),
           .auth_hint = "the token was refused twice: check the account's roles",
           .not_found_hint = "server " + server_ + " in " + provider_.region()});
    }
    return Fail{"Rackspace refused a fresh token", {}, {}};
  }

  std::string describe() const override {
    return "POST {" + provider_.region() + " Cloud Servers}/servers/" + server_ +
           "/action {\"reboot\":{\"type\":\"" + type_ + "\"}} (X-Auth-Token: ***)";
  }

 private:
  RackspaceProvider& provider_;
  net::HttpClient& http_;
  std::string server_, type_;
};

}  // namespace

ProviderFactory::result_type make_rackspace_provider(const ProviderSpec& spec,
                                                     ProviderContext& ctx) {
  auto key = provider::read_provider_secret(spec, ctx, "api_key");
  const std::string identity =
      spec.options.string("identity_url", "https://identity.api.rackspacecloud.com/v2.0");
  if (auto url = provider::endpoint(identity, "tokens", "identity_url"); !url)
    return tl::unexpected(url.error());
  auto made =
      std::make_shared<RackspaceProvider>(spec.name, identity, spec.options.string("username"),
                                          std::move(key.value), spec.options.string("region"));
  made->set_secret_error(std::move(key.error));
  return made;
}

ActionFactory::result_type make_rackspace_reboot(const ActionRequest& request, ActionContext& ctx) {
  if (auto valid = request.options.check(rackspace_reboot_options()); !valid)
    return tl::unexpected(valid.error());
  auto provider = provider::usable_provider<RackspaceProvider>(request, ctx, "rackspace");
  if (!provider) return tl::unexpected(provider.error());
  auto server = provider::required(request.options, "server_id");
  if (!server) return tl::unexpected(server.error());
  const std::string type = upper(request.options.string("reboot_type", "SOFT"));
  if (type != "SOFT" && type != "HARD") {
    return tl::unexpected("reboot_type '" + provider::one_line(type, 20) + "' is not SOFT or HARD");
  }
  return std::make_unique<RackspaceReboot>(**provider, ctx.http, *server, type);
}

}  // namespace vigie::actions
