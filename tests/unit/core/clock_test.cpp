// FakeClock: time moves only when told, and due timers fire in deadline order at their deadline.
#include <catch2/catch.hpp>

#include <vector>

#include "vigie/core/clock.h"

using namespace vigie;
using namespace std::chrono_literals;

TEST_CASE("advance fires due timers in order, each at its own deadline") {
  FakeClock clock;
  const SteadyPoint start = clock.steady_now();
  std::vector<std::pair<int, Duration>> fired;
  auto record = [&](int n) {
    return [&, n] {
      fired.emplace_back(n, std::chrono::duration_cast<Duration>(clock.steady_now() - start));
    };
  };
  clock.call_after(3s, record(3));
  clock.call_after(1s, record(1));
  clock.call_after(2s, record(2));
  clock.call_after(10s, record(10));

  clock.advance(2500ms);
  REQUIRE(fired.size() == 2);
  CHECK(fired[0] == std::pair{1, Duration{1000}});
  CHECK(fired[1] == std::pair{2, Duration{2000}});
  CHECK(clock.steady_now() - start == 2500ms);

  clock.advance(500ms);  // exactly on the 3 s deadline: fires
  REQUIRE(fired.size() == 3);
  CHECK(clock.pending_timers() == 1);
}

TEST_CASE("wall time advances with steady time") {
  FakeClock clock(from_unix_ms(1'000'000));
  clock.advance(90s);
  CHECK(to_unix_ms(clock.system_now()) == 1'090'000);
}

TEST_CASE("a cancelled timer never fires, and cancel reports whether it was pending") {
  FakeClock clock;
  int count = 0;
  TimerId id = clock.call_after(1s, [&] { ++count; });
  CHECK(clock.cancel(id));
  CHECK_FALSE(clock.cancel(id));
  clock.advance(5s);
  CHECK(count == 0);
}

TEST_CASE("a timer scheduled from a callback fires within the same advance when due") {
  FakeClock clock;
  std::vector<int> order;
  clock.call_after(1s, [&] {
    order.push_back(1);
    clock.call_after(1s, [&] { order.push_back(2); });
  });
  clock.advance(2s);
  CHECK(order == std::vector<int>{1, 2});
  clock.call_after(5s, [&] { order.push_back(3); });
  clock.advance(4s);
  CHECK(order.size() == 2);
}

TEST_CASE("next_deadline tells an event loop how long to wait") {
  FakeClock clock;
  CHECK_FALSE(clock.next_deadline().has_value());
  clock.call_after(7s, [] {});
  REQUIRE(clock.next_deadline().has_value());
  CHECK(*clock.next_deadline() - clock.steady_now() == 7s);
}

TEST_CASE("jump_system moves wall time without firing timers") {
  FakeClock clock(from_unix_ms(0));
  int fired = 0;
  clock.call_after(1s, [&] { ++fired; });
  clock.jump_system(std::chrono::hours(5));
  CHECK(fired == 0);
  CHECK(to_unix_ms(clock.system_now()) == 5 * 3'600'000);
}
