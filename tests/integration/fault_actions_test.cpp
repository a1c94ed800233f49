// Fault injection, remediation: each provider preset (heroku.restart, digitalocean.reboot,
// rackspace.reboot, docker.restart over its unix socket) run by the worker's ActionRunner on a
// FakeClock against its fake behind the fault proxy. A fault before the provider acted (429, 500,
// 503, a hang past the timeout, a reset connection) is a Retry after a wait on the injected clock
// and then one remediation — never none, never two. A fault after the provider acted (its answer
// truncated, trickled past the timeout, replaced by an HTML page, a 500 or a reset) is also
// retried: remediations are at least once (a restart may run twice), documented in
// docs/reliability.md. Nothing crashes and the job always completes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <sstream>

#include "fake_digitalocean.h"
#include "fake_docker.h"
#include "fake_heroku.h"
#include "fake_rackspace.h"
#include "fault_proxy.h"
#include "vigie/actions/action.h"
#include "vigie/actions/runner.h"
#include "vigie/core/clock.h"
#include "vigie/net/http_client.h"

using namespace vigie;
using namespace vigie::testing;
using namespace vigie::actions;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct Rig {
  std::ostringstream log_out;
  std::shared_ptr<SecretRegistry> secrets = std::make_shared<SecretRegistry>();
  Logging logging{LogLevel::warn, secrets, log_out};
  FakeClock clock;
  // A hang and a slow body cost one request timeout of real time: kept short.
  std::unique_ptr<net::HttpClient> http = [this] {
    net::HttpClientOptions o;
    o.connect_timeout = 1s;
    o.request_timeout = 1s;
    return net::make_http_client(o, logging.logger("http"));
  }();
  Providers providers;
  std::vector<bus::JobResult> results;

  void provider(const std::string& type, std::map<std::string, std::string> options,
                const std::string& secret, const std::string& value) {
    ProviderSpec spec;
    spec.name = type;
    spec.type = type;
    for (auto& [k, v] : options) spec.options.set(k, v, {});
    if (!secret.empty()) {
      const std::string var = "VIGIE_FAULT_" + type;
      ::setenv(var.c_str(), value.c_str(), 1);
      spec.options.set(secret, config::SecretRef{var, "", {}}, {});
    }
    ProviderContext ctx{*http, clock, *secrets, logging.logger("provider")};
    auto p = provider_factory(type)(spec, ctx);
    REQUIRE(p);
    providers.add(type, type, *p);
  }

  // Runs one action job, `timeout` its whole budget, to its end on the injected clock.
  // @return the fake-clock time it took.
  Duration run(const std::string& type, json options, Duration timeout = Duration{600'000}) {
    ActionRunner runner(std::move(providers), *http, *secrets, clock, logging.logger("runner"),
                        RunnerOptions{0, 3, Duration{2'000}, 65'536});
    const json payload = {{"action", "fix"},
                          {"type", type},
                          {"options", std::move(options)},
                          {"params", json::object()},
                          {"timeout_ms", timeout.count()},
                          {"dry_run", false}};
    runner.submit(bus::Job{"action:fault", "action", payload, 1, timeout},
                  [this](bus::JobResult r) { results.push_back(std::move(r)); });
    const auto start = clock.steady_now();
    for (int i = 0; i < 100 && results.empty(); ++i) {
      const auto next = runner.pump();
      if (next && *next > clock.steady_now())
        clock.advance(std::chrono::duration_cast<Duration>(*next - clock.steady_now()));
    }
    REQUIRE(results.size() == 1);
    return std::chrono::duration_cast<Duration>(clock.steady_now() - start);
  }
};

// One provider under test: its fake, the proxy in front, and how many times it acted.
struct Case {
  std::string type, action;
  json options;
  std::function<std::size_t()> effects;
  // The run's whole budget, and the pause between the pieces of a slow body.
  Duration timeout{600'000};
  std::chrono::milliseconds slow_delay{400};
};

void check_fault(Rig& rig, FaultProxy& proxy, const Case& c, FaultKind kind, bool after_upstream) {
  INFO(c.action << " × " << fault_name(kind)
                << (after_upstream ? " after the provider acted" : ""));
  Fault f;
  f.kind = kind;
  f.after_upstream = after_upstream;
  f.delay = c.slow_delay;
  proxy.fail_next(f);
  const auto real_start = std::chrono::steady_clock::now();
  const auto took = rig.run(c.action, c.options, c.timeout);
  // A hang or a slow body costs real time (the injected clock stands still meanwhile): never
  // more than the run's budget, whatever the action's client would wait on its own.
  CHECK(std::chrono::steady_clock::now() - real_start < c.timeout + 2s);
  CHECK(proxy.served() == 1);
  const auto& r = rig.results.at(0);
  INFO(r.reason << " " << r.output.dump());
  const bool acted_anyway =
      after_upstream || kind == FaultKind::slow_body || kind == FaultKind::truncated;
  if (!acted_anyway && kind == FaultKind::not_json) {
    // A 200 the provider never sent: the action cannot tell it from success (HTML is not a
    // refusal). Nothing was done, and the reason or output says so only if the action parsed it.
    CHECK(c.effects() <= 1);
    return;
  }
  if (kind == FaultKind::not_json && after_upstream) {
    // The provider acted but answered with an HTML page: what it did is unknown. An action that
    // needs the answer (DigitalOcean's action id to poll) fails saying so rather than retrying
    // into a second reboot; one that needs nothing from it succeeds. Either way: one effect.
    CHECK(c.effects() == 1);
    if (r.outcome != bus::JobOutcome::ok) CHECK(r.reason.find("without") != std::string::npos);
    return;
  }
  CHECK(r.outcome == bus::JobOutcome::ok);
  if (!acted_anyway) {
    CHECK(c.effects() == 1);  // retried, then done once
    CHECK(r.output.value("attempts", 0) >= 2);
    CHECK(took >= Duration{1'000});  // the retry waited on the injected clock
  } else {
    CHECK(c.effects() >= 1);  // at least once: a lost answer is retried
    CHECK(c.effects() <= 2);
  }
}

// Every fault before the provider acted, and the ones after it that lose its answer.
std::vector<std::pair<FaultKind, bool>> action_faults() {
  std::vector<std::pair<FaultKind, bool>> out;
  for (auto k : all_faults()) out.emplace_back(k, false);
  for (auto k : {FaultKind::status_500, FaultKind::reset, FaultKind::hang, FaultKind::not_json})
    out.emplace_back(k, true);
  return out;
}

}  // namespace

TEST_CASE("fault injection: heroku.restart retries a lost request and restarts once", "[fault]") {
  const auto [kind, after] = GENERATE(from_range(action_faults()));
  FakeHeroku heroku("hk-fault");
  heroku.add_app("shop-api", {"web.1"});
  FaultProxy proxy(heroku.base_url());
  Rig rig;
  rig.provider("heroku", {{"base_url", proxy.base_url()}}, "token", "hk-fault");
  check_fault(rig, proxy,
              {"heroku",
               "heroku.restart",
               {{"app", "shop-api"}, {"dyno", "web.1"}},
               [&] { return heroku.restarts().size(); }},
              kind, after);
}

TEST_CASE("fault injection: digitalocean.reboot retries a lost request and reboots once",
          "[fault]") {
  const auto [kind, after] = GENERATE(from_range(action_faults()));
  FakeDigitalOcean d("do-fault");
  d.add_droplet("317245");
  d.finish_after(1);
  FaultProxy proxy(d.base_url());
  Rig rig;
  rig.provider("digitalocean", {{"base_url", proxy.base_url()}}, "token", "do-fault");
  // The fault hits the POST (the first request); its polls go through.
  check_fault(rig, proxy,
              {"digitalocean",
               "digitalocean.reboot",
               {{"droplet_id", "317245"}, {"poll_interval", "5s"}},
               [&] { return d.actions().size(); }},
              kind, after);
}

TEST_CASE("fault injection: rackspace.reboot retries a lost request and reboots once", "[fault]") {
  const auto [kind, after] = GENERATE(from_range(action_faults()));
  FakeRackspace rax("ops", "rax-fault", "123456");
  rax.add_server("DFW", "srv-1");
  FaultProxy proxy(rax.identity_url());
  Rig rig;
  rig.provider("rackspace",
               {{"identity_url", proxy.base_url()}, {"username", "ops"}, {"region", "DFW"}},
               "api_key", "rax-fault");
  check_fault(rig, proxy,
              {"rackspace",
               "rackspace.reboot",
               {{"server_id", "srv-1"}},
               [&] { return rax.reboots().size(); }},
              kind, after);
}

TEST_CASE(
    "fault injection: docker.restart over the unix socket retries a lost request and restarts once",
    "[fault]") {
  const auto [kind, after] = GENERATE(from_range(action_faults()));
  FakeDocker docker;
  docker.add_container("worker");
  FaultProxy proxy(docker.socket_path());
  Rig rig;
  rig.provider("docker", {{"socket", proxy.socket_path()}}, "", "");
  check_fault(rig, proxy,
              {"docker",
               "docker.restart",
               {{"container", "worker"}},
               [&] { return docker.restarts().size(); },
               // docker.restart's own client would wait stop_timeout (10 s) + 60 s for Docker's
               // answer; the run's budget cuts a hang or a slow answer (five pieces 800 ms
               // apart) at 2.5 s, and the retry 2 s later (injected) fits in what is left.
               Duration{2'500},
               800ms},
              kind, after);
}

TEST_CASE("fault injection: a Docker that never answers ends docker.restart at its timeout",
          "[fault]") {
  FakeDocker docker;
  docker.add_container("worker");
  FaultProxy proxy(docker.socket_path());
  Rig rig;
  rig.provider("docker", {{"socket", proxy.socket_path()}}, "", "");
  Fault hang;
  hang.kind = FaultKind::hang;
  proxy.fail_next(hang, 3);
  const auto real_start = std::chrono::steady_clock::now();
  // Each attempt waits what is left of the 2.5 s (not stop_timeout + 60 s): 2.5 s, then the
  // retry 2 s later (injected) has 0.5 s, and the next retry would fall past the deadline.
  rig.run("docker.restart", {{"container", "worker"}}, Duration{2'500});
  CHECK(std::chrono::steady_clock::now() - real_start < 5s);
  const auto& r = rig.results.at(0);
  INFO(r.reason);
  CHECK(r.outcome == bus::JobOutcome::fail);
  CHECK(r.reason.find("timed out after") != std::string::npos);
  CHECK(r.reason.find("cannot reach Docker (timeout)") != std::string::npos);
  CHECK(proxy.served() == 2);
  CHECK(docker.restarts().empty());
}
