// The provider presets against their fakes (tests/fakes): each sends the documented method, path,
// headers and body; error bodies become one-line reasons; 429 becomes Retry with the provider's
// wait; the DigitalOcean poll loop runs on a FakeClock; Rackspace reuses its token and
// re-authenticates; docker.restart goes over a unix socket; Sentry and NewRelic close the loop.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <sstream>

#include "fake_digitalocean.h"
#include "fake_docker.h"
#include "fake_heroku.h"
#include "fake_newrelic_api.h"
#include "fake_rackspace.h"
#include "fake_sentry_api.h"
#include "vigie/actions/action.h"
#include "vigie/actions/runner.h"
#include "vigie/core/clock.h"
#include "vigie/net/http_client.h"

using namespace vigie;
using namespace vigie::actions;
using nlohmann::json;
using vigie::testing::RecordedRequest;

namespace {

struct Harness {
  std::ostringstream log_out;
  std::shared_ptr<SecretRegistry> secrets = std::make_shared<SecretRegistry>();
  Logging logging{LogLevel::warn, secrets, log_out};
  FakeClock clock;
  std::unique_ptr<net::HttpClient> http = net::make_http_client({}, logging.logger("http"));
  Providers providers;

  // Adds [providers.<name>] of `type` from string options; `secret_env` maps a secret option to
  // the value its environment variable holds.
  void provider(const std::string& name, const std::string& type,
                std::map<std::string, std::string> options,
                std::map<std::string, std::string> secret_env = {}) {
    ProviderSpec spec;
    spec.name = name;
    spec.type = type;
    for (auto& [k, v] : options) spec.options.set(k, v, {});
    for (auto& [k, v] : secret_env) {
      const std::string var = "VIGIE_TEST_" + name + "_" + k;
      if (v.empty()) {
        ::unsetenv(var.c_str());  // "" stands for a variable that is not set
      } else {
        ::setenv(var.c_str(), v.c_str(), 1);
      }
      spec.options.set(k, config::SecretRef{var, "", {}}, {});
    }
    ProviderContext ctx{*http, clock, *secrets, logging.logger("provider")};
    auto factory = provider_factory(type);
    REQUIRE(factory);
    auto p = factory(spec, ctx);
    INFO((p ? std::string() : p.error()));
    REQUIRE(p);
    providers.add(name, type, *p);
  }

  tl::expected<std::unique_ptr<Action>, std::string> make(const std::string& type, json options) {
    ActionRequest request;
    request.job_id = "job-1";
    request.name = "test-" + type;
    request.type = type;
    request.options = ActionOptions(std::move(options));
    ActionContext ctx{providers, *http, clock, *secrets, logging.logger("action")};
    auto factory = action_factory(type);
    REQUIRE(factory);
    return factory(request, ctx);
  }

  std::unique_ptr<Action> action(const std::string& type, json options) {
    auto a = make(type, std::move(options));
    INFO((a ? std::string() : a.error()));
    REQUIRE(a);
    return std::move(*a);
  }

  // Runs steps the way the runner does: after a Pending, the clock moves by its `after` and the
  // next step gets its state. @return the first result that is not Pending.
  StepResult drive(Action& a, int* steps = nullptr, int max_steps = 100) {
    json state;
    bool has_state = false;
    for (int i = 1; i <= max_steps; ++i) {
      RunContext ctx{clock, clock.steady_now() + std::chrono::minutes(30), 1,
                     has_state ? &state : nullptr};
      StepResult r = a.run(ctx);
      if (steps) *steps = i;
      auto* pending = std::get_if<Pending>(&r);
      if (!pending) return r;
      state = pending->state;
      has_state = true;
      clock.advance(pending->after);
    }
    FAIL("still pending after " << max_steps << " steps");
    return Fail{};
  }

  StepResult step(Action& a) {
    RunContext ctx{clock, clock.steady_now() + std::chrono::minutes(30), 1, nullptr};
    return a.run(ctx);
  }
};

Ok ok(const StepResult& r) {
  if (auto* f = std::get_if<Fail>(&r)) FAIL_CHECK("Fail: " << f->reason);
  if (auto* t = std::get_if<Retry>(&r)) FAIL_CHECK("Retry: " << t->reason);
  REQUIRE(std::holds_alternative<Ok>(r));
  return std::get<Ok>(r);
}

Fail fail(const StepResult& r) {
  if (auto* o = std::get_if<Ok>(&r)) FAIL_CHECK("Ok: " << o->output);
  REQUIRE(std::holds_alternative<Fail>(r));
  return std::get<Fail>(r);
}

Retry retry(const StepResult& r) {
  if (auto* f = std::get_if<Fail>(&r)) FAIL_CHECK("Fail: " << f->reason);
  REQUIRE(std::holds_alternative<Retry>(r));
  return std::get<Retry>(r);
}

bool one_line(const std::string& s) { return s.find('\n') == std::string::npos && !s.empty(); }

}  // namespace

// ---- Heroku ---------------------------------------------------------------------------------

TEST_CASE(
    "heroku.restart of one dyno sends DELETE /apps/app/dynos/dyno with the v3 Accept and the "
    "Bearer token") {
  Harness h;
  vigie::testing::FakeHeroku heroku("hk-secret");
  heroku.add_app("shop-api", {"web.1", "web.2", "worker.1"});
  h.provider("heroku", "heroku", {{"base_url", heroku.base_url()}}, {{"token", "hk-secret"}});
  auto a = h.action("heroku.restart", {{"app", "shop-api"}, {"dyno", "web.1"}});
  const auto& done = ok(h.step(*a));
  CHECK(done.output.find("web.1") != std::string::npos);
  CHECK(done.details["status"] == 202);
  REQUIRE(heroku.requests().size() == 1);
  const RecordedRequest r = heroku.requests()[0];
  CHECK(r.method == "DELETE");
  CHECK(r.path == "/apps/shop-api/dynos/web.1");
  CHECK(r.header("Accept") == "application/vnd.heroku+json; version=3");
  CHECK(r.header("Authorization") == "Bearer hk-secret");
  CHECK(r.body.empty());
  CHECK(heroku.restarts() == std::vector<std::string>{"shop-api/web.1"});
  // dry-run text masks the token
  CHECK(a->describe().find("hk-secret") == std::string::npos);
}

TEST_CASE("heroku.restart without a dyno restarts every dyno of the app") {
  Harness h;
  vigie::testing::FakeHeroku heroku("hk");
  heroku.add_app("shop-api", {"web.1"});
  h.provider("heroku", "heroku", {{"base_url", heroku.base_url()}}, {{"token", "hk"}});
  ok(h.step(*h.action("heroku.restart", {{"app", "shop-api"}})));
  REQUIRE(heroku.requests().size() == 1);
  CHECK(heroku.requests()[0].method == "DELETE");
  CHECK(heroku.requests()[0].path == "/apps/shop-api/dynos");
  CHECK(heroku.restarts() == std::vector<std::string>{"shop-api/*"});
}

TEST_CASE("heroku.scale PATCHes the formation with quantity and size as JSON") {
  Harness h;
  vigie::testing::FakeHeroku heroku("hk");
  heroku.add_app("shop-api", {"web.1"},
                 {{"web", {1, "standard-1X"}}, {"worker", {1, "standard-1X"}}});
  h.provider("heroku", "heroku", {{"base_url", heroku.base_url()}}, {{"token", "hk"}});
  auto a = h.action("heroku.scale", {{"app", "shop-api"},
                                     {"process_type", "worker"},
                                     {"quantity", "3"},
                                     {"size", "standard-2X"}});
  const auto& done = ok(h.step(*a));
  CHECK(done.details["formation"]["quantity"] == 3);
  const RecordedRequest r = heroku.requests().at(0);
  CHECK(r.method == "PATCH");
  CHECK(r.path == "/apps/shop-api/formation/worker");
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("Accept") == "application/vnd.heroku+json; version=3");
  CHECK(json::parse(r.body) == json{{"quantity", 3}, {"size", "standard-2X"}});
  CHECK(heroku.formation("shop-api", "worker").quantity == 3);
  CHECK(heroku.formation("shop-api", "worker").size == "standard-2X");
}

TEST_CASE("heroku.scale refuses a quantity that is not a whole number before sending anything") {
  Harness h;
  vigie::testing::FakeHeroku heroku("hk");
  h.provider("heroku", "heroku", {{"base_url", heroku.base_url()}}, {{"token", "hk"}});
  auto a = h.make("heroku.scale", {{"app", "shop-api"}, {"quantity", "three"}});
  REQUIRE_FALSE(a);
  CHECK(a.error().find("quantity 'three'") != std::string::npos);
  auto none = h.make("heroku.scale", {{"app", "shop-api"}});
  REQUIRE_FALSE(none);
  CHECK(heroku.requests().empty());
}

TEST_CASE("Heroku error bodies become one-line reasons naming what to check") {
  Harness h;
  vigie::testing::FakeHeroku heroku("right-token");
  heroku.add_app("shop-api", {"web.1"});
  SECTION("an unknown app") {
    h.provider("heroku", "heroku", {{"base_url", heroku.base_url()}}, {{"token", "right-token"}});
    const auto& f = fail(h.step(*h.action("heroku.restart", {{"app", "shop-apj"}})));
    CHECK(f.reason == "Heroku answered 404: not_found: Couldn't find that app. (app 'shop-apj')");
  }
  SECTION("an unknown dyno") {
    h.provider("heroku", "heroku", {{"base_url", heroku.base_url()}}, {{"token", "right-token"}});
    const auto& f =
        fail(h.step(*h.action("heroku.restart", {{"app", "shop-api"}, {"dyno", "web.9"}})));
    CHECK(f.reason.find("Couldn't find that dyno.") != std::string::npos);
    CHECK(f.reason.find("dyno 'web.9'") != std::string::npos);
  }
  SECTION("a wrong token: the reason names the provider section, never the token") {
    h.provider("heroku", "heroku", {{"base_url", heroku.base_url()}}, {{"token", "wrong-token"}});
    const auto& f = fail(h.step(*h.action("heroku.restart", {{"app", "shop-api"}})));
    CHECK(f.reason ==
          "Heroku answered 401: unauthorized: Invalid credentials provided. (check the token of "
          "[providers.heroku])");
    CHECK(f.reason.find("wrong-token") == std::string::npos);
  }
}

TEST_CASE("a Heroku 429 is a Retry after a minute with the rate-limit message on one line") {
  Harness h;
  vigie::testing::FakeHeroku heroku("hk");
  heroku.add_app("shop-api", {"web.1"});
  h.provider("heroku", "heroku", {{"base_url", heroku.base_url()}}, {{"token", "hk"}});
  heroku.rate_limit_next();
  auto a = h.action("heroku.restart", {{"app", "shop-api"}});
  const auto& r = retry(h.step(*a));
  CHECK(r.after == std::chrono::minutes(1));
  CHECK(one_line(r.reason));
  CHECK(r.reason.find(
            "rate_limit: Your account reached the API rate limit. Please wait a few minutes") !=
        std::string::npos);
  CHECK(heroku.restarts().empty());
  // The retry succeeds.
  ok(h.step(*a));
  CHECK(heroku.restarts().size() == 1);
}

TEST_CASE(
    "a 5xx is a Retry, an unreachable provider a Retry, an action naming no provider section fails "
    "to build") {
  Harness h;
  vigie::testing::FakeHeroku heroku("hk");
  heroku.add_app("shop-api", {"web.1"});
  h.provider("heroku", "heroku", {{"base_url", heroku.base_url()}}, {{"token", "hk"}});
  heroku.upstream().fail_next(
      503, R"({"id":"unavailable","message":"Heroku API is temporarily unavailable."})");
  CHECK(retry(h.step(*h.action("heroku.restart", {{"app", "shop-api"}}))).reason ==
        "Heroku answered 503: unavailable: Heroku API is temporarily unavailable.");
  auto missing = h.make("heroku.restart", {{"app", "shop-api"}, {"provider", "heroku-eu"}});
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == "no [providers.heroku-eu] section in vigie.toml");
}

// ---- DigitalOcean -----------------------------------------------------------------------------

TEST_CASE(
    "digitalocean.reboot POSTs the action, then polls it on the injected clock until completed") {
  Harness h;
  vigie::testing::FakeDigitalOcean d("do-secret");
  d.add_droplet("317245");
  d.finish_after(3);
  h.provider("digitalocean", "digitalocean", {{"base_url", d.base_url()}},
             {{"token", "do-secret"}});
  auto a = h.action("digitalocean.reboot", {{"droplet_id", "317245"}, {"poll_interval", "5s"}});
  const auto start = h.clock.steady_now();
  int steps = 0;
  const auto& done = ok(h.drive(*a, &steps));
  CHECK(steps == 5);  // the POST, three polls in progress, the one that sees completed
  CHECK(d.polls() == 4);
  CHECK(h.clock.steady_now() - start == std::chrono::seconds(20));  // 4 waits of poll_interval
  CHECK(done.details["status"] == "completed");
  CHECK(done.output.find("completed after 20s") != std::string::npos);
  const auto reqs = d.requests();
  REQUIRE(reqs.size() == 5);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].path == "/v2/droplets/317245/actions");
  CHECK(reqs[0].header("Authorization") == "Bearer do-secret");
  CHECK(reqs[0].header("Content-Type") == "application/json");
  CHECK(json::parse(reqs[0].body) == json{{"type", "reboot"}});
  const std::string action_id = done.details["action_id"].dump();
  for (std::size_t i = 1; i < reqs.size(); ++i) {
    CHECK(reqs[i].method == "GET");
    CHECK(reqs[i].path == "/v2/actions/" + action_id);
  }
  CHECK(d.actions() == std::vector<std::string>{"317245:reboot"});
}

TEST_CASE("digitalocean.power_cycle sends power_cycle and an errored action fails") {
  Harness h;
  vigie::testing::FakeDigitalOcean d("do");
  d.add_droplet("42");
  d.finish_after(1, "errored");
  h.provider("digitalocean", "digitalocean", {{"base_url", d.base_url()}}, {{"token", "do"}});
  const auto& f = fail(h.drive(*h.action("digitalocean.power_cycle", {{"droplet_id", "42"}})));
  CHECK(json::parse(d.requests().at(0).body) == json{{"type", "power_cycle"}});
  CHECK(f.reason.find("power_cycle action") != std::string::npos);
  CHECK(f.reason.find("ended errored") != std::string::npos);
  CHECK(d.actions().size() == 1);
}

TEST_CASE("the DigitalOcean poll loop is bounded by poll_timeout") {
  Harness h;
  vigie::testing::FakeDigitalOcean d("do");
  d.add_droplet("42");
  d.finish_after(1000);
  h.provider("digitalocean", "digitalocean", {{"base_url", d.base_url()}}, {{"token", "do"}});
  auto a = h.action("digitalocean.reboot",
                    {{"droplet_id", "42"}, {"poll_interval", "10s"}, {"poll_timeout", "1m"}});
  int steps = 0;
  const auto& f = fail(h.drive(*a, &steps));
  CHECK(steps == 7);  // the POST, then polls at 10s .. 60s: the one at 60s gives up
  CHECK(f.reason.find("not finished after 1m") != std::string::npos);
  CHECK(f.reason.find("poll_timeout 1m") != std::string::npos);
}

TEST_CASE(
    "a DigitalOcean 429 on the POST is a Retry until ratelimit-reset, on a poll it polls again "
    "later") {
  Harness h;
  vigie::testing::FakeDigitalOcean d("do");
  d.add_droplet("42");
  d.finish_after(0);
  h.provider("digitalocean", "digitalocean", {{"base_url", d.base_url()}}, {{"token", "do"}});
  const long long now_s = to_unix_ms(h.clock.system_now()) / 1000;
  d.rate_limit_next(now_s + 42);
  auto a = h.action("digitalocean.reboot", {{"droplet_id", "42"}});
  const auto& r = retry(h.step(*a));
  CHECK(r.after == std::chrono::seconds(42));
  CHECK(r.reason.find("too_many_requests: API Rate limit exceeded.") != std::string::npos);
  CHECK(d.actions().empty());

  // Start again; the first poll is rate limited: still one action, the loop goes on.
  json state;
  {
    RunContext ctx{h.clock, h.clock.steady_now() + std::chrono::minutes(30), 2, nullptr};
    auto first = a->run(ctx);
    REQUIRE(std::holds_alternative<Pending>(first));
    state = std::get<Pending>(first).state;
  }
  d.rate_limit_next(now_s + 30, 7);
  {
    RunContext ctx{h.clock, h.clock.steady_now() + std::chrono::minutes(30), 2, &state};
    auto limited = a->run(ctx);
    REQUIRE(std::holds_alternative<Pending>(limited));
    CHECK(std::get<Pending>(limited).after == std::chrono::seconds(7));  // Retry-After wins
    state = std::get<Pending>(limited).state;
  }
  RunContext ctx{h.clock, h.clock.steady_now() + std::chrono::minutes(30), 2, &state};
  ok(a->run(ctx));
  CHECK(d.actions().size() == 1);
}

TEST_CASE("DigitalOcean 404 and 401 bodies become reasons") {
  Harness h;
  vigie::testing::FakeDigitalOcean d("do");
  h.provider("digitalocean", "digitalocean", {{"base_url", d.base_url()}}, {{"token", "nope"}});
  const auto& unauthorized = fail(h.step(*h.action("digitalocean.reboot", {{"droplet_id", "1"}})));
  CHECK(unauthorized.reason.find("401: unauthorized: Unable to authenticate you.") !=
        std::string::npos);
  CHECK(unauthorized.reason.find("droplet:update") != std::string::npos);
  Harness h2;
  h2.provider("digitalocean", "digitalocean", {{"base_url", d.base_url()}}, {{"token", "do"}});
  const auto& missing = fail(h2.step(*h2.action("digitalocean.reboot", {{"droplet_id", "999"}})));
  CHECK(missing.reason ==
        "DigitalOcean answered 404: not_found: The resource you were accessing could not be found. "
        "(droplet 999)");
}

// ---- Rackspace --------------------------------------------------------------------------------

TEST_CASE("rackspace.reboot authenticates once, finds the region's endpoint and reuses the token") {
  Harness h;
  vigie::testing::FakeRackspace rax("ops", "rax-secret", "123456");
  rax.add_server("ORD", "srv-1");
  rax.add_server("ORD", "srv-2");
  h.provider("rackspace", "rackspace",
             {{"identity_url", rax.identity_url()}, {"username", "ops"}, {"region", "ord"}},
             {{"api_key", "rax-secret"}});
  ok(h.step(*h.action("rackspace.reboot", {{"server_id", "srv-1"}})));
  ok(h.step(*h.action("rackspace.reboot", {{"server_id", "srv-2"}, {"reboot_type", "HARD"}})));
  CHECK(rax.token_requests() == 1);
  CHECK(rax.reboots() == std::vector<std::string>{"ORD/srv-1:SOFT", "ORD/srv-2:HARD"});
  const auto reqs = rax.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].path == "/v2.0/tokens");
  CHECK(json::parse(reqs[0].body) ==
        json{{"auth",
              {{"RAX-KSKEY:apiKeyCredentials", {{"username", "ops"}, {"apiKey", "rax-secret"}}}}}});
  CHECK(reqs[1].method == "POST");
  CHECK(reqs[1].path == "/compute/ORD/v2/123456/servers/srv-1/action");
  CHECK(reqs[1].header("X-Auth-Token") == "rax-token-1");
  CHECK(reqs[1].header("Content-Type") == "application/json");
  CHECK(json::parse(reqs[1].body) == json{{"reboot", {{"type", "SOFT"}}}});
  CHECK(json::parse(reqs[2].body) == json{{"reboot", {{"type", "HARD"}}}});
  CHECK(reqs[2].header("X-Auth-Token") == "rax-token-1");
}

TEST_CASE("the Rackspace token is renewed before it expires and after the server refuses it") {
  Harness h;
  vigie::testing::FakeRackspace rax("ops", "k");
  rax.add_server("DFW", "srv");
  // Tokens expire an hour after the FakeClock's start.
  rax.set_token_expires(format_rfc3339(h.clock.system_now() + std::chrono::hours(1)));
  h.provider("rackspace", "rackspace",
             {{"identity_url", rax.identity_url()}, {"username", "ops"}, {"region", "DFW"}},
             {{"api_key", "k"}});
  auto a = h.action("rackspace.reboot", {{"server_id", "srv"}});
  ok(h.step(*a));
  h.clock.advance(std::chrono::minutes(50));
  ok(h.step(*a));
  CHECK(rax.token_requests() == 1);  // still ten minutes left
  h.clock.advance(std::chrono::minutes(6));
  ok(h.step(*a));
  CHECK(rax.token_requests() == 2);  // within five minutes of expiry: renewed first
  rax.revoke_tokens();
  ok(h.step(*a));
  CHECK(rax.token_requests() == 3);  // 401, then a new token and the reboot again
  CHECK(rax.reboots().size() == 4);
  const auto reqs = rax.requests();
  CHECK(reqs.back().header("X-Auth-Token") == "rax-token-3");
}

TEST_CASE("Rackspace 409 explains the conflict, a wrong key and a missing region fail clearly") {
  Harness h;
  vigie::testing::FakeRackspace rax("ops", "k");
  rax.add_server("DFW", "srv", "REBOOT");
  SECTION("409") {
    h.provider("rackspace", "rackspace",
               {{"identity_url", rax.identity_url()}, {"username", "ops"}, {"region", "DFW"}},
               {{"api_key", "k"}});
    const auto& f = fail(h.step(*h.action("rackspace.reboot", {{"server_id", "srv"}})));
    CHECK(one_line(f.reason));
    CHECK(f.reason.find("(409): conflictingRequest: Cannot 'reboot' instance srv while it is in "
                        "task_state rebooting") != std::string::npos);
    CHECK(f.reason.find("already rebooting or not ACTIVE") != std::string::npos);
    CHECK(f.reason.find("reboot_type = \"HARD\"") != std::string::npos);
  }
  SECTION("a wrong API key") {
    h.provider("rackspace", "rackspace",
               {{"identity_url", rax.identity_url()}, {"username", "ops"}, {"region", "DFW"}},
               {{"api_key", "wrong"}});
    const auto& f = fail(h.step(*h.action("rackspace.reboot", {{"server_id", "srv"}})));
    CHECK(f.reason ==
          "Rackspace identity answered 401: unauthorized: Username or api key is invalid. (check "
          "username and api_key of "
          "[providers.rackspace])");
  }
  SECTION("a region the catalog does not have") {
    h.provider("rackspace", "rackspace",
               {{"identity_url", rax.identity_url()}, {"username", "ops"}, {"region", "LON"}},
               {{"api_key", "k"}});
    const auto& f = fail(h.step(*h.action("rackspace.reboot", {{"server_id", "srv"}})));
    CHECK(f.reason.find("no Cloud Servers endpoint for region LON in the service catalog (regions: "
                        "DFW, ORD, IAD)") != std::string::npos);
  }
  SECTION("an unknown server") {
    h.provider("rackspace", "rackspace",
               {{"identity_url", rax.identity_url()}, {"username", "ops"}, {"region", "DFW"}},
               {{"api_key", "k"}});
    const auto& f = fail(h.step(*h.action("rackspace.reboot", {{"server_id", "nope"}})));
    CHECK(f.reason ==
          "Rackspace answered 404: itemNotFound: Instance could not be found (server nope in DFW)");
  }
}

// ---- Docker -----------------------------------------------------------------------------------

TEST_CASE("docker.restart POSTs /containers/id/restart with t over the unix socket path") {
  Harness h;
  vigie::testing::FakeDocker docker;
  docker.add_container("worker");
  h.provider("docker", "docker", {{"socket", "unix://" + docker.socket_path()}});
  const auto& done =
      ok(h.step(*h.action("docker.restart", {{"container", "worker"}, {"stop_timeout", 25}})));
  CHECK(done.output == "Restarted container worker (stop timeout 25s)");
  const auto reqs = docker.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].path == "/containers/worker/restart");
  CHECK(reqs[0].query_param("t") == "25");
  CHECK(docker.restarts() == std::vector<std::string>{"worker?t=25"});
}

TEST_CASE(
    "docker.restart of an unknown container fails with the Engine's message, a missing socket says "
    "what to check") {
  Harness h;
  vigie::testing::FakeDocker docker;
  h.provider("docker", "docker", {{"socket", docker.socket_path()}});
  const auto& f = fail(h.step(*h.action("docker.restart", {{"container", "db"}})));
  CHECK(f.reason == "Docker answered 404: No such container: db");
  Harness h2;
  h2.provider("docker", "docker", {{"socket", docker.socket_path() + ".missing"}});
  const auto& gone = fail(h2.step(*h2.action("docker.restart", {{"container", "db"}})));
  CHECK(gone.reason.find("cannot connect to the Docker Engine API at " + docker.socket_path() +
                         ".missing") != std::string::npos);
  CHECK(gone.reason.find("[providers.docker] socket") != std::string::npos);
}

// ---- Sentry and NewRelic: closing the loop -----------------------------------------------------

TEST_CASE("sentry.resolve and sentry.ignore PUT the issue status") {
  Harness h;
  vigie::testing::FakeSentryApi sentry("sn-secret", "acme");
  sentry.add_issue("4711");
  sentry.add_issue("4712");
  h.provider("sentry", "sentry", {{"base_url", sentry.base_url()}, {"organization", "acme"}},
             {{"token", "sn-secret"}});
  const auto& resolved = ok(h.step(*h.action("sentry.resolve", {{"issue_id", "4711"}})));
  CHECK(resolved.output == "Resolved Sentry issue SHOP-API-4711");
  CHECK(sentry.status("4711") == "resolved");
  ok(h.step(*h.action("sentry.ignore", {{"issue_id", "4712"}, {"ignore_duration", "2h"}})));
  CHECK(sentry.status("4712") == "ignored");
  const auto reqs = sentry.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].method == "PUT");
  CHECK(reqs[0].path == "/api/0/organizations/acme/issues/4711/");
  CHECK(reqs[0].header("Authorization") == "Bearer sn-secret");
  CHECK(reqs[0].header("Content-Type") == "application/json");
  CHECK(json::parse(reqs[0].body) == json{{"status", "resolved"}});
  CHECK(json::parse(reqs[1].body) ==
        json{{"status", "ignored"}, {"statusDetails", {{"ignoreDuration", 120}}}});
}

TEST_CASE("Sentry errors: detail bodies as reasons, 429 waits until X-Sentry-Rate-Limit-Reset") {
  Harness h;
  vigie::testing::FakeSentryApi sentry("sn", "acme");
  sentry.add_issue("1");
  h.provider("sentry", "sentry", {{"base_url", sentry.base_url()}, {"organization", "acme"}},
             {{"token", "sn"}});
  CHECK(
      fail(h.step(*h.action("sentry.resolve", {{"issue_id", "2"}}))).reason ==
      "Sentry answered 404: The requested resource does not exist (issue 2 in organization acme)");
  sentry.rate_limit_next(to_unix_ms(h.clock.system_now()) / 1000 + 9);
  const auto& r = retry(h.step(*h.action("sentry.resolve", {{"issue_id", "1"}})));
  CHECK(r.after == std::chrono::seconds(9));
  CHECK(r.reason.find("You are attempting to use this endpoint too frequently.") !=
        std::string::npos);
  // Found by fuzz/fuzz_providers: a reset far beyond any date overflowed (undefined behaviour).
  sentry.rate_limit_next(17672256722656009);
  CHECK(retry(h.step(*h.action("sentry.resolve", {{"issue_id", "1"}}))).after == std::chrono::hours(1));
  auto other_org = h.action("sentry.resolve", {{"issue_id", "1"}, {"organization", "other"}});
  CHECK(fail(h.step(*other_org)).reason.find("organization other") != std::string::npos);
}

TEST_CASE("newrelic.ack and newrelic.close PUT the incident mutations with the key header") {
  Harness h;
  vigie::testing::FakeNewRelicApi nr("NRAK-SECRET");
  nr.add_incident("77");
  h.provider("newrelic", "newrelic", {{"base_url", nr.base_url()}, {"key_header", "Api-Key"}},
             {{"api_key", "NRAK-SECRET"}});
  CHECK(ok(h.step(*h.action("newrelic.ack", {{"incident_id", "77"}}))).output ==
        "Acknowledged NewRelic incident 77");
  CHECK(nr.state("77") == "acknowledged");
  ok(h.step(*h.action("newrelic.close", {{"incident_id", "77"}})));
  CHECK(nr.state("77") == "closed");
  const auto reqs = nr.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].method == "PUT");
  CHECK(reqs[0].path == "/v2/alerts_incidents/77/acknowledge.json");
  CHECK(reqs[0].header("Api-Key") == "NRAK-SECRET");
  CHECK(reqs[1].path == "/v2/alerts_incidents/77/close.json");
  CHECK(fail(h.step(*h.action("newrelic.close", {{"incident_id", "77"}}))).reason ==
        "NewRelic answered 422: Incident is already closed");
  CHECK(fail(h.step(*h.action("newrelic.ack", {{"incident_id", "78"}}))).reason ==
        "NewRelic answered 404: Incident not found (incident 78)");
}

TEST_CASE("a provider of another kind is refused by name") {
  Harness h;
  vigie::testing::FakeDocker docker;
  h.provider("docker", "docker", {{"socket", docker.socket_path()}});
  auto a = h.make("heroku.restart", {{"app", "x"}, {"provider", "docker"}});
  REQUIRE_FALSE(a);
  CHECK(a.error() == "[providers.docker] is a docker provider, not heroku");
}

TEST_CASE(
    "a provider whose secret cannot be read still builds, and its actions fail saying which "
    "variable") {
  Harness h;
  h.provider("heroku", "heroku", {{"base_url", "http://127.0.0.1:9"}}, {{"token", ""}});
  auto a = h.make("heroku.restart", {{"app", "shop-api"}});
  REQUIRE_FALSE(a);
  CHECK(a.error().find("[providers.heroku] is unusable: ") == 0);
  CHECK(a.error().find("VIGIE_TEST_heroku_token") != std::string::npos);
  CHECK(h.log_out.str().find("provider unusable until its secret can be read") !=
        std::string::npos);
}

TEST_CASE("an option the kind does not declare is refused by the factory") {
  Harness h;
  vigie::testing::FakeDocker docker;
  h.provider("docker", "docker", {{"socket", docker.socket_path()}});
  auto a = h.make("docker.restart", {{"container", "web"}, {"signal", "SIGHUP"}});
  REQUIRE_FALSE(a);
  CHECK(a.error().find("'signal'") != std::string::npos);
  CHECK(docker.requests().empty());
}

// ---- through the worker's ActionRunner
// -----------------------------------------------------------

TEST_CASE(
    "the ActionRunner drives digitalocean.reboot: a 429 waits until ratelimit-reset, then the "
    "polls run on the FakeClock") {
  Harness h;
  vigie::testing::FakeDigitalOcean d("do");
  d.add_droplet("42");
  d.finish_after(2);
  h.provider("digitalocean", "digitalocean", {{"base_url", d.base_url()}}, {{"token", "do"}});
  d.rate_limit_next(to_unix_ms(h.clock.system_now()) / 1000 + 30);
  ActionRunner runner(std::move(h.providers), *h.http, *h.secrets, h.clock,
                      h.logging.logger("runner"), RunnerOptions{0, 3, Duration{2'000}, 65'536});
  std::vector<bus::JobResult> results;
  runner.submit(bus::Job{"action:r1", "action",
                         json{{"action", "reboot-worker"},
                              {"type", "digitalocean.reboot"},
                              {"options", {{"droplet_id", "42"}, {"poll_interval", "5s"}}},
                              {"params", json::object()},
                              {"timeout_ms", 600'000},
                              {"dry_run", false}},
                         1, Duration{600'000}},
                [&](bus::JobResult r) { results.push_back(std::move(r)); });
  const auto start = h.clock.steady_now();
  auto next = runner.pump();
  REQUIRE(next);
  CHECK(*next - start == std::chrono::seconds(30));  // the 429's reset, not the runner's backoff
  CHECK(d.actions().empty());
  for (int i = 0; i < 10 && results.empty(); ++i) {
    auto due = runner.pump();
    if (!due) break;
    h.clock.advance(std::chrono::duration_cast<Duration>(*due - h.clock.steady_now()));
  }
  runner.pump();
  REQUIRE(results.size() == 1);
  CHECK(results[0].outcome == bus::JobOutcome::ok);
  CHECK(results[0].output["details"]["status"] == "completed");
  CHECK(d.actions() == std::vector<std::string>{"42:reboot"});  // one reboot, whatever the waits
  CHECK(d.polls() == 3);
  CHECK(h.clock.steady_now() - start == std::chrono::seconds(30 + 15));
}
