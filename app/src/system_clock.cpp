// SystemClock: real time; timers fire from the owner's event loop through run_due().
#include "vigie/app/system_clock.h"

namespace vigie::app {

TimePoint SystemClock::system_now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

SteadyPoint SystemClock::steady_now() const { return std::chrono::steady_clock::now(); }

TimerId SystemClock::call_at(SteadyPoint when, Callback fn) {
  return timers_.add(when, std::move(fn));
}

bool SystemClock::cancel(TimerId id) { return timers_.cancel(id); }

std::optional<SteadyPoint> SystemClock::next_deadline() const { return timers_.next_deadline(); }

std::size_t SystemClock::run_due() {
  std::size_t fired = 0;
  while (auto fn = timers_.pop_due(steady_now())) {
    (*fn)();
    ++fired;
  }
  return fired;
}

}  // namespace vigie::app
