// The collector scheduler on a FakeClock with scripted collectors: intervals, cursors committed
// only after an ack, pagination at once, rate limits, backoff, health events each way, permanent
// errors retried slowly, a throwing collector contained; and Link header parsing.
#include <catch2/catch.hpp>

#include <deque>
#include <sstream>

#include "vigie/collectors/scheduler.h"

using namespace vigie;
using namespace vigie::collectors;
using namespace std::chrono_literals;

namespace {

class ScriptedCollector : public Collector {
 public:
  std::deque<PollResult> script;
  std::vector<std::optional<std::string>> cursors_seen;
  PollResult poll(const PollContext& ctx) override {
    cursors_seen.push_back(ctx.cursor);
    if (script.empty()) return {};
    auto r = script.front();
    script.pop_front();
    if (r.error == "throw") throw std::runtime_error("boom");
    return r;
  }
};

PollResult ok(std::vector<std::string> ids, std::optional<std::string> cursor, bool more = false) {
  PollResult r;
  for (auto& id : ids) {
    bus::Event e;
    e.id = id;
    e.source = "test";
    e.kind = "test.thing";
    r.events.push_back(e);
  }
  r.cursor = std::move(cursor);
  r.more = more;
  return r;
}

PollResult failed(PollStatus s, std::string error = "HTTP 503", Duration retry_after = Duration{0}) {
  PollResult r;
  r.status = s;
  r.error = std::move(error);
  r.retry_after = retry_after;
  return r;
}

struct Fixture {
  std::ostringstream log_out;
  Logging logging{LogLevel::info, std::make_shared<SecretRegistry>(), log_out};
  FakeClock clock;
  Metrics metrics;
  ScriptedCollector* collector = nullptr;
  std::vector<std::vector<bus::Event>> batches;
  bool ack = true;
  std::optional<std::string> stored_cursor;
  std::unique_ptr<CollectorScheduler> scheduler;

  Fixture() {
    auto c = std::make_unique<ScriptedCollector>();
    collector = c.get();
    std::vector<ScheduledCollector> list;
    list.push_back({"sentry-main", "sentry", std::move(c), 30s, 10s});
    SchedulerOptions o;
    o.metrics = &metrics;
    scheduler = std::make_unique<CollectorScheduler>(
        std::move(list),
        [this](std::vector<bus::Event> b) {
          batches.push_back(b);
          return ack;
        },
        [this](const std::string& name) { return name == "sentry-main" ? stored_cursor : std::nullopt; }, clock,
        logging.logger("collectors"), o, [] { return 0.5; });  // 0.5: no jitter, half-way backoff
  }

  std::size_t polls() const { return collector->cursors_seen.size(); }
  std::vector<bus::Event> health_events() const {
    std::vector<bus::Event> out;
    for (const auto& b : batches) {
      for (const auto& e : b) {
        if (e.kind == kHealthEventKind) out.push_back(e);
      }
    }
    return out;
  }
};

}  // namespace

TEST_CASE("the first poll starts from the stored cursor, then every interval, and the cursor rides with the events") {
  Fixture f;
  f.stored_cursor = "c0";
  f.collector->script = {ok({"a", "b"}, "c1"), ok({}, "c1"), ok({"c"}, "c2")};
  f.scheduler->run_due();
  REQUIRE(f.polls() == 1);
  CHECK(f.collector->cursors_seen[0] == "c0");
  REQUIRE(f.batches.size() == 1);
  REQUIRE(f.batches[0].size() == 3);
  CHECK(f.batches[0][2].kind == kCursorEventKind);  // after the events: committed with them
  CHECK(f.batches[0][2].attrs["cursor"] == "c1");
  CHECK(f.batches[0][2].attrs["collector"] == "sentry-main");

  f.clock.advance(29s);
  f.scheduler->run_due();
  CHECK(f.polls() == 1);  // not due yet
  f.clock.advance(1s);
  f.scheduler->run_due();
  CHECK(f.polls() == 2);
  CHECK(f.collector->cursors_seen[1] == "c1");
  CHECK(f.batches.size() == 1);  // nothing new, cursor unchanged: nothing sent
  f.clock.advance(30s);
  f.scheduler->run_due();
  CHECK(f.collector->cursors_seen[2] == "c1");
  CHECK(f.batches.back().back().attrs["cursor"] == "c2");
  CHECK(f.scheduler->health()[0].events == 3);
  CHECK(f.scheduler->health()[0].state == "ok");
}

TEST_CASE("events that are not acknowledged leave the cursor where it was, so the next poll fetches them again") {
  Fixture f;
  f.ack = false;
  f.collector->script = {ok({"a"}, "c1"), ok({"a"}, "c1")};
  f.scheduler->run_due();
  f.ack = true;
  f.clock.advance(10min);
  f.scheduler->run_due();
  REQUIRE(f.polls() == 2);
  CHECK_FALSE(f.collector->cursors_seen[1].has_value());  // still the old (none)
  CHECK(f.batches.back().front().id == "a");
}

TEST_CASE("more pages are fetched at once, not after an interval") {
  Fixture f;
  f.collector->script = {ok({"a"}, "p2", true), ok({"b"}, "p3", true), ok({"c"}, "done")};
  auto next = f.scheduler->run_due();
  REQUIRE(next);
  CHECK(*next == f.clock.steady_now());
  f.scheduler->run_due();
  f.scheduler->run_due();
  CHECK(f.polls() == 3);
  CHECK(f.collector->cursors_seen[2] == "p3");
}

TEST_CASE("a rate-limited poll waits as long as the upstream said, and is not a failure") {
  Fixture f;
  f.collector->script = {failed(PollStatus::rate_limited, "429", 45s), ok({"a"}, "c1")};
  f.scheduler->run_due();
  f.clock.advance(44s);
  f.scheduler->run_due();
  CHECK(f.polls() == 1);
  f.clock.advance(1s);
  f.scheduler->run_due();
  CHECK(f.polls() == 2);
  CHECK(f.health_events().empty());
  CHECK(f.scheduler->health()[0].rate_limited == 1);
  CHECK(f.metrics.render().find("vigie_collector_rate_limited_total{collector=\"sentry-main\"} 1") != std::string::npos);
}

TEST_CASE("a burst of 5xx backs off exponentially and recovers, with one health event each way") {
  Fixture f;
  f.collector->script = {failed(PollStatus::retry), failed(PollStatus::retry), failed(PollStatus::retry),
                         ok({"a"}, "c1")};
  f.scheduler->run_due();  // failure 1: backoff 5s * 0.75 (random 0.5 → 75%)
  CHECK(f.scheduler->health()[0].state == "failing");
  f.clock.advance(3749ms);
  f.scheduler->run_due();
  CHECK(f.polls() == 1);
  f.clock.advance(1ms);
  f.scheduler->run_due();  // failure 2: 10s * 0.75
  CHECK(f.polls() == 2);
  f.clock.advance(7500ms);
  f.scheduler->run_due();  // failure 3: 20s * 0.75
  CHECK(f.polls() == 3);
  f.clock.advance(15s);
  f.scheduler->run_due();  // recovers
  CHECK(f.polls() == 4);
  const auto health = f.health_events();
  REQUIRE(health.size() == 2);
  CHECK(health[0].attrs["state"] == "failing");
  CHECK(health[0].attrs["error"] == "HTTP 503");
  CHECK(health[1].attrs["state"] == "ok");
  CHECK(f.scheduler->health()[0].state == "ok");
  CHECK(f.scheduler->health()[0].errors == 3);
  CHECK(f.log_out.str().find("collector failing") != std::string::npos);
}

TEST_CASE("a permanent error is retried slowly, and a throwing collector does not stop the scheduler") {
  Fixture f;
  f.collector->script = {failed(PollStatus::error, "invalid token"), failed(PollStatus::retry, "throw"),
                         ok({"a"}, "c1")};
  f.scheduler->run_due();
  f.clock.advance(299s);
  f.scheduler->run_due();
  CHECK(f.polls() == 1);
  f.clock.advance(1s);
  f.scheduler->run_due();  // throws inside
  CHECK(f.polls() == 2);
  CHECK(f.scheduler->health()[0].error.find("collector threw") != std::string::npos);
  f.clock.advance(10min);
  f.scheduler->run_due();
  CHECK(f.scheduler->health()[0].state == "ok");
}

TEST_CASE("Link headers give the next page, and Sentry's results=false ends pagination") {
  const std::string nr =
      R"(<https://api.newrelic.com/v2/alerts_violations.json?page=2>; rel="next", <https://api.newrelic.com/v2/alerts_violations.json?page=5>; rel="last")";
  CHECK(link_with_rel(nr, "next") == "https://api.newrelic.com/v2/alerts_violations.json?page=2");
  CHECK(link_with_rel(nr, "last") == "https://api.newrelic.com/v2/alerts_violations.json?page=5");
  CHECK_FALSE(link_with_rel(nr, "prev"));
  const std::string sentry_more =
      R"(<https://sentry.io/api/0/organizations/acme/issues/?&cursor=100:0:1>; rel="previous"; results="false"; cursor="100:0:1", <https://sentry.io/api/0/organizations/acme/issues/?&cursor=100:100:0>; rel="next"; results="true"; cursor="100:100:0")";
  CHECK(link_with_rel(sentry_more, "next", true) == "https://sentry.io/api/0/organizations/acme/issues/?&cursor=100:100:0");
  const std::string sentry_end =
      R"(<https://sentry.io/api/0/x/?&cursor=1:0:1>; rel="previous"; results="true"; cursor="1:0:1", <https://sentry.io/api/0/x/?&cursor=1:100:0>; rel="next"; results="false"; cursor="1:100:0")";
  CHECK_FALSE(link_with_rel(sentry_end, "next", true));
  CHECK_FALSE(link_with_rel("", "next"));
  CHECK_FALSE(link_with_rel("<broken", "next"));
}

namespace {

class RecordingHttp : public net::HttpClient {
 public:
  std::vector<std::optional<Duration>> timeouts;  // of every request sent on
  tl::expected<net::ClientResponse, net::ClientError> send(const net::ClientRequest& r) override {
    timeouts.push_back(r.timeout);
    return net::ClientResponse{200, {}, "{}"};
  }
};

net::ClientRequest some_request() {
  net::ClientRequest req;
  req.url = *net::parse_url("http://127.0.0.1:1/x");
  return req;
}

// Sends one request per poll through the client it was built with, as a real collector does.
class OneRequestCollector : public Collector {
 public:
  explicit OneRequestCollector(net::HttpClient& http) : http_(http) {}
  PollResult poll(const PollContext&) override {
    (void)http_.send(some_request());
    return {};
  }

 private:
  net::HttpClient& http_;
};

}  // namespace

TEST_CASE("a poll's requests share its timeout: each gets what is left, none is sent once it is spent") {
  FakeClock clock;
  RecordingHttp inner;
  PollBudget budget(inner, clock);
  auto req = some_request();
  REQUIRE(budget.send(req));  // no poll started: the request goes as it is
  CHECK_FALSE(inner.timeouts.back().has_value());
  budget.start(10s);
  REQUIRE(budget.send(req));
  CHECK(inner.timeouts.back() == Duration{10'000});
  clock.advance(4s);
  REQUIRE(budget.send(req));
  CHECK(inner.timeouts.back() == Duration{6'000});
  req.timeout = 2s;  // a request's own shorter timeout stands
  REQUIRE(budget.send(req));
  CHECK(inner.timeouts.back() == Duration{2'000});
  clock.advance(7s);
  auto spent = budget.send(req);
  REQUIRE_FALSE(spent);
  CHECK(spent.error().kind == net::ClientErrorKind::timeout);
  CHECK(spent.error().retryable());
  CHECK(spent.error().message == "the poll's timeout (10s) was used up");
  CHECK(inner.timeouts.size() == 4);  // that one was never sent
  budget.start(10s);                  // the next poll starts afresh
  REQUIRE(budget.send(req));
}

TEST_CASE("the scheduler starts each collector's budget before each of its polls") {
  std::ostringstream log_out;
  Logging logging{LogLevel::info, std::make_shared<SecretRegistry>(), log_out};
  FakeClock clock;
  RecordingHttp inner;
  auto budget = std::make_shared<PollBudget>(inner, clock);
  std::vector<ScheduledCollector> list;
  list.push_back({"nr", "newrelic", std::make_unique<OneRequestCollector>(*budget), 30s, 10s, budget});
  CollectorScheduler scheduler(
      std::move(list), [](std::vector<bus::Event>) { return true; },
      [](const std::string&) { return std::optional<std::string>(); }, clock, logging.logger("collectors"), {},
      [] { return 0.5; });
  scheduler.run_due();
  REQUIRE(inner.timeouts.size() == 1);
  CHECK(inner.timeouts[0] == Duration{10'000});
  clock.advance(30s);  // long past the first budget: the second poll has a whole one again
  scheduler.run_due();
  REQUIRE(inner.timeouts.size() == 2);
  CHECK(inner.timeouts[1] == Duration{10'000});
}
