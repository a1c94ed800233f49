// Fault injection, collectors: each poller (Sentry, NewRelic, Papertrail) run through the
// collector harness (scheduler on a FakeClock, acked store) against its fake behind the fault
// proxy, which answers one poll with each fault of the table (429, 500, 503, a hang past the
// poll's timeout, a reset connection, a body slower than the timeout, a truncated body, an HTML
// page). For every (upstream × fault): the daemon does not crash, the failed poll is a health
// event (or a rate-limit wait), the next poll waits on the injected clock (backoff), and once the
// upstream answers again every event is stored exactly once — none lost, none doubled. A TLS
// failure (an https base_url whose server the client cannot verify) is a failing collector that
// says the certificate is not trusted and keeps retrying slowly.
#include <catch2/catch.hpp>

#include <set>

#include "collector_harness.h"
#include "fake_newrelic.h"
#include "fake_papertrail.h"
#include "fake_sentry.h"
#include "fault_proxy.h"
#include "tls_server.h"

using namespace vigie;
using namespace vigie::testing;
using namespace std::chrono_literals;

namespace {

// The poll's timeout bounds a hang and a slow body in real time: kept short.
const std::string kTimeout = "timeout = \"1s\"\n";
constexpr std::int64_t kT0 = 1'767'225'600'000;  // the FakeClock's start, in ms

// What differs between the upstreams: how to add events to the fake and where they land.
struct Upstream {
  std::string type, event_kind;
  std::function<std::string()> url;           // the fake's base_url
  std::function<void(int round)> add_events;  // round 1 before the first poll, 2 before the fault
  std::string options;                        // beyond base_url and the timeout
  std::map<std::string, std::string> secrets;
  std::size_t expected = 0;  // events of event_kind after both rounds
};

void check_no_loss(CollectorHarness& h, const Upstream& u) {
  const auto events = h.events(u.event_kind);
  std::set<std::string> ids;
  for (const auto& e : events) ids.insert(e.id);
  CHECK(ids.size() == events.size());  // none twice
  CHECK(events.size() == u.expected);  // none lost
}

std::vector<std::string> health_states(CollectorHarness& h) {
  std::vector<std::string> out;
  for (const auto& e : h.events("collector.health")) out.push_back(e.attrs.value("state", ""));
  return out;
}

// Round 1 polled cleanly; round 2's events wait behind one fault; then the upstream recovers.
void run_fault(const Upstream& u, FaultKind kind) {
  INFO(u.type << " × " << fault_name(kind));
  FaultProxy proxy(u.url());
  auto h = std::make_unique<CollectorHarness>(
      u.type,
      collector_options(u.type, "base_url = \"" + proxy.base_url() + "\"\n" + kTimeout + u.options),
      u.secrets);
  u.add_events(1);
  h->run_until_caught_up();
  REQUIRE(h->health().state == "ok");

  u.add_events(2);
  Fault f;
  f.kind = kind;
  f.delay = 400ms;  // five pieces: 2 s against a 1 s timeout
  // A reset on a kept-alive connection is retried once by the HTTP client (a GET is idempotent):
  // two resets make the poll fail.
  const int times = kind == FaultKind::reset ? 2 : 1;
  proxy.fail_next(f, times);
  h->clock.advance(std::chrono::minutes(2));  // past the interval: the next poll is due
  h->run_due();
  CHECK(proxy.served() == static_cast<std::size_t>(times));
  const auto health = h->health();
  if (kind == FaultKind::status_429) {
    CHECK(health.rate_limited == 1);
    CHECK(health.state == "ok");
  } else {
    CHECK(health.state == "failing");
    CHECK(!health.error.empty());
    CHECK(health.errors == 1);
  }

  // Backoff: nothing is asked again until the injected clock moves.
  const auto asked = proxy.requests();
  h->run_due();
  CHECK(proxy.requests() == asked);
  int waited = 0;
  while (proxy.requests() == asked && waited < 600) {
    h->clock.advance(1s);
    ++waited;
    h->run_until_caught_up();
  }
  REQUIRE(proxy.requests() > asked);
  // A 429's Retry-After (1 s) or Sentry's own default wait; a failure's backoff is 2.5–5 s.
  CHECK(waited >= (kind == FaultKind::status_429 ? 1 : 3));
  h->run_until_caught_up();

  CHECK(h->health().state == "ok");
  if (kind == FaultKind::status_429) {
    CHECK(health_states(*h).empty());
  } else {
    CHECK(health_states(*h) == std::vector<std::string>{"failing", "ok"});
  }
  check_no_loss(*h, u);
  // And across a restart nothing comes again.
  h->restart();
  h->clock.advance(std::chrono::minutes(2));
  h->run_until_caught_up();
  check_no_loss(*h, u);
}

}  // namespace

TEST_CASE(
    "fault injection: the Sentry collector survives every fault without losing or doubling an "
    "issue",
    "[fault]") {
  const auto kind = GENERATE(from_range(all_faults()));
  FakeSentry fake("sntrys-fault-token");
  Upstream u{"sentry",
             "sentry.issue",
             [&] { return fake.base_url(); },
             [&](int round) {
               const int first = round == 1 ? 101 : 104;
               for (int i = first; i < first + 3; ++i) fake.add_issue({{"id", std::to_string(i)}});
             },
             "organization = \"acme\"\n",
             {{"token", "sntrys-fault-token"}},
             6};
  run_fault(u, kind);
}

TEST_CASE(
    "fault injection: the NewRelic collector survives every fault without losing or doubling a "
    "violation",
    "[fault]") {
  const auto kind = GENERATE(from_range(all_faults()));
  FakeNewRelic fake("NRAK-FAULT");
  Upstream u{"newrelic",
             "newrelic.violation",
             [&] { return fake.base_url(); },
             [&](int round) {
               const int first = round == 1 ? 201 : 204;
               for (int i = first; i < first + 3; ++i) fake.add_violation(i, kT0 + i * 1000);
             },
             "account_id = 1234567\ninterval = \"1m\"\n",
             {{"api_key", "NRAK-FAULT"}},
             6};
  run_fault(u, kind);
}

TEST_CASE(
    "fault injection: the Papertrail collector survives every fault without losing or doubling a "
    "line",
    "[fault]") {
  const auto kind = GENERATE(from_range(all_faults()));
  FakePapertrail fake("pt-fault-token");
  Upstream u{"papertrail",
             "papertrail.log",
             [&] { return fake.base_url(); },
             [&](int round) { fake.add_lines(3, round == 1 ? "before" : "after"); },
             "",
             {{"token", "pt-fault-token"}},
             6};
  run_fault(u, kind);
}

TEST_CASE(
    "fault injection: a collector whose upstream fails TLS verification is failing, says why, and "
    "retries",
    "[fault]") {
  const std::string type = GENERATE(as<std::string>{}, "sentry", "newrelic", "papertrail");
  INFO(type);
  TlsServer::Options o;
  o.cert_file = std::string(VIGIE_FIXTURES) + "/tls/cert.pem";
  o.key_file = std::string(VIGIE_FIXTURES) + "/tls/key.pem";
  o.body = "[]";
  TlsServer server(o);
  const std::string extra = type == "sentry"     ? "organization = \"acme\"\n"
                            : type == "newrelic" ? "account_id = 1234567\n"
                                                 : "";
  const std::map<std::string, std::string> secrets = {
      {type == "newrelic" ? "api_key" : "token", "tls-secret"}};
  CollectorHarness h(
      type,
      collector_options(type, "base_url = \"https://127.0.0.1:" + std::to_string(server.port()) +
                                  "\"\n" + kTimeout + extra),
      secrets);
  h.run_due();
  const auto health = h.health();
  INFO(health.error);
  CHECK(health.state == "failing");
  CHECK(health.error.find("tls: certificate of 127.0.0.1 not trusted") != std::string::npos);
  CHECK(server.requests() == 0);  // nothing, the token least of all, went over the failed handshake
  // Retried, slowly (someone may fix the CA without a restart).
  h.clock.advance(std::chrono::minutes(10));
  h.run_due();
  CHECK(h.health().errors == 2);
  CHECK(health_states(h) == std::vector<std::string>{"failing"});
}
