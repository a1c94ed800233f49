// digitalocean.reboot and digitalocean.power_cycle (api-notes section 6): POST
// /v2/droplets/{id}/actions {"type": ...} → 201 with an action `in-progress`, then
// GET /v2/actions/{action_id} until it is `completed` (Ok) or `errored` (Fail). The waiting
// belongs to the runner: each poll is one step returning Pending with the action id and when the
// wait began, so no thread sleeps and a FakeClock drives the loop in tests; poll_timeout bounds
// it. A failure while polling (429, 5xx, a dropped connection) polls again later instead of
// asking the runner to Retry, which would start a second reboot.
#include <nlohmann/json.hpp>

#include "../src/provider_http.h"
#include "../src/provider_kinds.h"
#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {

using nlohmann::json;

constexpr std::string_view kService = "DigitalOcean";

class DigitalOceanProvider final : public provider::SecretProvider {
 public:
  DigitalOceanProvider(std::string name, std::string base_url, std::string token)
      : name_(std::move(name)), base_url_(std::move(base_url)), token_(std::move(token)) {}

  const std::string& base_url() const { return base_url_; }
  net::Headers headers() const { return {{"Authorization", "Bearer " + token_}}; }
  std::string auth_hint() const {
    return "check the token of [providers." + name_ + "]: it needs the droplet:update scope";
  }

 private:
  std::string name_, base_url_, token_;
};

class DropletAction final : public Action {
 public:
  DropletAction(const DigitalOceanProvider& provider, net::HttpClient& http, std::string droplet,
                std::string type, Duration interval, Duration timeout)
      : provider_(provider),
        http_(http),
        droplet_(std::move(droplet)),
        type_(std::move(type)),
        interval_(interval),
        timeout_(timeout) {}

  StepResult run(const RunContext& ctx) override {
    if (ctx.state && ctx.state->contains("action_id")) return poll(ctx, *ctx.state);
    return start(ctx);
  }

  std::string describe() const override {
    return "POST " + url("v2/droplets/" + net::url_encode(droplet_) + "/actions") +
           " {\"type\":\"" + type_ +
           "\"} (Authorization: Bearer ***), then GET /v2/actions/{id} every " +
           format_duration(interval_) + " until completed, at most " + format_duration(timeout_);
  }

 private:
  std::string url(const std::string& path) const {
    auto u = provider::endpoint(provider_.base_url(), path);
    return u ? u->to_string() : path;
  }

  provider::FailureHints hints() const {
    return {.reset_header = "ratelimit-reset",
            .rate_limit_fallback = Duration(60'000),
            .auth_hint = auth_hint_,
            .not_found_hint = "droplet " + droplet_};
  }

  StepResult start(const RunContext& ctx) {
    auto target = provider::endpoint(provider_.base_url(),
                                     "v2/droplets/" + net::url_encode(droplet_) + "/actions");
    if (!target) return Fail{target.error(), {}, {}};
    net::ClientRequest r;
    r.method = "POST";
    r.url = *target;
    r.headers = provider_.headers();
    r.headers["Content-Type"] = "application/json";
    r.body = json{{"type", type_}}.dump();
    auto response = http_.send(r);
    if (!response) return provider::transport_failure(kService, response.error());
    if (response->status < 200 || response->status >= 300) {
      return provider::http_failure(kService, *response, ctx.clock.system_now(), hints());
    }
    const json action = parse_action(response->body);
    if (!action.is_object() || !action.contains("id")) {
      return Fail{
          "DigitalOcean answered " + std::to_string(response->status) + " without an action object",
          {},
          {}};
    }
    json state{{"action_id", action["id"]},
               {"since_ms", to_unix_ms(ctx.clock.system_now())},
               {"polls", 0}};
    return finished(action, ctx, state)
        .value_or(Pending{interval_, state, label(action) + " " + status_of(action)});
  }

  StepResult poll(const RunContext& ctx, json state) {
    const std::string id = state["action_id"].is_string() ? state["action_id"].get<std::string>()
                                                          : state["action_id"].dump();
    const TimePoint since = from_unix_ms(state.value("since_ms", std::int64_t{0}));
    state["polls"] = state.value("polls", 0) + 1;
    auto waited = ctx.clock.system_now() - since;
    auto give_up = [&](const std::string& last) -> StepResult {
      return Fail{"droplet " + droplet_ + ": " + type_ + " action " + id + " not finished after " +
                      format_duration(std::chrono::duration_cast<Duration>(waited)) +
                      " (poll_timeout " + format_duration(timeout_) + "; last: " + last + ")",
                  {},
                  json{{"action_id", state["action_id"]}, {"polls", state["polls"]}}};
    };
    auto target = provider::endpoint(provider_.base_url(), "v2/actions/" + net::url_encode(id));
    if (!target) return Fail{target.error(), {}, {}};
    net::ClientRequest r;
    r.url = *target;
    r.headers = provider_.headers();
    auto response = http_.send(r);
    std::string trouble;
    Duration wait = interval_;
    if (!response) {
      trouble = "cannot reach DigitalOcean: " + provider::one_line(response.error().message);
    } else if (response->status == 429 || response->status >= 500) {
      trouble = "DigitalOcean answered " + std::to_string(response->status) + ": " +
                provider::error_text(response->body);
      if (response->status == 429) {
        wait = std::max(wait, provider::retry_wait(*response, ctx.clock.system_now(),
                                                   "ratelimit-reset", interval_));
      }
    } else if (response->status < 200 || response->status >= 300) {
      return provider::http_failure(kService, *response, ctx.clock.system_now(), hints());
    } else {
      // Polling changes nothing: an answer without the action (a proxy's error page) is one more
      // poll's trouble, not the end of a reboot that is under way.
      const json action = parse_action(response->body);
      if (!action.is_object()) {
        trouble = "DigitalOcean answered " + std::to_string(response->status) +
                  " without an action object";
      } else if (auto done = finished(action, ctx, state)) {
        return *done;
      } else {
        trouble = status_of(action);
      }
    }
    if (waited >= timeout_) return give_up(trouble);
    return Pending{wait, state,
                   "droplet " + droplet_ + ": " + type_ + " action " + id + " " + trouble};
  }

  // Ok or Fail once the action has ended; nothing while it is in progress.
  std::optional<StepResult> finished(const json& action, const RunContext& ctx,
                                     const json& state) const {
    const std::string status = provider::string_field(action, "status");
    if (status == "in-progress" || status.empty()) return std::nullopt;
    json details{
        {"action_id", action.contains("id") ? action.at("id") : state.value("action_id", json())},
        {"status", status},
        {"droplet_id", droplet_},
        {"type", type_},
        {"polls", state.value("polls", 0)}};
    if (action.contains("completed_at")) details["completed_at"] = action.at("completed_at");
    const auto since = from_unix_ms(state.value("since_ms", to_unix_ms(ctx.clock.system_now())));
    const auto took = std::chrono::duration_cast<Duration>(ctx.clock.system_now() - since);
    if (status == "completed") {
      return Ok{label(action) + " completed after " + format_duration(took), std::move(details)};
    }
    return Fail{label(action) + " ended " + status +
                    " (DigitalOcean gives no reason: see the droplet's history)",
                {},
                std::move(details)};
  }

  std::string label(const json& action) const {
    return "droplet " + droplet_ + ": " + type_ + " action " + action.value("id", json()).dump();
  }

  static std::string status_of(const json& action) {
    const std::string status = provider::string_field(action, "status");
    return status.empty() ? "in-progress" : status;
  }

  static json parse_action(const std::string& body) {
    const json j = json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("action")) return json();
    return j["action"];
  }

  const DigitalOceanProvider& provider_;
  net::HttpClient& http_;
  std::string droplet_, type_;
  Duration interval_, timeout_;
  std::string auth_hint_ = provider_.auth_hint();
};

ActionFactory::result_type make_droplet_action(const ActionRequest& request, ActionContext& ctx,
                                               std::string type, const config::OptionTable& table) {
  if (auto valid = request.options.check(table); !valid) return tl::unexpected(valid.error());
  auto provider = provider::usable_provider<DigitalOceanProvider>(request, ctx, "digitalocean");
  if (!provider) return tl::unexpected(provider.error());
  auto droplet = provider::required(request.options, "droplet_id");
  if (!droplet) return tl::unexpected(droplet.error());
  if (droplet->find_first_not_of("0123456789") != std::string::npos) {
    return tl::unexpected("droplet_id '" + provider::one_line(*droplet, 40) + "' is not a number");
  }
  const Duration interval =
      std::max(request.options.duration("poll_interval", Duration(5'000)), Duration(100));
  const Duration timeout = request.options.duration("poll_timeout", Duration(300'000));
  return std::make_unique<DropletAction>(**provider, ctx.http, *droplet, std::move(type), interval,
                                         timeout);
}

}  // namespace

ProviderFactory::result_type make_digitalocean_provider(const ProviderSpec& spec,
                                                        ProviderContext& ctx) {
  auto token = provider::read_provider_secret(spec, ctx, "token");
  const std::string base = spec.options.string("base_url", "https://api.digitalocean.com");
  if (auto url = provider::endpoint(base, ""); !url) return tl::unexpected(url.error());
  auto made = std::make_shared<DigitalOceanProvider>(spec.name, base, std::move(token.value));
  made->set_secret_error(std::move(token.error));
  return made;
}

ActionFactory::result_type make_digitalocean_reboot(const ActionRequest& request,
                                                    ActionContext& ctx) {
  return make_droplet_action(request, ctx, "reboot", digitalocean_reboot_options());
}

ActionFactory::result_type make_digitalocean_power_cycle(const ActionRequest& request,
                                                         ActionContext& ctx) {
  return make_droplet_action(request, ctx, "power_cycle", digitalocean_power_cycle_options());
}

}  // namespace vigie::actions
