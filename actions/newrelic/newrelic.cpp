// newrelic.ack and newrelic.close (api-notes 1.3: the REST API v2 incident mutations, as
// newrelic-client-go sends them) and the newrelic provider:
//   PUT {base_url}/v2/alerts_incidents/{id}/acknowledge.json | close.json
// with the key in Api-Key (user key) or X-Api-Key (REST key). REST API v2 reaches its end of
// life on 2027-07-31 (api-notes 1.1); NerdGraph's incident mutations are not covered by the notes.
#include <nlohmann/json.hpp>

#include "../src/provider_http.h"
#include "../src/provider_kinds.h"
#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {

using nlohmann::json;

constexpr std::string_view kService = "NewRelic";

class NewRelicProvider final : public provider::SecretProvider {
 public:
  NewRelicProvider(std::string name, std::string base_url, std::string key, std::string header)
      : name_(std::move(name)),
        base_url_(std::move(base_url)),
        key_(std::move(key)),
        header_(std::move(header)) {}

  const std::string& name() const { return name_; }
  const std::string& base_url() const { return base_url_; }
  net::Headers headers() const { return {{header_, key_}, {"Accept", "application/json"}}; }

 private:
  std::string name_, base_url_, key_, header_;
};

class IncidentUpdate final : public Action {
 public:
  IncidentUpdate(const NewRelicProvider& provider, net::HttpClient& http,
                 net::ClientRequest request, std::string incident, std::string verb)
      : provider_(provider),
        http_(http),
        request_(std::move(request)),
        incident_(std::move(incident)),
        verb_(std::move(verb)) {}

  StepResult run(const RunContext& ctx) override {
    auto response = http_.send(request_);
    if (!response) return provider::transport_failure(kService, response.error());
    if (response->status < 200 || response->status >= 300) {
      return provider::http_failure(kService, *response, ctx.clock.system_now(),
                                    {.reset_header = {},
                                     .rate_limit_fallback = Duration(60'000),
                                     .auth_hint = auth_hint_,
                                     .not_found_hint = "incident " + incident_});
    }
    return Ok{verb_ + " NewRelic incident " + incident_,
              json{{"incident_id", incident_}, {"status", response->status}}};
  }

  std::string describe() const override {
    return request_.method + " " + request_.url.to_string() + " (key header masked)";
  }

 private:
  const NewRelicProvider& provider_;
  net::HttpClient& http_;
  net::ClientRequest request_;
  std::string incident_, verb_;
  std::string auth_hint_ = "check api_key and key_header of [providers." + provider_.name() + "]";
};

ActionFactory::result_type make_incident_update(const ActionRequest& request, ActionContext& ctx,
                                                std::string_view what, std::string verb,
                                                const config::OptionTable& table) {
  if (auto valid = request.options.check(table); !valid) return tl::unexpected(valid.error());
  auto provider = provider::usable_provider<NewRelicProvider>(request, ctx, "newrelic");
  if (!provider) return tl::unexpected(provider.error());
  auto incident = provider::required(request.options, "incident_id");
  if (!incident) return tl::unexpected(incident.error());
  if (incident->find_first_not_of("0123456789") != std::string::npos) {
    return tl::unexpected("incident_id '" + provider::one_line(*incident, 40) +
                          "' is not a number");
  }
  auto url = provider::endpoint((*provider)->base_url(), "v2/alerts_incidents/" + *incident + "/" +
                                                             std::string(what) + ".json");
  if (!url) return tl::unexpected(url.error());
  net::ClientRequest r;
  r.method = "PUT";
  r.url = *url;
  r.headers = (*provider)->headers();
  return std::make_unique<IncidentUpdate>(**provider, ctx.http, std::move(r), *incident,
                                          std::move(verb));
}

}  // namespace

ProviderFactory::result_type make_newrelic_provider(const ProviderSpec& spec,
                                                    ProviderContext& ctx) {
  auto key = provider::read_provider_secret(spec, ctx, "api_key");
  const std::string base = spec.options.string("base_url", "https://api.newrelic.com");
  if (auto url = provider::endpoint(base, ""); !url) return tl::unexpected(url.error());
  auto made = std::make_shared<NewRelicProvider>(spec.name, base, std::move(key.value),
                                                 spec.options.string("key_header", "Api-Key"));
  made->set_secret_error(std::move(key.error));
  return made;
}

ActionFactory::result_type make_newrelic_ack(const ActionRequest& request, ActionContext& ctx) {
  return make_incident_update(request, ctx, "acknowledge", "Acknowledged", newrelic_ack_options());
}

ActionFactory::result_type make_newrelic_close(const ActionRequest& request, ActionContext& ctx) {
  return make_incident_update(request, ctx, "close", "Closed", newrelic_close_options());
}

}  // namespace vigie::actions
