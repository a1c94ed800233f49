// The provider presets' answers as their actions read them: Heroku, DigitalOcean (the reboot and
// its action polls), Rackspace (the identity token and service catalog, then the reboot), Sentry
// and NewRelic (issue and incident updates) — error bodies of every documented shape, 429 waits,
// Pending states. (Docker builds its own client over its unix socket; its error bodies go through
// the same provider::error_text.) The first byte picks the action; the rest is the canned answer
// (fuzz_upstream.h) every request of the run gets.
#include <cstdlib>

#include "fuzz_upstream.h"
#include "vigie/actions/action.h"

namespace {

using nlohmann::json;
using namespace vigie;

struct Case {
  const char* provider;
  std::vector<std::pair<const char*, const char*>> options;
  const char* secret;  // the provider's secret option, read from VIGIE_FUZZ_SECRET
  const char* action;
  json action_options;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"heroku",
       {{"base_url", "https://api.heroku.example"}},
       "token",
       "heroku.restart",
       {{"app", "shop-api"}, {"dyno", "web.1"}}},
      {"heroku",
       {{"base_url", "https://api.heroku.example"}},
       "token",
       "heroku.scale",
       {{"app", "shop-api"}, {"process_type", "web"}, {"quantity", "2"}}},
      {"digitalocean",
       {{"base_url", "https://api.do.example"}},
       "token",
       "digitalocean.reboot",
       {{"droplet_id", "317245"}, {"poll_interval", "5s"}}},
      {"rackspace",
       {{"identity_url", "https://identity.rax.example/v2.0"},
        {"username", "ops"},
        {"region", "DFW"}},
       "api_key",
       "rackspace.reboot",
       {{"server_id", "srv-1"}}},
      {"sentry",
       {{"base_url", "https://sentry.example"}, {"organization", "acme"}},
       "token",
       "sentry.resolve",
       {{"issue_id", "4711"}}},
      {"newrelic",
       {{"base_url", "https://api.newrelic.example"}, {"key_header", "Api-Key"}},
       "api_key",
       "newrelic.ack",
       {{"incident_id", "77"}}},
  };
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Case& c = cases()[data[0] % cases().size()];
  const auto input = fuzz::as_text(data + 1, size - 1);
  ::setenv("VIGIE_FUZZ_SECRET", "fuzz-secret", 1);
  auto& clock = fuzz::fixed_clock();
  auto& logging = fuzz::quiet_logging();
  fuzz::CannedHttp http(input);
  actions::ProviderSpec spec;
  spec.name = c.provider;
  spec.type = c.provider;
  for (const auto& [k, v] : c.options) spec.options.set(k, std::string(v), {});
  if (c.secret) spec.options.set(c.secret, config::SecretRef{"VIGIE_FUZZ_SECRET", "", {}}, {});
  actions::ProviderContext pctx{http, clock, logging.secrets(), logging.logger("provider")};
  auto provider = actions::provider_factory(c.provider)(spec, pctx);
  if (!provider) __builtin_trap();  // valid options: a refusal is a bug of the target
  actions::Providers providers;
  providers.add(c.provider, c.provider, *provider);
  actions::ActionRequest request;
  request.job_id = "fuzz";
  request.name = "fuzz";
  request.type = c.action;
  request.options = actions::ActionOptions(c.action_options);
  actions::ActionContext ctx{providers, http, clock, logging.secrets(), logging.logger("action")};
  auto action = actions::action_factory(c.action)(request, ctx);
  if (!action) return 0;
  // Steps as the runner takes them, Pending states passed on, bounded.
  json state;
  bool has_state = false;
  for (int step = 0; step < 4; ++step) {
    actions::RunContext run{clock, clock.steady_now() + std::chrono::minutes(30), 1,
                            has_state ? &state : nullptr};
    auto r = (*action)->run(run);
    auto* pending = std::get_if<actions::Pending>(&r);
    if (!pending) break;
    state = pending->state;
    has_state = true;
  }
  return 0;
}
