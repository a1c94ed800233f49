// The `papertrail` collector against the fake Papertrail, run the way `vigie run` runs it (the
// scheduler on a FakeClock, events acked into a store, the cursor committed after its events):
// first poll, pagination, restarts, rate limits, 5xx bursts, malformed bodies, slow answers and
// ids above 2^53.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "collector_harness.h"
#include "fake_papertrail.h"
#include "vigie/collectors/papertrail.h"

namespace {

using vigie::Duration;
using vigie::testing::CollectorHarness;
using vigie::testing::FakePapertrail;
using namespace std::chrono_literals;

constexpr const char* kToken = "pt-fake-token";

struct Rig {
  FakePapertrail fake{kToken};
  std::unique_ptr<CollectorHarness> h;

  explicit Rig(const std::string& extra = "") {
    auto options = vigie::testing::collector_options(
        "papertrail", "base_url = \"" + fake.base_url() + "\"\n" + extra);
    h = std::make_unique<CollectorHarness>("papertrail", options,
                                           std::map<std::string, std::string>{{"token", kToken}});
  }

  std::vector<vigie::bus::Event> logs() { return h->events("papertrail.log"); }
  std::vector<std::string> messages() {
    std::vector<std::string> out;
    for (const auto& e : logs()) out.push_back(e.attrs["message"].get<std::string>());
    return out;
  }
  // Moves time on and polls whatever is due (following pages polled "at once").
  void tick(Duration d) {
    h->clock.advance(d);
    h->run_until_caught_up();
  }
};

std::vector<std::string> numbered(const std::string& prefix, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(prefix + " " + std::to_string(i));
  return out;
}

void require_unique_ids(const std::vector<vigie::bus::Event>& events) {
  std::set<std::string> ids;
  for (const auto& e : events) ids.insert(e.id);
  REQUIRE(ids.size() == events.size());
}

}  // namespace

TEST_CASE(
    "papertrail first poll reads the newest lines with the token and filters, and starts the "
    "cursor there",
    "[papertrail]") {
  Rig rig(
      "query = \"checkout\"\nsystem_id = \"shop-api\"\ngroup_id = \"7\"\napp = \"shop-api\"\nlimit "
      "= 3\n");
  rig.fake.add({0, "web-1", "app/web.1", "Info", "Local7", "checkout ok 1"});
  rig.fake.add({0, "web-2", "app/web.2", "Info", "Local7", "checkout ok 2"});
  rig.fake.add({0, "web-1", "", "Info", "Local7", "unrelated line"});
  rig.fake.add({0, "web-1", "app/web.1", "Info", "Local7", "checkout ok 3"});
  FakePapertrail::Line err;
  err.hostname = "worker-3";
  err.program = "app/worker.1";
  err.severity = "Error";
  err.facility = "User";
  err.message = "checkout failed: card declined";
  const auto err_id = rig.fake.add(err);

  rig.h->run_due();

  // Only the newest page (limit 3) of the matching lines: history is not replayed on a first start.
  REQUIRE(rig.messages() == std::vector<std::string>{"checkout ok 2", "checkout ok 3",
                                                     "checkout failed: card declined"});
  const auto events = rig.logs();
  const auto& e = events.back();
  CHECK(e.id == "papertrail:" + std::to_string(err_id));
  CHECK(e.source == "papertrail");
  CHECK(e.kind == "papertrail.log");
  CHECK(e.attrs["id"] == std::to_string(err_id));
  CHECK(e.attrs["hostname"] == "worker-3");
  CHECK(e.attrs["host"] == "worker-3");
  CHECK(e.attrs["program"] == "app/worker.1");
  CHECK(e.attrs["severity"] == "Error");
  CHECK(e.attrs["level"] == "error");
  CHECK(e.attrs["facility"] == "User");
  CHECK(e.attrs["source_name"] == "shop-api");
  CHECK(e.attrs["app"] == "shop-api");
  CHECK(e.attrs["collector"] == "test");
  // The event time is Papertrail's received_at (the fake's fifth line: 00:00:04Z).
  CHECK(vigie::format_rfc3339(e.time) == "2026-01-01T00:00:04.000Z");
  CHECK(rig.h->cursor() == std::to_string(err_id));
  CHECK(rig.h->health().state == "ok");

  auto reqs = rig.fake.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].status == 200);
  CHECK(reqs[0].headers.at("X-Papertrail-Token") == kToken);
  CHECK(reqs[0].param("q") == "checkout");
  CHECK(reqs[0].param("system_id") == "shop-api");
  CHECK(reqs[0].param("group_id") == "7");
  CHECK(reqs[0].param("limit") == "3");
  CHECK_FALSE(reqs[0].param("min_id"));

  SECTION("the next poll continues from the cursor with min_id and tail=false") {
    rig.fake.add({0, "web-1", "app/web.1", "Info", "Local7", "checkout ok 4"});
    rig.h->clock.advance(29s);
    rig.h->run_due();
    CHECK(rig.fake.request_count() == 1);  // not due before the interval
    rig.tick(1s);
    reqs = rig.fake.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[1].param("min_id") == std::to_string(err_id));
    CHECK(reqs[1].param("tail") == "false");
    CHECK(rig.messages().back() == "checkout ok 4");
    CHECK(rig.logs().size() == 4);
  }
}

TEST_CASE("papertrail pagination follows max_id until caught up", "[papertrail]") {
  const bool small_budget = GENERATE(false, true);
  Rig rig(std::string("limit = 10\n") + (small_budget ? "max_pages = 2\n" : ""));
  rig.fake.add_lines(1, "before");
  rig.h->run_due();
  REQUIRE(rig.logs().size() == 1);
  const auto ids = rig.fake.add_lines(25, "line");

  rig.tick(30s);

  auto expected = numbered("line", 1, 25);
  expected.insert(expected.begin(), "before 1");
  CHECK(rig.messages() ==
        expected);  // all of them, in order: none skipped (tail=false), none twice
  require_unique_ids(rig.logs());
  auto reqs = rig.fake.requests();
  REQUIRE(reqs.size() == 4);
  // Each page starts where the previous one ended.
  CHECK(reqs[2].param("min_id") == std::to_string(ids[9]));
  CHECK(reqs[3].param("min_id") == std::to_string(ids[19]));
  for (std::size_t i = 1; i < reqs.size(); ++i) CHECK(reqs[i].param("tail") == "false");
  CHECK(rig.h->cursor() == std::to_string(ids.back()));

  // Caught up: the next poll asks once and gets nothing new.
  rig.tick(30s);
  CHECK(rig.fake.request_count() == 5);
  CHECK(rig.logs().size() == 26);
}

TEST_CASE("papertrail cursor survives a restart with no event twice and none skipped",
          "[papertrail]") {
  Rig rig("limit = 4\n");
  rig.fake.add_lines(3, "first");
  rig.h->run_due();
  REQUIRE(rig.logs().size() == 3);
  const auto cursor = rig.h->cursor();
  REQUIRE(cursor);

  rig.fake.add_lines(6, "while down");
  rig.h->restart();
  rig.h->run_until_caught_up();
  auto reqs = rig.fake.requests();
  CHECK(reqs.at(1).param("min_id") == *cursor);  // the restarted collector resumes from the store
  auto expected = numbered("first", 1, 3);
  for (auto& m : numbered("while down", 1, 6)) expected.push_back(m);
  CHECK(rig.messages() == expected);

  SECTION("events that were not acknowledged are fetched again after a restart") {
    rig.fake.add_lines(2, "unacked");
    rig.h->fail_ingest(true);
    rig.tick(30s);
    CHECK(rig.logs().size() == 9);
    const auto before = rig.h->cursor();
    CHECK(before == std::to_string(rig.fake.newest_id() - 14));  // unchanged: the last acked line

    rig.h->restart();
    rig.h->fail_ingest(false);
    rig.h->run_until_caught_up();
    for (auto& m : numbered("unacked", 1, 2)) expected.push_back(m);
    CHECK(rig.messages() == expected);
    require_unique_ids(rig.logs());
    CHECK(rig.h->cursor() == std::to_string(rig.fake.newest_id()));
  }
}

TEST_CASE("papertrail rate-limited poll waits as the X-Rate-Limit headers say", "[papertrail]") {
  Rig rig("limit = 10\n");
  rig.fake.add_lines(1, "before");
  rig.h->run_due();
  rig.fake.rate_limit(2, 7);
  rig.fake.add_lines(25, "line");

  // Two pages spend the window (X-Rate-Limit-Remaining: 0): the poll keeps them and stops.
  rig.tick(30s);
  CHECK(rig.fake.request_count() == 3);
  CHECK(rig.logs().size() == 21);

  // The next poll is refused with X-Rate-Limit-Reset: 7 and waits exactly that long.
  rig.tick(30s);
  REQUIRE(rig.fake.request_count() == 4);
  CHECK(rig.fake.requests().back().status == 429);
  CHECK(rig.h->health().rate_limited == 1);
  CHECK(rig.h->health().state == "ok");  // a rate limit is not an outage
  CHECK(rig.logs().size() == 21);
  rig.tick(6900ms);
  CHECK(rig.fake.request_count() == 4);
  rig.fake.reset_rate_window();
  rig.tick(100ms);
  CHECK(rig.fake.request_count() == 5);
  auto expected = numbered("line", 1, 25);
  expected.insert(expected.begin(), "before 1");
  CHECK(rig.messages() == expected);
  require_unique_ids(rig.logs());

  SECTION(
      "a 429 with Retry-After only waits that long, one without any header 5 s doubling per 429 in "
      "a row") {
    rig.fake.rate_limit(std::nullopt);
    rig.fake.rate_limit_next_without_headers(3);
    rig.fake.rate_limit_next_without_headers(std::nullopt);
    rig.fake.rate_limit_next_without_headers(std::nullopt);
    rig.tick(30s);  // 429, Retry-After: 3
    CHECK(rig.fake.request_count() == 6);
    rig.tick(2999ms);
    CHECK(rig.fake.request_count() == 6);
    rig.tick(1ms);  // 429, no header, the second in a row: 10 s
    CHECK(rig.fake.request_count() == 7);
    rig.tick(9999ms);
    CHECK(rig.fake.request_count() == 7);
    rig.tick(1ms);  // the third: 20 s
    CHECK(rig.fake.request_count() == 8);
    rig.tick(19999ms);
    CHECK(rig.fake.request_count() == 8);
    rig.tick(1ms);
    CHECK(rig.fake.request_count() == 9);
    CHECK(rig.fake.requests().back().status == 200);
    CHECK(rig.h->health().rate_limited == 4);
  }
}

TEST_CASE("papertrail 5xx burst backs off and recovers with one health event each way",
          "[papertrail]") {
  Rig rig;
  rig.fake.add_lines(1, "before");
  rig.h->run_due();
  rig.fake.fail_next(503, 2);
  rig.fake.fail_next(500, 1);
  rig.fake.add_lines(2, "after");

  rig.tick(30s);
  CHECK(rig.fake.request_count() == 2);
  CHECK(rig.h->health().state == "failing");
  CHECK(rig.h->health().error == "papertrail: HTTP 503");
  const auto cursor = rig.h->cursor();

  // Backoff with the harness's jitter (0.5): 3.75 s, then 7.5 s, then 15 s.
  rig.tick(3749ms);
  CHECK(rig.fake.request_count() == 2);
  rig.tick(1ms);
  CHECK(rig.fake.request_count() == 3);
  rig.tick(7499ms);
  CHECK(rig.fake.request_count() == 3);
  rig.tick(1ms);
  CHECK(rig.fake.request_count() == 4);
  CHECK(rig.h->health().error == "papertrail: HTTP 500");
  CHECK(rig.h->cursor() == cursor);
  rig.tick(14999ms);
  CHECK(rig.fake.request_count() == 4);
  rig.tick(1ms);
  CHECK(rig.fake.request_count() == 5);

  CHECK(rig.h->health().state == "ok");
  CHECK(rig.h->health().errors == 3);
  CHECK(rig.messages() == std::vector<std::string>{"before 1", "after 1", "after 2"});
  const auto health = rig.h->events("collector.health");
  REQUIRE(health.size() == 2);
  CHECK(health[0].attrs["state"] == "failing");
  CHECK(health[0].attrs["collector"] == "test");
  CHECK(health[1].attrs["state"] == "ok");
}

TEST_CASE("papertrail malformed bodies raise an error without crashing or moving the cursor",
          "[papertrail]") {
  const auto kind =
      GENERATE(FakePapertrail::Malformed::truncated, FakePapertrail::Malformed::not_json,
               FakePapertrail::Malformed::wrong_shape, FakePapertrail::Malformed::bad_id);
  Rig rig("limit = 2\n");
  rig.fake.add_lines(1, "before");
  rig.h->run_due();
  const auto cursor = rig.h->cursor();
  REQUIRE(cursor);
  rig.fake.add_lines(3, "after");

  SECTION("on the first page") { rig.fake.malform_next(kind); }
  SECTION("on a later page: the pages before it are not kept either") {
    rig.fake.malform_next(kind, 1);
  }
  rig.tick(30s);
  CHECK(rig.h->health().state == "failing");
  CHECK(rig.h->health().error.find("papertrail: malformed response") == 0);
  CHECK(rig.h->cursor() == cursor);
  CHECK(rig.logs().size() == 1);
  const auto health = rig.h->events("collector.health");
  REQUIRE(health.size() == 1);

  rig.tick(3750ms);
  CHECK(rig.h->health().state == "ok");
  CHECK(rig.messages() == std::vector<std::string>{"before 1", "after 1", "after 2", "after 3"});
  require_unique_ids(rig.logs());
  CHECK(rig.h->cursor() == std::to_string(rig.fake.newest_id()));
}

TEST_CASE("papertrail ids above 2^53 keep their exact digits in events and cursors",
          "[papertrail]") {
  const bool numbers = GENERATE(false, true);
  const std::uint64_t start =
      GENERATE(std::uint64_t{9'007'199'254'740'993}, std::uint64_t{18'446'744'073'709'551'000});
  // Through a double these ids would change: the test would catch any such conversion.
  REQUIRE(std::to_string(static_cast<double>(start)).rfind(std::to_string(start), 0) != 0);
  Rig rig("limit = 2\n");
  rig.fake.ids_as_numbers(numbers);
  rig.fake.set_next_id(start);
  const auto first = rig.fake.add_lines(1, "first");
  rig.h->run_due();
  REQUIRE(rig.logs().size() == 1);
  CHECK(rig.logs()[0].attrs["id"] == std::to_string(start));
  CHECK(rig.logs()[0].attrs["id"].is_string());
  CHECK(rig.logs()[0].id == "papertrail:" + std::to_string(start));
  CHECK(rig.h->cursor() == std::to_string(start));

  const auto more = rig.fake.add_lines(3, "more");
  rig.tick(30s);
  auto reqs = rig.fake.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[1].param("min_id") == std::to_string(first[0]));
  CHECK(reqs[2].param("min_id") == std::to_string(more[1]));
  const auto events = rig.logs();
  REQUIRE(events.size() == 4);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(events[i + 1].attrs["id"] == std::to_string(more[i]));
    CHECK(events[i + 1].id == "papertrail:" + std::to_string(more[i]));
  }
  CHECK(rig.h->cursor() == std::to_string(more[2]));
}

TEST_CASE("papertrail slow answers are waited for within the timeout and fail the poll beyond it",
          "[papertrail]") {
  FakePapertrail fake{kToken};
  fake.add_lines(2, "line");
  std::ostringstream out;
  vigie::Logging logging{vigie::LogLevel::error, std::make_shared<vigie::SecretRegistry>(), out};
  vigie::net::HttpClientOptions ho;
  ho.request_timeout = 300ms;
  auto http = vigie::net::make_http_client(ho, logging.logger("http"));
  auto options =
      vigie::testing::collector_options("papertrail", "base_url = \"" + fake.base_url() + "\"\n");
  auto factory = vigie::collectors::collector_factory("papertrail");
  REQUIRE(factory);
  auto c = factory({"slow", "papertrail", options, {{"token", kToken}}}, *http,
                   logging.logger("papertrail"));
  REQUIRE(c);
  vigie::FakeClock clock;

  fake.delay_next(100ms);
  auto ok = (*c)->poll({std::nullopt, clock.system_now(), 20s});
  CHECK(ok.status == vigie::collectors::PollStatus::ok);
  CHECK(ok.events.size() == 2);

  fake.delay_next(700ms);  // past the client's 300 ms (a GET that timed out is not sent again)
  auto slow = (*c)->poll({ok.cursor, clock.system_now(), 20s});
  CHECK(slow.status == vigie::collectors::PollStatus::retry);
  CHECK(slow.error.find("timeout") != std::string::npos);
  CHECK_FALSE(slow.cursor);
  CHECK(slow.events.empty());
}

TEST_CASE("papertrail refused token is a permanent error that never shows the token",
          "[papertrail]") {
  FakePapertrail fake{"the-right-token"};
  std::ostringstream out;
  vigie::Logging logging{vigie::LogLevel::error, std::make_shared<vigie::SecretRegistry>(), out};
  auto http = vigie::net::make_http_client({}, logging.logger("http"));
  auto options =
      vigie::testing::collector_options("papertrail", "base_url = \"" + fake.base_url() + "\"\n");
  auto c = vigie::collectors::collector_factory("papertrail")(
      {"bad", "papertrail", options, {{"token", "wrong-token-123"}}}, *http,
      logging.logger("papertrail"));
  REQUIRE(c);
  vigie::FakeClock clock;
  auto r = (*c)->poll({std::nullopt, clock.system_now(), 20s});
  CHECK(r.status == vigie::collectors::PollStatus::error);
  CHECK(r.error == "papertrail: HTTP 401: the token was refused");
  CHECK(r.error.find("wrong-token-123") == std::string::npos);

  auto missing = vigie::collectors::collector_factory("papertrail")(
      {"bad", "papertrail", options, {}}, *http, logging.logger("papertrail"));
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == "token is required");
}

TEST_CASE("papertrail pages parse ids as exact digits and refuse what a double would round",
          "[papertrail]") {
  using vigie::collectors::parse_papertrail_page;
  auto p = parse_papertrail_page(
      R"({"events":[{"id":18446744073709551615,"message":"m","program":null},{"id":"9007199254740993"}],)"
      R"("min_id":"1","max_id":9007199254740993,"reached_end":true})");
  REQUIRE(p);
  CHECK(p->events[0].id == "18446744073709551615");
  CHECK(p->events[0].program.empty());
  CHECK(p->events[1].id == "9007199254740993");
  CHECK(p->max_id == "9007199254740993");
  CHECK(p->reached_end);
  CHECK_FALSE(parse_papertrail_page(R"({"events":[{"id":1.8e19}]})"));
  CHECK_FALSE(parse_papertrail_page(R"({"events":[{"id":"12a"}]})"));
  CHECK_FALSE(parse_papertrail_page(R"({"events":[{"id":"18446744073709551616"}]})"));
  CHECK_FALSE(parse_papertrail_page(R"({"events":[{"id":"1"})"));
  CHECK(vigie::collectors::papertrail_id_less("9007199254740992", "9007199254740993"));
  CHECK_FALSE(vigie::collectors::papertrail_id_less("9007199254740993", "9007199254740993"));
}
