// Windows at their edges, with late events, clock jumps, the memory bound and replay.
#include <catch2/catch.hpp>

#include "vigie/rules/window.h"

using namespace vigie;
using namespace vigie::rules;
using namespace std::chrono_literals;

namespace {
const TimePoint T0 = from_unix_ms(1'767'225'600'000);
TimePoint at(Duration d) { return T0 + d; }
}  // namespace

TEST_CASE("count: exactly N within the window holds, N-1 does not") {
  WindowTracker w(RuleWindow::count(5, 10min), T0);
  for (int i = 0; i < 4; ++i) CHECK_FALSE(w.observe(at(i * 1min), at(i * 1min)));
  CHECK(w.value() == 4);
  CHECK(w.observe(at(4min), at(4min)));
  CHECK(w.value() == 5);
}

TEST_CASE("count: the edge is inclusive — first and last exactly `within` apart hold") {
  WindowTracker edge(RuleWindow::count(2, 10min), T0);
  edge.observe(at(0s), at(0s));
  CHECK(edge.observe(at(10min), at(10min)));
  WindowTracker past(RuleWindow::count(2, 10min), T0);
  past.observe(at(0s), at(0s));
  CHECK_FALSE(past.observe(at(10min + 1ms), at(10min + 1ms)));
}

TEST_CASE("count: the condition clears when the oldest event leaves the window") {
  WindowTracker w(RuleWindow::count(3, 10min), T0);
  w.observe(at(0s), at(0s));
  w.observe(at(1min), at(1min));
  CHECK(w.observe(at(2min), at(2min)));
  REQUIRE(w.next_deadline());
  CHECK(*w.next_deadline() == at(10min + 1ms));
  CHECK(w.tick(at(10min)));
  CHECK_FALSE(w.tick(at(10min + 1ms)));
  CHECK(w.value() == 2);
}

TEST_CASE("count: late events within tolerance count, older ones are ignored and counted") {
  WindowTracker w(RuleWindow::count(3, 10min), T0);
  w.observe(at(5min), at(5min));
  w.observe(at(6min), at(6min));
  CHECK(w.observe(at(5min + 30s), at(6min)));  // 30 s late: placed in order
  WindowTracker old(RuleWindow::count(3, 10min), T0);
  old.observe(at(10min), at(10min));
  old.observe(at(10min), at(10min));
  CHECK_FALSE(old.observe(at(8min), at(10min)));  // 2 min late: beyond the 1 min tolerance
  CHECK(old.late_ignored() == 1);
}

TEST_CASE("count: a forward clock jump does not fire on stale events, future times clamp to now") {
  WindowTracker w(RuleWindow::count(3, 10min), T0);
  w.observe(at(0s), at(0s));
  w.observe(at(1min), at(1min));
  CHECK_FALSE(w.observe(at(5h), at(5h)));  // the two old events are far outside the window
  WindowTracker future(RuleWindow::count(2, 10min), T0);
  future.observe(at(0s), at(0s));
  CHECK(future.observe(at(24h), at(1min)));  // a source clock a day ahead counts as "now"
}

TEST_CASE("count: memory stays bounded under 1 000 000 events into one window") {
  WindowTracker w(RuleWindow::count(100, 10min), T0);
  bool held = false;
  std::size_t most = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    const auto t = at(Duration{i * 10});  // one every 10 ms, spanning ~2.8 h
    held = w.observe(t, t);
    most = std::max(most, w.stored_points());
  }
  CHECK(held);
  CHECK(most <= 100);
  CHECK(w.value() == 100);
  CHECK(w.stored_points() == 100);
}

TEST_CASE("for: events at 0, 1 and 2 minutes never fire a 5-minute rule") {
  WindowTracker w(RuleWindow::holds_for(5min, 5min), T0);
  for (auto m : {0min, 1min, 2min}) CHECK_FALSE(w.observe(at(m), at(m)));
  CHECK_FALSE(w.tick(at(7min)));
  CHECK_FALSE(w.tick(at(7min + 1ms)));  // gap over: the run is gone
  CHECK_FALSE(w.observe(at(8min), at(8min)));
}

TEST_CASE("for: fires once matching events span exactly the duration") {
  WindowTracker w(RuleWindow::holds_for(5min, 2min), T0);
  for (auto m : {0min, 2min, 4min}) CHECK_FALSE(w.observe(at(m), at(m)));
  CHECK_FALSE(w.observe(at(5min - 1ms), at(5min - 1ms)));
  CHECK(w.observe(at(5min), at(5min)));
}

TEST_CASE("for: a gap longer than max_gap clears the condition and starts a new run") {
  WindowTracker w(RuleWindow::holds_for(5min, 2min), T0);
  for (auto m : {0min, 2min, 4min, 6min}) w.observe(at(m), at(m));
  CHECK(w.holding());
  REQUIRE(w.next_deadline());
  CHECK(*w.next_deadline() == at(8min + 1ms));
  CHECK(w.tick(at(8min)));
  CHECK_FALSE(w.tick(at(8min + 1ms)));
  CHECK_FALSE(w.observe(at(9min), at(9min)));  // a new run starts at 9
  CHECK_FALSE(w.observe(at(11min), at(11min)));
  CHECK_FALSE(w.observe(at(13min), at(13min)));
  CHECK(w.observe(at(14min), at(14min)));
}

TEST_CASE("absent_for: armed at start, fires after the silence, clears on a match") {
  WindowTracker w(RuleWindow::absent_for(15min), T0);
  CHECK_FALSE(w.tick(at(15min - 1ms)));
  REQUIRE(w.next_deadline());
  CHECK(*w.next_deadline() == at(15min));
  CHECK(w.tick(at(15min)));
  CHECK_FALSE(w.observe(at(16min), at(16min)));
  CHECK(*w.next_deadline() == at(31min));
  CHECK(w.tick(at(31min)));
}

TEST_CASE("absent_for: armed at the first match when the engine arms it there") {
  WindowTracker w(RuleWindow::absent_for(1h), at(3h));
  CHECK_FALSE(w.tick(at(3h + 59min)));
  CHECK(w.tick(at(4h)));
}

TEST_CASE("spike: this window against the previous one") {
  const auto spec = RuleWindow::spike(3, 10min, 10);
  SECTION("previous zero counts as one: min_count decides") {
    WindowTracker w(spec, T0);
    for (int i = 0; i < 9; ++i) CHECK_FALSE(w.observe(at(20min + Duration{i * 1000}), at(21min)));
    CHECK(w.observe(at(20min + 9s), at(21min)));
  }
  SECTION("at the ratio exactly it fires; below it does not") {
    WindowTracker w(spec, T0);
    for (int i = 0; i < 10; ++i) w.observe(at(Duration{i * 1000}), at(Duration{i * 1000}));  // previous: 10
    for (int i = 0; i < 29; ++i) CHECK_FALSE(w.observe(at(10min + Duration{i * 1000}), at(10min + Duration{i * 1000})));
    CHECK(w.observe(at(10min + 29s), at(10min + 29s)));  // 30 = 3 × 10
  }
  SECTION("it clears as time moves on and memory is fixed") {
    WindowTracker w(spec, T0);
    for (int i = 0; i < 20; ++i) w.observe(at(Duration{i * 100}), at(Duration{i * 100}));
    CHECK(w.holding());
    CHECK_FALSE(w.tick(at(25min)));
    CHECK(w.stored_points() == 2 * kSpikeBuckets);
  }
}

TEST_CASE("replaying the same events rebuilds the same state") {
  const auto spec = RuleWindow::count(4, 5min);
  WindowTracker a(spec, T0), b(spec, T0);
  std::vector<Duration> times{0s, 30s, 1min, 2min, 9min, 9min + 10s, 9min + 20s, 9min + 30s};
  for (auto d : times) a.observe(at(d), at(d));
  for (auto d : times) b.observe(at(d), at(d));
  CHECK(a.holding() == b.holding());
  CHECK(a.value() == b.value());
  CHECK(a.next_deadline() == b.next_deadline());
}

TEST_CASE("the history a restart must replay covers each window") {
  CHECK(RuleWindow::count(5, 10min).history() == 10min);
  CHECK(RuleWindow::holds_for(5min, 2min).history() == 7min);
  CHECK(RuleWindow::spike(3, 10min, 1).history() == 20min);
  CHECK(RuleWindow{}.history() == 0s);
}
