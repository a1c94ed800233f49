// The demo clock: real time run `speed` times faster from the start, plus skips (a quiet night
// passes at once). Wall and monotonic time move together, so every timer of the daemon — rule
// windows, `for`, `absent_for`, collector intervals, approval expiry — keeps its meaning.
#pragma once

#include <atomic>
#include <chrono>

#include "vigie/core/clock.h"

namespace vigie::app {

class DemoClock final : public Clock {
 public:
  explicit DemoClock(double speed);

  // Moves both times forward by `d` at once; timers now due fire at their owners' next run_due().
  void skip(Duration d);
  double speed() const { return speed_; }

  // vigie::Clock
  TimePoint system_now() const override;
  SteadyPoint steady_now() const override;
  TimerId call_at(SteadyPoint when, Callback fn) override;
  bool cancel(TimerId id) override;
  std::optional<SteadyPoint> next_deadline() const override;
  std::size_t run_due() override;

 private:
  Duration elapsed() const;  // demo time since the start, skips included

  double speed_;
  std::chrono::steady_clock::time_point real_start_;
  TimePoint system_start_;
  SteadyPoint steady_start_;
  std::atomic<std::int64_t> skipped_ms_{0};
  TimerQueue timers_;
};

}  // namespace vigie::app
