// The NewRelic collector against the fake NewRelic, run the way the daemon runs it (scheduler on a
// FakeClock, acked store, cursor committed after its events, restarts): first poll, pagination,
// the cursor across a restart, rate limits, 5xx bursts, malformed bodies, closing violations,
// application health for `for` rules, and NRQL queries on their own schedule.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "collector_harness.h"
#include "fake_newrelic.h"
#include "vigie/config/diagnostics.h"
#include "vigie/rules/condition.h"
#include "vigie/rules/window.h"

namespace vigie::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kKey = "NRAK-FAKEKEY";
// The FakeClock's start (2026-01-01T00:00:00Z) in ms: violations open around it.
constexpr std::int64_t kT0 = 1'767'225'600'000;

std::unique_ptr<CollectorHarness> harness_for(const FakeNewRelic& nr,
                                              const std::string& extra = "") {
  const std::string toml =
      "base_url = \"" + nr.base_url() + "\"\naccount_id = 1234567\ninterval = \"1m\"\n" + extra;
  return std::make_unique<CollectorHarness>("newrelic", collector_options("newrelic", toml),
                                            std::map<std::string, std::string>{{"api_key", kKey}},
                                            "nr");
}

std::set<std::string> ids(const std::vector<bus::Event>& events) {
  std::set<std::string> out;
  for (const auto& e : events) out.insert(e.id);
  return out;
}

const bus::Event* find_id(const std::vector<bus::Event>& events, const std::string& id) {
  for (const auto& e : events) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

std::vector<json> health_states(CollectorHarness& h) {
  std::vector<json> out;
  for (const auto& e : h.events("collector.health")) out.push_back(e.attrs);
  return out;
}

json summary(double response_time, double throughput, double error_rate, double apdex, int hosts) {
  return {{"response_time", response_time}, {"throughput", throughput},
          {"error_rate", error_rate},       {"apdex_target", 0.5},
          {"apdex_score", apdex},           {"host_count", hosts},
          {"instance_count", hosts}};
}

}  // namespace

TEST_CASE(
    "newrelic: the first poll brings open violations and application health and NRQL rows with the "
    "Api-Key header") {
  FakeNewRelic nr(kKey);
  nr.add_violation(101, kT0 - 600'000,
                   {{"label", "Error percentage > 5.0"}, {"priority", "Critical"}});
  nr.add_violation(
      102, kT0 - 300'000,
      {{"entity",
        {{"product", "Synthetic"}, {"type", "Monitor"}, {"id", 5}, {"name", "checkout ping"}}}});
  nr.set_application(11, "shop-api", "orange", summary(120.5, 900, 0.07, 0.82, 3));
  nr.set_nrql("SELECT count(*) AS errors FROM TransactionError FACET appName SINCE 5 minutes ago",
              json::array({{{"facet", "shop-api"}, {"appName", "shop-api"}, {"errors", 12}},
                           {{"facet", "worker"}, {"appName", "worker"}, {"errors", 0}}}));
  auto h = harness_for(nr, R"(
[[query]]
name = "errors-by-app"
nrql = "SELECT count(*) AS errors FROM TransactionError FACET appName SINCE 5 minutes ago"
)");
  h->run_due();

  auto violations = h->events("newrelic.violation");
  REQUIRE(violations.size() == 2);
  const auto* v = find_id(violations, "newrelic:violation:101:open");
  REQUIRE(v);
  CHECK(v->source == "newrelic");
  CHECK(v->time == from_unix_ms(kT0 - 600'000));
  CHECK(v->attrs["violation_id"] == 101);
  CHECK(v->attrs["status"] == "open");
  CHECK(v->attrs["label"] == "Error percentage > 5.0");
  CHECK(v->attrs["policy_name"] == "Shop API");
  CHECK(v->attrs["condition_name"] == "Error rate high");
  CHECK(v->attrs["priority"] == "Critical");
  CHECK(v->attrs["app"] == "shop-api");
  CHECK(v->attrs["entity"]["product"] == "Apm");
  CHECK(v->attrs["opened_at"] == format_rfc3339(from_unix_ms(kT0 - 600'000)));
  CHECK_FALSE(v->attrs.contains("closed_at"));
  CHECK(v->attrs["incident_id"] == 1101);
  const auto* monitor = find_id(violations, "newrelic:violation:102:open");
  REQUIRE(monitor);
  CHECK_FALSE(monitor->attrs.contains("app"));  // a Synthetics monitor is no application
  CHECK(monitor->attrs["entity"]["name"] == "checkout ping");

  auto apps = h->events("newrelic.app_health");
  REQUIRE(apps.size() == 1);
  CHECK(apps[0].attrs["app"] == "shop-api");
  CHECK(apps[0].attrs["health_status"] == "orange");
  CHECK(apps[0].attrs["error_rate"].is_number());
  CHECK(apps[0].attrs["error_rate"] == 0.07);
  CHECK(apps[0].attrs["host_count"] == 3);
  CHECK(apps[0].attrs["reporting"] == true);

  auto rows = h->events("newrelic.nrql");
  REQUIRE(rows.size() == 2);
  std::map<std::string, json> by_app;
  for (const auto& r : rows) by_app[r.attrs["appName"].get<std::string>()] = r.attrs;
  CHECK(by_app["shop-api"]["query"] == "errors-by-app");
  CHECK(by_app["shop-api"]["errors"] == 12);
  CHECK(by_app["worker"]["errors"] == 0);

  // Every request carried the key in the header the option names, and NerdGraph got its query
  // with the account id and the NRQL as variables.
  const auto reqs = nr.requests();
  REQUIRE(reqs.size() == 3);
  for (const auto& r : reqs) {
    if (r.path == "/graphql") {
      CHECK(r.headers.at("API-Key") == kKey);
      const json body = json::parse(r.body);
      CHECK(body["variables"]["accountId"] == 1234567);
      CHECK(body["variables"]["nrql"].get<std::string>().rfind("SELECT count(*)", 0) == 0);
    } else {
      CHECK(r.headers.at("Api-Key") == kKey);
    }
    CHECK(r.status == 200);
  }
  CHECK(h->cursor());
  CHECK(h->health().state == "ok");
  CHECK(h->log().find(kKey) == std::string::npos);
}

TEST_CASE("newrelic: key_header X-Api-Key sends the legacy REST header") {
  FakeNewRelic nr(kKey);
  nr.add_violation(1, kT0);
  auto h = harness_for(nr, "key_header = \"X-Api-Key\"\napplications = false\n");
  h->run_due();
  CHECK(h->events("newrelic.violation").size() == 1);
  const auto reqs = nr.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].headers.at("X-Api-Key") == kKey);
  CHECK(reqs[0].headers.count("Api-Key") == 0);
}

TEST_CASE("newrelic: a refused key is an error that names the fix but never the key") {
  FakeNewRelic nr("NRAK-THE-RIGHT-ONE");
  auto h = harness_for(nr);
  h->run_due();
  const auto health = h->health();
  CHECK(health.state == "failing");
  CHECK(health.error.find("HTTP 401") != std::string::npos);
  CHECK(health.error.find("api_key") != std::string::npos);
  CHECK(health.error.find(kKey) == std::string::npos);
  CHECK(h->log().find(kKey) == std::string::npos);
  CHECK_FALSE(h->cursor());
}

TEST_CASE(
    "newrelic: violations are followed across Link rel=next pages within the page budget per "
    "poll") {
  FakeNewRelic nr(kKey);
  nr.set_page_size(2);
  for (int i = 1; i <= 5; ++i) nr.add_violation(i, kT0 - i * 60'000);
  for (int i = 1; i <= 3; ++i)
    nr.set_application(i, "app-" + std::to_string(i), "green", summary(50, 10, 0, 1, 1));

  SECTION("all pages in one poll") {
    auto h = harness_for(nr);
    h->run_due();
    CHECK(h->events("newrelic.violation").size() == 5);
    CHECK(h->events("newrelic.app_health").size() == 3);
    CHECK(nr.count("/v2/alerts_violations.json") == 3);
    CHECK(nr.count("/v2/applications.json") == 2);
    // Every page after the first is the link NewRelic gave.
    for (const auto& r : nr.requests()) {
      if (r.path == "/v2/alerts_violations.json")
        CHECK(r.query.find("only_open=true") != std::string::npos);
    }
  }
  SECTION("a listing longer than max_pages goes on at once after the ack, and nothing is skipped") {
    auto h = harness_for(nr, "max_pages = 2\napplications = false\n");
    h->run_due();
    CHECK(h->events("newrelic.violation").size() == 4);
    CHECK(nr.count("/v2/alerts_violations.json") == 2);
    h->run_until_caught_up();
    CHECK(h->events("newrelic.violation").size() == 5);
    CHECK(nr.count("/v2/alerts_violations.json") == 3);
    // The cycle is complete: the next interval starts a new one from page 1 (open listing, then
    // the recent one: 3 pages each, 2 per poll) and re-sends nothing.
    const auto sent = h->health().events;
    h->clock.advance(1min);
    h->run_until_caught_up();
    CHECK(h->health().events == sent);
    CHECK(nr.count("/v2/alerts_violations.json") == 9);
  }
}

TEST_CASE("newrelic: a pagination link to another host is not followed and the key stays home") {
  FakeNewRelic nr(kKey);
  FakeNewRelic elsewhere(kKey);
  nr.set_page_size(1);
  nr.add_violation(1, kT0);
  nr.add_violation(2, kT0);
  nr.set_link_origin(elsewhere.base_url());
  auto h = harness_for(nr, "applications = false\n");
  h->run_due();
  CHECK(h->health().state == "failing");
  CHECK(h->health().error.find("leaves the configured host") != std::string::npos);
  CHECK(elsewhere.requests().empty());
  CHECK(h->events("newrelic.violation").empty());
  CHECK_FALSE(h->cursor());
}

TEST_CASE("newrelic: the cursor survives a restart with no event twice and none skipped") {
  FakeNewRelic nr(kKey);
  nr.add_violation(1, kT0 - 120'000);
  nr.add_violation(2, kT0 - 60'000);
  auto h = harness_for(nr, "applications = false\n");
  h->run_due();
  REQUIRE(h->events("newrelic.violation").size() == 2);
  const auto cursor_before = h->cursor();
  REQUIRE(cursor_before);

  // While Vigie is down: 1 closes, 3 opens, and 4 opens and closes again.
  h->clock.advance(3min);
  nr.close_violation(1, kT0 + 60'000);
  nr.add_violation(3, kT0 + 90'000);
  nr.add_violation(4, kT0 + 100'000);
  nr.close_violation(4, kT0 + 150'000);
  h->restart();
  CHECK(h->cursor() == cursor_before);
  h->run_due();

  // The new process sent exactly what is new: 1 closed, 3 open, 4 open and closed.
  CHECK(h->health().events == 4);
  const auto all = h->events("newrelic.violation");
  CHECK(ids(all) == std::set<std::string>{"newrelic:violation:1:open", "newrelic:violation:2:open",
                                          "newrelic:violation:1:closed",
                                          "newrelic:violation:3:open", "newrelic:violation:4:open",
                                          "newrelic:violation:4:closed"});
  CHECK(all.size() == 6);

  // And again: nothing new means nothing sent, however often it polls or restarts.
  h->restart();
  for (int i = 0; i < 3; ++i) {
    h->clock.advance(1min);
    h->run_due();
  }
  CHECK(h->health().events == 0);
  CHECK(h->events("newrelic.violation").size() == 6);
}

TEST_CASE("newrelic: a closed violation becomes a resolving event with its closed_at") {
  FakeNewRelic nr(kKey);
  nr.add_violation(7, kT0 - 60'000);
  nr.add_violation(8, kT0 - 50'000);
  auto h = harness_for(nr, "applications = false\n");
  h->run_due();
  nr.close_violation(7, kT0 + 30'000);
  h->clock.advance(1min);
  h->run_due();

  const auto all = h->events("newrelic.violation");
  const auto* closed = find_id(all, "newrelic:violation:7:closed");
  REQUIRE(closed);
  CHECK(closed->attrs["status"] == "closed");
  CHECK(closed->attrs["closed_at"] == format_rfc3339(from_unix_ms(kT0 + 30'000)));
  CHECK(closed->attrs["opened_at"] == format_rfc3339(from_unix_ms(kT0 - 60'000)));
  CHECK(closed->attrs["label"] == "Error percentage > 5.0");
  CHECK(closed->attrs["violation_id"] == 7);
  CHECK(closed->time == from_unix_ms(kT0 + 30'000));
  CHECK_FALSE(find_id(all, "newrelic:violation:8:closed"));
  // The "recent" listing asked for violations created since the last poll minus the overlap.
  bool recent_asked = false;
  for (const auto& r : nr.requests())
    recent_asked |= r.query.find("only_open=false&start_date=") != std::string::npos;
  CHECK(recent_asked);

  // The example rules' resolve_when matches it, and their `when` matches the open one only.
  rules::ConditionEnv env;
  config::Diagnostics d;
  auto fire = rules::Condition::compile(
      R"(kind == "newrelic.violation" and not (closed_at exists))", {}, env, d);
  auto resolve =
      rules::Condition::compile(R"(kind == "newrelic.violation" and closed_at exists)", {}, env, d);
  INFO(d.render_text());
  REQUIRE(fire);
  REQUIRE(resolve);
  CHECK(resolve->matches(*closed));
  CHECK_FALSE(fire->matches(*closed));
  CHECK(fire->matches(*find_id(all, "newrelic:violation:7:open")));

  SECTION("a violation NewRelic stops listing closes at the poll, marked estimated") {
    nr.remove_violation(8);
    h->clock.advance(1min);
    h->run_due();
    const auto after = h->events("newrelic.violation");
    const auto* gone = find_id(after, "newrelic:violation:8:closed");
    REQUIRE(gone);
    CHECK(gone->attrs["closed_at_estimated"] == true);
    CHECK(gone->attrs["violation_id"] == 8);
    CHECK(resolve->matches(*gone));
  }
}

TEST_CASE("newrelic: application health arrives each poll as numbers a for rule can hold on") {
  FakeNewRelic nr(kKey);
  nr.set_application(11, "shop-api", "orange", summary(120, 900, 0.07, 0.8, 2));
  nr.set_application(12, "worker", "green", summary(30, 100, 0.0, 1.0, 1));
  auto h = harness_for(nr, "violations = false\n");

  rules::ConditionEnv env;
  config::Diagnostics d;
  auto when = rules::Condition::compile(
      R"(kind == "newrelic.app_health" and app == "shop-api" and error_rate > 0.05)", {}, env, d);
  INFO(d.render_text());
  REQUIRE(when);
  // The example rule: for = "5m", max_gap = "2m".
  rules::WindowTracker window(rules::RuleWindow::holds_for(5min, 2min), h->clock.system_now());
  bool fired_at_4m = true;
  std::size_t seen = 0;
  for (int minute = 0; minute <= 6; ++minute) {
    h->run_due();
    const auto apps = h->events("newrelic.app_health");
    for (std::size_t i = seen; i < apps.size(); ++i) {
      if (when->matches(apps[i])) window.observe(apps[i].time, h->clock.system_now());
    }
    seen = apps.size();
    if (minute == 4) fired_at_4m = window.tick(h->clock.system_now());
    if (minute < 6) h->clock.advance(1min);
  }
  // One sample per app and poll, each a new event.
  CHECK(h->events("newrelic.app_health").size() == 14);
  CHECK_FALSE(fired_at_4m);
  CHECK(window.tick(h->clock.system_now()));

  const auto apps = h->events("newrelic.app_health");
  for (const char* k : {"response_time", "throughput", "error_rate", "apdex_score", "host_count"}) {
    INFO(k);
    CHECK(apps.back().attrs[k].is_number());
  }
}

TEST_CASE("newrelic: a rate-limited poll waits as Retry-After says and then goes on") {
  FakeNewRelic nr(kKey);
  nr.add_violation(1, kT0);
  auto h = harness_for(nr, "applications = false\n");

  SECTION("Retry-After: 150") {
    nr.fail_next("/v2/alerts_violations.json", {429, 150});
    h->run_due();
    CHECK(h->health().rate_limited == 1);
    CHECK(h->events("newrelic.violation").empty());
    CHECK_FALSE(h->cursor());
    // The interval (1m) passes but the wait has not: no request.
    h->clock.advance(1min);
    h->run_due();
    h->clock.advance(1min);
    h->run_due();
    CHECK(nr.count("/v2/alerts_violations.json") == 1);
    h->clock.advance(30s);
    h->run_due();
    CHECK(nr.count("/v2/alerts_violations.json") == 2);
    CHECK(h->events("newrelic.violation").size() == 1);
    // A rate limit is no failure: no health event either way.
    CHECK(h->events("collector.health").empty());
  }
  SECTION("no Retry-After: one minute") {
    nr.fail_next("/v2/alerts_violations.json", {429});
    h->run_due();
    h->clock.advance(59s);
    h->run_due();
    CHECK(nr.count("/v2/alerts_violations.json") == 1);
    h->clock.advance(1s);
    h->run_due();
    CHECK(h->events("newrelic.violation").size() == 1);
  }
  SECTION("NerdGraph's 429 too") {
    nr.set_nrql("SELECT 1", json::array({{{"x", 1}}}));
    auto q =
        harness_for(nr, "applications = false\n[[query]]\nname = \"one\"\nnrql = \"SELECT 1\"\n");
    nr.fail_next("/graphql", {429, 90});
    q->run_due();
    CHECK(q->health().rate_limited == 1);
    q->clock.advance(89s);
    q->run_due();
    CHECK(q->events("newrelic.nrql").empty());
    q->clock.advance(1s);
    q->run_due();
    CHECK(q->events("newrelic.nrql").size() == 1);
  }
}

TEST_CASE("newrelic: a 5xx burst backs off and recovers with one health event each way") {
  FakeNewRelic nr(kKey);
  nr.add_violation(1, kT0);
  nr.set_application(11, "shop-api", "green", summary(100, 10, 0, 1, 1));
  auto h = harness_for(nr);
  nr.fail_next("/v2/alerts_violations.json", {503}, 4);

  h->run_due();
  CHECK(h->health().state == "failing");
  CHECK(h->health().error.find("HTTP 503") != std::string::npos);
  // Backoff 5s, 10s, 20s, 40s (× 0.75 with the harness's fixed jitter): retried before the
  // interval.
  for (int s = 0; s < 40; ++s) {
    h->clock.advance(1s);
    h->run_due();
  }
  // Polls at 0s, 4s, 12s, 27s (the 4th 503); the next at 57s succeeds.
  CHECK(nr.count("/v2/alerts_violations.json") == 4);
  CHECK(h->events("newrelic.violation").empty());
  for (int s = 0; s < 20; ++s) {
    h->clock.advance(1s);
    h->run_due();
  }
  CHECK(nr.count("/v2/alerts_violations.json") == 5);
  CHECK(h->events("newrelic.violation").size() == 1);
  CHECK(h->health().state == "ok");

  const auto states = health_states(*h);
  REQUIRE(states.size() == 2);
  CHECK(states[0]["state"] == "failing");
  CHECK(states[0]["collector"] == "nr");
  CHECK(states[1]["state"] == "ok");
  // The failed polls emitted nothing: the app sample comes once, with the successful poll.
  CHECK(h->events("newrelic.app_health").size() == 1);
}

TEST_CASE("newrelic: malformed and truncated bodies raise an error without moving the cursor") {
  FakeNewRelic nr(kKey);
  nr.add_violation(1, kT0);
  nr.set_application(11, "shop-api", "green", summary(100, 10, 0, 1, 1));
  nr.set_nrql("SELECT 1", json::array({{{"x", 1}}}));
  auto h = harness_for(nr, "[[query]]\nname = \"one\"\nnrql = \"SELECT 1\"\n");
  h->run_due();
  const auto cursor = h->cursor();
  REQUIRE(cursor);
  const auto events_before = h->health().events;
  nr.add_violation(2, kT0 + 10'000);

  auto check_failed_poll = [&](const std::string& what) {
    INFO(what);
    h->clock.advance(1min);
    h->run_due();
    CHECK(h->health().state == "failing");
    CHECK(h->health().error.find(what) != std::string::npos);
    CHECK(h->cursor() == cursor);
    CHECK(h->health().events == events_before);
    CHECK_FALSE(find_id(h->events("newrelic.violation"), "newrelic:violation:2:open"));
  };
  SECTION("malformed violations") {
    nr.fail_next("/v2/alerts_violations.json", {0, std::nullopt, false, true});
    check_failed_poll("malformed JSON");
  }
  SECTION("truncated violations") {
    nr.fail_next("/v2/alerts_violations.json", {0, std::nullopt, true});
    check_failed_poll("malformed JSON");
  }
  SECTION("truncated applications") {
    nr.fail_next("/v2/applications.json", {0, std::nullopt, true});
    check_failed_poll("applications.json: malformed JSON");
  }
  SECTION("malformed NerdGraph") {
    nr.fail_next("/graphql", {0, std::nullopt, false, true});
    check_failed_poll("NerdGraph query 'one': malformed JSON");
  }
  // Once the bodies are whole again the poll goes on from the same cursor.
  h->clock.advance(1min);
  h->run_due();
  CHECK(h->health().state == "ok");
  CHECK(find_id(h->events("newrelic.violation"), "newrelic:violation:2:open"));
  CHECK(h->events("collector.health").size() == 2);
}

TEST_CASE(
    "newrelic: a slow answer within the client timeout is waited for and a slower one is a retried "
    "failure") {
  FakeNewRelic nr(kKey);
  nr.add_violation(1, kT0);
  auto h = harness_for(nr, "applications = false\n");
  SECTION("slow") {
    nr.fail_next("/v2/alerts_violations.json", {0, std::nullopt, false, false, 300ms});
    h->run_due();
    CHECK(h->health().state == "ok");
    CHECK(h->events("newrelic.violation").size() == 1);
  }
  SECTION("too slow (the harness's client gives up after 5s)") {
    nr.fail_next("/v2/alerts_violations.json", {0, std::nullopt, false, false, 5500ms});
    h->run_due();
    CHECK(h->health().state == "failing");
    CHECK(h->health().error.find("timeout") != std::string::npos);
    CHECK_FALSE(h->cursor());
    h->clock.advance(10s);
    h->run_due();
    CHECK(h->events("newrelic.violation").size() == 1);
  }
}

TEST_CASE("newrelic: each NRQL query runs on its own every which survives a restart") {
  FakeNewRelic nr(kKey);
  nr.set_nrql("SELECT fast", json::array({{{"n", 1}}}));
  nr.set_nrql("SELECT slow",
              json::array({{{"average.duration", 0.25}, {"percentile.duration", {{"95", 1.5}}}}}));
  auto h = harness_for(nr, R"(violations = false
applications = false
[[query]]
name = "fast"
nrql = "SELECT fast"
[[query]]
name = "slow"
nrql = "SELECT slow"
every = "5m"
)");
  auto runs = [&](const std::string& name) {
    std::size_t n = 0;
    for (const auto& e : h->events("newrelic.nrql")) n += e.attrs["query"] == name ? 1 : 0;
    return n;
  };
  h->run_due();
  CHECK(runs("fast") == 1);
  CHECK(runs("slow") == 1);
  for (int i = 0; i < 3; ++i) {
    h->clock.advance(1min);
    h->run_due();
  }
  CHECK(runs("fast") == 4);
  CHECK(runs("slow") == 1);
  h->restart();  // 3 minutes after its run: still not due
  h->clock.advance(1min);
  h->run_due();
  CHECK(runs("fast") == 5);
  CHECK(runs("slow") == 1);
  h->clock.advance(1min);
  h->run_due();
  CHECK(runs("slow") == 2);

  // Unaliased aggregates become addressable names.
  const auto rows = h->events("newrelic.nrql");
  const bus::Event* slow = nullptr;
  for (const auto& e : rows) {
    if (e.attrs["query"] == "slow") slow = &e;
  }
  REQUIRE(slow);
  CHECK(slow->attrs["average_duration"] == 0.25);
  CHECK(slow->attrs["percentile_duration_95"] == 1.5);
}

TEST_CASE("newrelic: a bad NRQL query is logged and the rest of the poll goes on") {
  FakeNewRelic nr(kKey);
  nr.add_violation(1, kT0);
  auto h =
      harness_for(nr, "applications = false\n[[query]]\nname = \"typo\"\nnrql = \"SELEC oops\"\n");
  h->run_due();
  CHECK(h->health().state == "ok");
  CHECK(h->events("newrelic.violation").size() == 1);
  CHECK(h->events("newrelic.nrql").empty());
  CHECK(h->log().find("NRQL Syntax Error") != std::string::npos);
}

TEST_CASE("newrelic: bad query tables and a missing account are refused with their position") {
  const std::string base = "base_url = \"http://127.0.0.1:1\"\n";
  std::ostringstream sink;
  Logging logging(LogLevel::error, std::make_shared<SecretRegistry>(), sink);
  auto http = net::make_http_client({}, logging.logger("http"));
  auto make = [&](const std::string& toml) {
    collectors::CollectorSpec spec{
        "nr", "newrelic", collector_options("newrelic", base + toml), {{"api_key", kKey}}};
    return collectors::collector_factory("newrelic")(spec, *http, logging.logger("newrelic"));
  };
  auto no_account = make("[[query]]\nname = \"a\"\nnrql = \"SELECT 1\"\n");
  REQUIRE_FALSE(no_account);
  CHECK(no_account.error().find("account_id") != std::string::npos);
  auto no_nrql = make("account_id = 1\n[[query]]\nname = \"a\"\n");
  REQUIRE_FALSE(no_nrql);
  CHECK(no_nrql.error().find("nrql") != std::string::npos);
  CHECK(no_nrql.error().find("collector.toml:") != std::string::npos);
  auto twice = make(
      "account_id = 1\n[[query]]\nname = \"a\"\nnrql = \"x\"\n[[query]]\nname = \"a\"\nnrql = "
      "\"y\"\n");
  REQUIRE_FALSE(twice);
  CHECK(twice.error().find("a second query named 'a'") != std::string::npos);
  auto unknown = make("account_id = 1\n[[query]]\nname = \"a\"\nnrql = \"x\"\nevry = \"5m\"\n");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().find("evry") != std::string::npos);
  CHECK(make("account_id = 1\n[[query]]\nname = \"a\"\nnrql = \"x\"\nevery = \"5m\"\n"));
}

}  // namespace vigie::testing
