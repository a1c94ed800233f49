// The demo clock: real time run `speed` times faster from the start, plus skips (a quiet night
// passes at once). Wall and monotonic time move together, so every timer of the daemon — rule
// windows, `for`, `absent_for`, collector intervals, approval expiry — keeps its meaning. Timers
// are the system clock's, fired against this clock's monotonic time.
#pragma once

#include <atomic>
#include <chrono>

#include "vigie/app/system_clock.h"

namespace vigie::app {

class DemoClock final : public SystemClock {
 public:
  explicit DemoClock(double speed);

  // Moves both times forward by `d` at once; timers now due fire at their owners' next run_due().
  void skip(Duration d);
  double speed() const { return speed_; }

  TimePoint system_now() const override;
  SteadyPoint steady_now() const override;

 private:
  Duration elapsed() const;  // demo time since the start, skips included

  double speed_;
  std::chrono::steady_clock::time_point real_start_;
  TimePoint system_start_;
  SteadyPoint steady_start_;
  std::atomic<std::int64_t> skipped_ms_{0};
};

}  // namespace vigie::app
