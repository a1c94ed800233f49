// sentry.resolve and sentry.ignore (api-notes 2.3) and the sentry provider:
//   PUT {base_url}/api/0/organizations/{org}/issues/{issue_id}/  Authorization: Bearer <token>
//   {"status":"resolved"}  |  {"status":"ignored"[, "statusDetails":{"ignoreDuration": minutes}]}
// 200 returns the issue; 401/403/404 {"detail": ...}; 429 until X-Sentry-Rate-Limit-Reset.
#include <nlohmann/json.hpp>

#include "../src/provider_http.h"
#include "../src/provider_kinds.h"
#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {

using nlohmann::json;

constexpr std::string_view kService = "Sentry";

class SentryProvider final : public provider::SecretProvider {
 public:
  SentryProvider(std::string name, std::string base_url, std::string token,
                 std::string organization)
      : name_(std::move(name)),
        base_url_(std::move(base_url)),
        token_(std::move(token)),
        organization_(std::move(organization)) {}

  const std::string& name() const { return name_; }
  const std::string& base_url() const { return base_url_; }
  const std::string& organization() const { return organization_; }
  std::string authorization() const { return "Bearer " + token_; }

 private:
  std::string name_, base_url_, token_, organization_;
};

class SentryUpdate final : public Action {
 public:
  SentryUpdate(const SentryProvider& provider, net::HttpClient& http, net::ClientRequest request,
               std::string issue, std::string verb)
      : provider_(provider),
        http_(http),
        request_(std::move(request)),
        issue_(std::move(issue)),
        verb_(std::move(verb)) {}

  StepResult run(const RunContext& ctx) override {
    auto response = http_.send(request_);
    if (!response) return provider::transport_failure(kService, response.error());
    if (response->status != 200) {
      return provider::http_failure(
          kService, *response, ctx.clock.system_now(),
          {.reset_header = "X-Sentry-Rate-Limit-Reset",
           .rate_limit_fallback = Duration(60'000),
           .auth_hint = auth_hint_,
           .not_found_hint = "issue " + issue_ + " in organization " + organization()});
    }
    const json issue = json::parse(response->body, nullptr, false);
    json details{{"issue_id", issue_}, {"status", 200}};
    std::string label = "Sentry issue " + issue_;
    if (issue.is_object()) {
      details["issue_status"] = provider::string_field(issue, "status");  // untrusted: any type
      if (issue.contains("shortId") && issue["shortId"].is_string()) {
        label = "Sentry issue " + issue["shortId"].get<std::string>();
      }
    }
    return Ok{verb_ + " " + label, std::move(details)};
  }

  std::string describe() const override {
    return request_.method + " " + request_.url.to_string() + " " + request_.body +
           " (Authorization: Bearer ***)";
  }

 private:
  std::string organization() const {
    // /api/0/organizations/{org}/issues/...
    const auto& t = request_.url.target;
    const auto start = t.find("/organizations/");
    if (start == std::string::npos) return {};
    const auto from = start + 15;
    return net::url_decode(t.substr(from, t.find('/', from) - from));
  }

  const SentryProvider& provider_;
  net::HttpClient& http_;
  net::ClientRequest request_;
  std::string issue_, verb_;
  std::string auth_hint_ =
      "check the token of [providers." + provider_.name() + "]: it needs event:write";
};

ActionFactory::result_type make_update(const ActionRequest& request, ActionContext& ctx, json body,
                                       std::string verb, const config::OptionTable& table) {
  if (auto valid = request.options.check(table); !valid) return tl::unexpected(valid.error());
  auto provider = provider::usable_provider<SentryProvider>(request, ctx, "sentry");
  if (!provider) return tl::unexpected(provider.error());
  auto issue = provider::required(request.options, "issue_id");
  if (!issue) return tl::unexpected(issue.error());
  std::string org = request.options.string("organization");
  if (org.empty()) org = (*provider)->organization();
  if (org.empty()) {
    return tl::unexpected("no organization: set organization in the action or in [providers." +
                          (*provider)->name() + "]");
  }
  auto url =
      provider::endpoint((*provider)->base_url(), "api/0/organizations/" + net::url_encode(org) +
                                                      "/issues/" + net::url_encode(*issue) + "/");
  if (!url) return tl::unexpected(url.error());
  net::ClientRequest r;
  r.method = "PUT";
  r.url = *url;
  r.headers = {{"Authorization", (*provider)->authorization()},
               {"Content-Type", "application/json"}};
  r.body = body.dump();
  return std::make_unique<SentryUpdate>(**provider, ctx.http, std::move(r), *issue,
                                        std::move(verb));
}

}  // namespace

ProviderFactory::result_type make_sentry_provider(const ProviderSpec& spec, ProviderContext& ctx) {
  auto token = provider::read_provider_secret(spec, ctx, "token");
  const std::string base = spec.options.string("base_url", "https://sentry.io");
  if (auto url = provider::endpoint(base, ""); !url) return tl::unexpected(url.error());
  auto made = std::make_shared<SentryProvider>(spec.name, base, std::move(token.value),
                                               spec.options.string("organization"));
  made->set_secret_error(std::move(token.error));
  return made;
}

ActionFactory::result_type make_sentry_resolve(const ActionRequest& request, ActionContext& ctx) {
  return make_update(request, ctx, json{{"status", "resolved"}}, "Resolved",
                     sentry_resolve_options());
}

ActionFactory::result_type make_sentry_ignore(const ActionRequest& request, ActionContext& ctx) {
  json body{{"status", "ignored"}};
  const Duration for_how_long = request.options.duration("ignore_duration", Duration(0));
  if (for_how_long.count() > 0) {
    // Sentry counts in minutes; anything shorter still ignores for one.
    body["statusDetails"] = {
        {"ignoreDuration", std::max<std::int64_t>(1, for_how_long.count() / 60'000)}};
  }
  return make_update(request, ctx, std::move(body), "Ignored", sentry_ignore_options());
}

}  // namespace vigie::actions
