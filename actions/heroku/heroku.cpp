// heroku.restart and heroku.scale over the Platform API (api-notes section 5), and the heroku
// provider holding the base URL and token they share.
//   restart one:  DELETE /apps/{app}/dynos/{dyno}     restart all: DELETE /apps/{app}/dynos
//   scale:        PATCH  /apps/{app}/formation/{type} {"quantity": N, "size": "..."}
// with Accept: application/vnd.heroku+json; version=3 and Authorization: Bearer <token>.
#include <nlohmann/json.hpp>

#include <charconv>

#include "../src/provider_http.h"
#include "../src/provider_kinds.h"
#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {

using nlohmann::json;

constexpr std::string_view kService = "Heroku";
constexpr const char* kAccept = "application/vnd.heroku+json; version=3";

class HerokuProvider final : public provider::SecretProvider {
 public:
  HerokuProvider(std::string name, std::string base_url, std::string token)
      : name_(std::move(name)), base_url_(std::move(base_url)), token_(std::move(token)) {}

  const std::string& base_url() const { return base_url_; }
  net::Headers headers() const {
    return {{"Accept", kAccept}, {"Authorization", "Bearer " + token_}};
  }
  std::string auth_hint() const { return "check the token of [providers." + name_ + "]"; }

 private:
  std::string name_, base_url_, token_;
};

// One request to the Platform API; what differs between the presets is the request and the
// words of the result.
class HerokuAction final : public Action {
 public:
  HerokuAction(const HerokuProvider& provider, net::HttpClient& http, net::ClientRequest request,
               std::string done, std::string not_found, json details)
      : provider_(provider),
        http_(http),
        request_(std::move(request)),
        done_(std::move(done)),
        not_found_(std::move(not_found)),
        details_(std::move(details)) {}

  StepResult run(const RunContext& ctx) override {
    auto response = http_.send(request_);
    if (!response) return provider::transport_failure(kService, response.error());
    if (response->status < 200 || response->status >= 300) {
      const std::string hint = provider_.auth_hint();
      return provider::http_failure(kService, *response, ctx.clock.system_now(),
                                    {.reset_header = {},
                                     .rate_limit_fallback = Duration(60'000),
                                     .auth_hint = hint,
                                     .not_found_hint = not_found_});
    }
    json details = details_;
    details["status"] = response->status;
    if (auto remaining = response->header("RateLimit-Remaining"))
      details["ratelimit_remaining"] = *remaining;
    const json body = json::parse(response->body, nullptr, false);
    if (body.is_object() && body.contains("quantity")) details["formation"] = body;
    return Ok{done_ + " (Heroku answered " + std::to_string(response->status) + ")",
              std::move(details)};
  }

  std::string describe() const override {
    std::string out = request_.method + " " + request_.url.to_string();
    if (!request_.body.empty()) out += " " + request_.body;
    return out + " (Authorization: Bearer ***)";
  }

 private:
  const HerokuProvider& provider_;
  net::HttpClient& http_;
  net::ClientRequest request_;
  std::string done_, not_found_;
  json details_;
};

tl::expected<HerokuProvider*, std::string> provider_of(const ActionRequest& request,
                                                       ActionContext& ctx) {
  return provider::usable_provider<HerokuProvider>(request, ctx, "heroku");
}

}  // namespace

ProviderFactory::result_type make_heroku_provider(const ProviderSpec& spec, ProviderContext& ctx) {
  auto token = provider::read_provider_secret(spec, ctx, "token");
  const std::string base = spec.options.string("base_url", "https://api.heroku.com");
  if (auto url = provider::endpoint(base, ""); !url) return tl::unexpected(url.error());
  auto made = std::make_shared<HerokuProvider>(spec.name, base, std::move(token.value));
  made->set_secret_error(std::move(token.error));
  return made;
}

ActionFactory::result_type make_heroku_restart(const ActionRequest& request, ActionContext& ctx) {
  if (auto valid = request.options.check(heroku_restart_options()); !valid)
    return tl::unexpected(valid.error());
  auto provider = provider_of(request, ctx);
  if (!provider) return tl::unexpected(provider.error());
  auto app = provider::required(request.options, "app");
  if (!app) return tl::unexpected(app.error());
  const std::string dyno = request.options.string("dyno");
  std::string path = "apps/" + net::url_encode(*app) + "/dynos";
  if (!dyno.empty()) path += "/" + net::url_encode(dyno);
  auto url = provider::endpoint((*provider)->base_url(), path);
  if (!url) return tl::unexpected(url.error());
  net::ClientRequest r;
  r.method = "DELETE";
  r.url = *url;
  r.headers = (*provider)->headers();
  std::string done =
      dyno.empty() ? "Restarted all dynos of " + *app : "Restarted dyno " + dyno + " of " + *app;
  std::string not_found =
      dyno.empty() ? "app '" + *app + "'" : "app '" + *app + "' or dyno '" + dyno + "'";
  json details{{"app", *app}, {"dyno", dyno.empty() ? json(nullptr) : json(dyno)}};
  return std::make_unique<HerokuAction>(**provider, ctx.http, std::move(r), std::move(done),
                                        std::move(not_found), std::move(details));
}

ActionFactory::result_type make_heroku_scale(const ActionRequest& request, ActionContext& ctx) {
  if (auto valid = request.options.check(heroku_scale_options()); !valid)
    return tl::unexpected(valid.error());
  auto provider = provider_of(request, ctx);
  if (!provider) return tl::unexpected(provider.error());
  auto app = provider::required(request.options, "app");
  if (!app) return tl::unexpected(app.error());
  const std::string type = request.options.string("process_type", "web");
  const std::string quantity_text = request.options.string("quantity");
  const std::string size = request.options.string("size");
  if (quantity_text.empty() && size.empty()) {
    return tl::unexpected(std::string("heroku.scale needs quantity, size or both"));
  }
  json body = json::object();
  if (!quantity_text.empty()) {
    int quantity = -1;
    auto [ptr, ec] = std::from_chars(quantity_text.data(),
                                     quantity_text.data() + quantity_text.size(), quantity);
    if (ec != std::errc() || ptr != quantity_text.data() + quantity_text.size() || quantity < 0) {
      return tl::unexpected("quantity '" + provider::one_line(quantity_text, 40) +
                            "' is not a whole number of dynos");
    }
    body["quantity"] = quantity;
  }
  if (!size.empty()) body["size"] = size;
  auto url = provider::endpoint((*provider)->base_url(), "apps/" + net::url_encode(*app) +
                                                             "/formation/" + net::url_encode(type));
  if (!url) return tl::unexpected(url.error());
  net::ClientRequest r;
  r.method = "PATCH";
  r.url = *url;
  r.headers = (*provider)->headers();
  r.headers["Content-Type"] = "application/json";
  r.body = body.dump();
  std::string done = "Scaled " + *app + " " + type + " to";
  if (body.contains("quantity")) done += " " + quantity_text;
  if (body.contains("size")) done += (body.contains("quantity") ? " × " : " ") + size;
  json details{{"app", *app}, {"process_type", type}};
  return std::make_unique<HerokuAction>(**provider, ctx.http, std::move(r), std::move(done),
                                        "app '" + *app + "' or process type '" + type + "'",
                                        std::move(details));
}

}  // namespace vigie::actions
