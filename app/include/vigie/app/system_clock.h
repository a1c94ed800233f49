// The real clock: the one place outside tests that reads system and steady time.
#pragma once

#include "vigie/core/clock.h"

namespace vigie::app {

// Not final: `vigie demo` runs its scaled clock on the same timers (app/demo/demo_clock.h).
class SystemClock : public Clock {
 public:
  // vigie::Clock
  TimePoint system_now() const override;
  SteadyPoint steady_now() const override;
  TimerId call_at(SteadyPoint when, Callback fn) override;
  bool cancel(TimerId id) override;
  std::optional<SteadyPoint> next_deadline() const override;
  std::size_t run_due() override;

 private:
  TimerQueue timers_;
};

}  // namespace vigie::app
