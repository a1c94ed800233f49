// The Sentry collector against the fake Sentry, run the way the daemon runs it (collector
// harness: scheduler on a FakeClock, events acked into a store, cursor committed after them):
// first poll, pagination, restarts, rate limits, 5xx bursts, slow and malformed answers,
// resolutions seen through the issue lookup, the legacy project endpoint.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>

#include "collector_harness.h"
#include "fake_sentry.h"
#include "http_client.h"

using namespace vigie;
using namespace vigie::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string kToken = "sntrys-test-token-4f2a9";

std::string options_for(const FakeSentry& s, const std::string& extra = {}) {
  return "base_url = \"" + s.base_url() + "\"\norganization = \"acme\"\n" + extra;
}

struct Sentry {
  explicit Sentry(const std::string& extra = {},
                  std::map<std::string, std::string> secrets = {{"token", kToken}})
      : harness("sentry", collector_options("sentry", options_for(fake, extra)),
                std::move(secrets)) {}
  FakeSentry fake{kToken};
  CollectorHarness harness;

  std::vector<bus::Event> issues() { return harness.events("sentry.issue"); }
  std::set<std::string> ids() {
    std::set<std::string> out;
    for (const auto& e : issues()) out.insert(e.id);
    return out;
  }
  // Moves the clock a second at a time until the collector asks Sentry again (bounded).
  void poll_again() {
    const auto before = fake.requests().size();
    for (int i = 0; i < 2000 && fake.requests().size() == before; ++i) {
      harness.clock.advance(1s);
      harness.run_until_caught_up();
    }
    REQUIRE(fake.requests().size() > before);
  }
};

const bus::Event* find(const std::vector<bus::Event>& events, const std::string& id) {
  for (const auto& e : events) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("sentry first poll reports each listed issue as new with attrs rules use") {
  Sentry s("projects = [\"shop-api\", \"billing\"]\n");
  s.fake.add_issue({{"id", "101"},
                    {"title", "ZeroDivisionError: division by zero"},
                    {"culprit", "shop.views.checkout"},
                    {"count", "57"},
                    {"userCount", 3},
                    {"firstSeen", "2025-12-31T22:00:00Z"},
                    {"lastSeen", "2025-12-31T23:59:00.500Z"}},
                   "shop-api");
  s.fake.add_issue({{"id", "102"}, {"level", "warning"}}, "billing");
  s.harness.run_due();

  const auto events = s.issues();
  REQUIRE(events.size() == 2);
  const auto* e = find(events, "sentry:101:new");
  REQUIRE(e);
  CHECK(e->source == "sentry");
  CHECK(e->kind == "sentry.issue");
  CHECK(e->time == *parse_rfc3339("2025-12-31T22:00:00Z"));
  CHECK(e->attrs["change"] == "new");
  CHECK(e->attrs["project"] == "shop-api");
  CHECK(e->attrs["issue_id"] == "101");
  CHECK(e->attrs["short_id"] == "SHOP-API-101");
  CHECK(e->attrs["title"] == "ZeroDivisionError: division by zero");
  CHECK(e->attrs["culprit"] == "shop.views.checkout");
  CHECK(e->attrs["level"] == "error");
  CHECK(e->attrs["status"] == "unresolved");
  CHECK(e->attrs["substatus"] == "ongoing");
  CHECK(e->attrs["count"].is_number_integer());  // parsed from Sentry's string
  CHECK(e->attrs["count"] == 57);
  CHECK(e->attrs["user_count"] == 3);
  CHECK(e->attrs["permalink"] == "https://sentry.example/organizations/acme/issues/101/");
  CHECK(e->attrs["first_seen"] == "2025-12-31T22:00:00Z");
  CHECK(e->attrs["last_seen"] == "2025-12-31T23:59:00.500Z");
  REQUIRE(find(events, "sentry:102:new"));
  CHECK(find(events, "sentry:102:new")->attrs["level"] == "warning");

  const auto reqs = s.fake.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].path == "/api/0/organizations/acme/issues/");
  CHECK(reqs[0].headers.at("Authorization") == "Bearer " + kToken);
  CHECK(reqs[0].param("query") == "is:unresolved project:[shop-api,billing]");
  CHECK(reqs[0].param("statsPeriod") == "24h");
  CHECK_FALSE(reqs[0].param("cursor"));
  CHECK(s.harness.health().state == "ok");
  CHECK(s.harness.cursor());
}

TEST_CASE("sentry follows Link pagination while results is true, across polls beyond max_pages") {
  SECTION("all pages in one poll") {
    Sentry s;
    s.fake.set_page_size(2);
    for (int i = 1; i <= 5; ++i) s.fake.add_issue({{"id", std::to_string(100 + i)}});
    s.harness.run_due();
    CHECK(s.issues().size() == 5);
    const auto reqs = s.fake.requests();
    REQUIRE(reqs.size() == 3);
    CHECK_FALSE(reqs[0].param("cursor"));
    CHECK(reqs[1].param("cursor") == "0:2:0");
    CHECK(reqs[2].param("cursor") == "0:4:0");
    CHECK(reqs[2].param("query") == "is:unresolved");  // the other parameters stay
  }
  SECTION("two pages per poll: the listing continues at once") {
    Sentry s("max_pages = 2\n");
    s.fake.set_page_size(2);
    for (int i = 1; i <= 5; ++i) s.fake.add_issue({{"id", std::to_string(100 + i)}});
    s.harness.run_due();
    CHECK(s.issues().size() == 4);
    s.harness.run_until_caught_up();
    CHECK(s.issues().size() == 5);
    CHECK(s.fake.list_requests() == 3);
  }
  SECTION("X-Sentry-Rate-Limit-Remaining 0 stops paging until the next interval") {
    Sentry s;
    s.fake.set_page_size(2);
    for (int i = 1; i <= 5; ++i) s.fake.add_issue({{"id", std::to_string(100 + i)}});
    s.fake.set_rate_limit_remaining(0, 1'767'225'660);
    s.harness.run_until_caught_up();
    CHECK(s.fake.list_requests() == 1);
    CHECK(s.issues().size() == 2);
    s.fake.set_rate_limit_remaining(std::nullopt);
    s.harness.clock.advance(30s);
    s.harness.run_until_caught_up();
    CHECK(s.issues().size() == 5);
  }
}

TEST_CASE("sentry cursor survives restarts: no event twice, none skipped") {
  Sentry s("max_pages = 1\n");
  s.fake.set_page_size(2);
  for (int i = 1; i <= 5; ++i) s.fake.add_issue({{"id", std::to_string(100 + i)}, {"count", "1"}});
  s.harness.run_due();
  CHECK(s.issues().size() == 2);

  // Restart in the middle of a listing; an issue appears meanwhile.
  s.fake.add_issue({{"id", "106"}});
  s.harness.restart();
  s.harness.run_until_caught_up();
  CHECK(s.ids() == std::set<std::string>{"sentry:101:new", "sentry:102:new", "sentry:103:new",
                                         "sentry:104:new", "sentry:105:new", "sentry:106:new"});

  // Changes while "down": each reported once after the restart.
  s.fake.add_events("103", 4, "2026-01-01T00:00:10Z");
  s.fake.set_field("105", "level", "fatal");
  s.harness.restart();
  s.harness.clock.advance(31s);
  s.harness.run_until_caught_up();
  auto events = s.issues();
  REQUIRE(events.size() == 8);
  const auto* grew = find(events, "sentry:103:count:5:1");
  REQUIRE(grew);
  CHECK(grew->attrs["change"] == "count");
  CHECK(grew->attrs["count"] == 5);
  CHECK(grew->attrs["previous"] == 1);
  CHECK(grew->attrs["delta"] == 4);
  CHECK(grew->time == *parse_rfc3339("2026-01-01T00:00:10Z"));
  const auto* level = find(events, "sentry:105:level:fatal:1");
  REQUIRE(level);
  CHECK(level->attrs["previous"] == "error");

  // Nothing changed: a restart and a full listing report nothing.
  s.harness.restart();
  for (int i = 0; i < 4; ++i) {
    s.harness.clock.advance(31s);
    s.harness.run_until_caught_up();
  }
  CHECK(s.issues().size() == 8);
}

TEST_CASE("sentry rate limited: waits until X-Sentry-Rate-Limit-Reset, not the interval") {
  Sentry s;
  s.fake.add_issue({{"id", "101"}, {"count", "3"}});
  s.harness.run_due();
  const auto cursor = s.harness.cursor();
  const std::int64_t now_s = to_unix_ms(s.harness.clock.system_now()) / 1000;

  s.harness.clock.advance(30s);
  s.fake.rate_limit_next(now_s + 30 + 120);  // resets two minutes after this poll
  s.fake.add_events("101", 2, "2026-01-01T00:00:40Z");
  s.harness.run_due();
  CHECK(s.fake.requests().back().status == 429);
  CHECK(s.harness.health().rate_limited == 1);
  CHECK(s.harness.health().state == "ok");  // a rate limit is not a failure
  CHECK(s.harness.cursor() == cursor);
  CHECK(s.issues().size() == 1);
  CHECK(s.harness.log().find("120000") != std::string::npos);

  // 90 s later — three intervals — still waiting.
  const auto asked = s.fake.list_requests();
  for (int i = 0; i < 9; ++i) {
    s.harness.clock.advance(10s);
    s.harness.run_due();
  }
  CHECK(s.fake.list_requests() == asked);
  s.harness.clock.advance(31s);
  s.harness.run_due();
  CHECK(s.fake.list_requests() == asked + 1);
  REQUIRE(s.issues().size() == 2);
  CHECK(find(s.issues(), "sentry:101:count:5:1"));
}

TEST_CASE("sentry 5xx burst backs off and recovers with one health event each way") {
  Sentry s;
  s.fake.add_issue({{"id", "101"}, {"count", "3"}});
  s.harness.run_due();
  s.fake.fail_next(503, 3);
  s.fake.add_events("101", 1, "2026-01-01T00:01:00Z");

  s.poll_again();
  CHECK(s.harness.health().state == "failing");
  CHECK(s.harness.health().error.find("503") != std::string::npos);
  const auto first_failure = s.harness.clock.steady_now();
  s.poll_again();
  s.poll_again();
  // Backed off: the second and third tries came later than at once, within the backoff bounds.
  CHECK(s.harness.clock.steady_now() - first_failure >= 5s);
  CHECK(s.harness.health().state == "failing");
  s.poll_again();
  CHECK(s.harness.health().state == "ok");
  CHECK(s.harness.health().errors == 3);

  const auto health = s.harness.events("collector.health");
  REQUIRE(health.size() == 2);
  CHECK(health[0].attrs["state"] == "failing");
  CHECK(health[1].attrs["state"] == "ok");
  CHECK(s.issues().size() == 2);
  CHECK(find(s.issues(), "sentry:101:count:4:1"));
}

TEST_CASE(
    "sentry malformed, truncated and wrongly shaped bodies raise an error without moving the "
    "cursor") {
  Sentry s;
  s.fake.add_issue({{"id", "101"}, {"count", "3"}});
  s.fake.add_issue({{"id", "102"}});
  s.harness.run_due();
  const auto cursor = s.harness.cursor();
  REQUIRE(cursor);
  s.fake.add_events("101", 2, "2026-01-01T00:01:00Z");

  auto check_failed = [&](const std::string& expect) {
    s.poll_again();
    INFO(s.harness.health().error);
    CHECK(s.harness.health().state == "failing");
    CHECK(s.harness.health().error.find(expect) != std::string::npos);
    CHECK(s.harness.cursor() == cursor);
    CHECK(s.issues().size() == 2);
  };
  s.fake.malformed_next("<html><body>502 Bad Gateway</body></html>");
  check_failed("not valid JSON");
  s.fake.truncate_next();
  check_failed("malformed response from Sentry");
  s.fake.malformed_next(R"({"detail":"not a list"})");
  check_failed("not a JSON array");
  s.fake.malformed_next(R"([{"title":"no id","count":"1"}])");
  check_failed("has no id");
  s.fake.set_field("102", "count", "12abc");
  check_failed("issue 102");
  s.fake.set_field("102", "count", "1");

  s.poll_again();
  CHECK(s.harness.health().state == "ok");
  const auto events = s.issues();
  CHECK(events.size() == 3);
  CHECK(find(events, "sentry:101:count:5:1"));
  CHECK(s.harness.cursor() != cursor);
}

TEST_CASE("sentry slow responses: late within the timeout is fine, beyond it a retry") {
  Sentry s;
  s.fake.add_issue({{"id", "101"}});
  s.fake.delay_next(300ms);
  s.harness.run_due();
  CHECK(s.issues().size() == 1);
  CHECK(s.harness.health().state == "ok");

  // The harness client gives up after 5 s (a GET that timed out is not sent again).
  s.fake.delay_next(5200ms);
  s.fake.add_events("101", 1, "2026-01-01T00:01:00Z");
  const auto cursor = s.harness.cursor();
  s.poll_again();
  CHECK(s.harness.health().state == "failing");
  CHECK(s.harness.health().error.find("timeout") != std::string::npos);
  CHECK(s.harness.cursor() == cursor);
  s.poll_again();
  CHECK(s.harness.health().state == "ok");
  CHECK(s.issues().size() == 2);
}

TEST_CASE(
    "sentry reports a resolution seen by looking up an issue that left the is:unresolved listing") {
  Sentry s;
  s.fake.add_issue({{"id", "101"}, {"count", "9"}});
  s.fake.add_issue({{"id", "102"}});
  s.harness.run_due();

  // Resolved the way Sentry's UI does it: PUT on the issue.
  HttpClient http(s.fake.port());
  const auto put =
      http.request("PUT", "/api/0/organizations/acme/issues/101/", R"({"status":"resolved"})",
                   {{"Authorization", "Bearer " + kToken}, {"Content-Type", "application/json"}});
  REQUIRE(put.status == 200);
  CHECK(json::parse(put.body)["status"] == "resolved");
  s.fake.remove_issue("102");  // deleted: forgotten without an event

  s.poll_again();
  auto events = s.issues();
  REQUIRE(events.size() == 3);
  const auto* resolved = find(events, "sentry:101:status:resolved:1");
  REQUIRE(resolved);
  CHECK(resolved->attrs["change"] == "status");
  CHECK(resolved->attrs["status"] == "resolved");
  CHECK(resolved->attrs["previous"] == "unresolved");
  CHECK(resolved->time == s.harness.clock.system_now());
  bool looked_up = false;  // 102 was looked up and is gone: 404
  for (const auto& r : s.fake.requests())
    looked_up = looked_up || (r.path == "/api/0/organizations/acme/issues/102/" && r.status == 404);
  CHECK(looked_up);
  CHECK(s.harness.health().state == "ok");

  // Out of the listing now: not looked up again.
  const auto before = s.fake.requests().size();
  s.poll_again();
  CHECK(s.fake.requests().size() == before + 1);
  CHECK(s.issues().size() == 3);

  // Regressed: back in the listing with more events.
  s.fake.set_field("101", "status", "unresolved");
  s.fake.set_field("101", "substatus", "regressed");
  s.fake.add_events("101", 1, "2026-01-01T00:05:00Z");
  s.poll_again();
  events = s.issues();
  CHECK(events.size() == 6);
  CHECK(find(events, "sentry:101:count:10:2"));
  CHECK(find(events, "sentry:101:substatus:regressed:3"));
  CHECK(find(events, "sentry:101:status:unresolved:4"));
}

TEST_CASE("sentry legacy project endpoint lists each configured project") {
  Sentry s("endpoint = \"project\"\nprojects = [\"shop-api\", \"billing\"]\nquery = \"\"\n");
  s.fake.add_issue({{"id", "101"}}, "shop-api");
  s.fake.add_issue({{"id", "102"}, {"status", "resolved"}}, "billing");
  s.fake.add_issue({{"id", "103"}}, "other");
  s.harness.run_due();
  CHECK(s.ids() == std::set<std::string>{"sentry:101:new", "sentry:102:new"});
  const auto reqs = s.fake.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].path == "/api/0/projects/acme/shop-api/issues/");
  CHECK(reqs[1].path == "/api/0/projects/acme/billing/issues/");
  CHECK(reqs[1].param("query") ==
        "");  // sent empty: the endpoint's default would hide resolved issues
}

TEST_CASE(
    "sentry options: numeric project ids, start instead of statsPeriod, baseline first poll, "
    "bounded cursor") {
  Sentry s(
      "projects = [\"42\"]\nstart = \"2025-12-01T00:00:00Z\"\nfirst_poll = "
      "\"baseline\"\nmax_issues = 10\n");
  for (int i = 1; i <= 12; ++i) {
    const std::string second = (i < 10 ? "0" : "") + std::to_string(i);
    s.fake.add_issue({{"id", std::to_string(100 + i)},
                      {"lastSeen", "2026-01-01T00:00:" + second + "Z"},
                      {"project", {{"id", "42"}, {"slug", "shop-api"}}}});
  }
  s.harness.run_due();
  CHECK(s.issues().empty());  // baseline: remembered, not reported
  const auto req = s.fake.requests().at(0);
  CHECK(req.params("project") == std::vector<std::string>{"42"});
  CHECK(req.param("query") == "is:unresolved");
  CHECK(req.param("start") == "2025-12-01T00:00:00Z");
  CHECK(req.param("end") == format_rfc3339(s.harness.clock.system_now()));
  CHECK_FALSE(req.param("statsPeriod"));
  // The ten most recently seen are kept.
  const auto cursor = json::parse(*s.harness.cursor());
  CHECK(cursor["i"].size() == 10);
  CHECK_FALSE(cursor["i"].contains("101"));
  CHECK(cursor["i"].contains("112"));

  s.fake.add_events("112", 1, "2026-01-01T00:01:00Z");
  s.poll_again();
  s.harness.run_until_caught_up();
  CHECK(find(s.issues(), "sentry:112:count:2:1"));
}

TEST_CASE("sentry refused token: a clear error, never the token") {
  Sentry s({}, {{"token", "sntrys-wrong-token-77"}});
  s.harness.run_due();
  const auto h = s.harness.health();
  CHECK(h.state == "failing");
  CHECK(h.error.find("401") != std::string::npos);
  CHECK(h.error.find("check the token") != std::string::npos);
  CHECK(h.error.find("sntrys-wrong-token-77") == std::string::npos);
  CHECK(s.harness.log().find("sntrys-wrong-token-77") == std::string::npos);
  CHECK_FALSE(s.harness.cursor());
}
