// The injected clock: wall and monotonic time plus one-shot timers. Production code takes a
// Clock&; tests pass a FakeClock and move time with advance(). Only app/ constructs the real one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "vigie/core/time.h"

namespace vigie {

using TimerId = std::uint64_t;

class Clock {
 public:
  using Callback = std::function<void()>;
  virtual ~Clock() = default;

  // @return the current wall-clock time (event times, silences, retention).
  virtual TimePoint system_now() const = 0;
  // @return the current monotonic time (timeouts, timer deadlines).
  virtual SteadyPoint steady_now() const = 0;

  // Runs `fn` once when steady time reaches `when`. The callback runs on the thread that calls
  // run_due() (the real clock) or advance() (the fake one), never while a clock lock is held, so
  // it may schedule or cancel timers itself.
  virtual TimerId call_at(SteadyPoint when, Callback fn) = 0;
  TimerId call_after(Duration d, Callback fn) { return call_at(steady_now() + d, std::move(fn)); }
  // @return false when the timer already fired or was cancelled.
  virtual bool cancel(TimerId id) = 0;
  // @return the deadline of the earliest pending timer, for an event loop's poll timeout.
  virtual std::optional<SteadyPoint> next_deadline() const = 0;
  // Fires every timer due now. @return how many fired.
  virtual std::size_t run_due() = 0;
};

// Pending timers ordered by deadline, then by creation; shared by the real and the fake clock.
class TimerQueue {
 public:
  TimerId add(SteadyPoint when, Clock::Callback fn);
  bool cancel(TimerId id);
  std::optional<SteadyPoint> next_deadline() const;
  // Removes and returns the earliest timer due at or before `now`, if any.
  std::optional<Clock::Callback> pop_due(SteadyPoint now);
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  TimerId next_id_ = 1;
  std::map<std::pair<SteadyPoint, TimerId>, Clock::Callback> timers_;
  std::map<TimerId, SteadyPoint> deadlines_;
};

// A clock that moves only when told. advance(d) walks time forward to each due timer's deadline
// in order, firing it there (so a callback sees now() equal to its deadline), then to the end.
class FakeClock final : public Clock {
 public:
  // Starts at 2026-01-01T00:00:00Z unless told otherwise, so tests never depend on the date.
  explicit FakeClock(TimePoint start = from_unix_ms(1'767'225'600'000));

  void advance(Duration d);
  // Moves wall time only (NTP step, suspend); monotonic time and timers are not affected.
  void jump_system(Duration d);

  // vigie::Clock
  TimePoint system_now() const override;
  SteadyPoint steady_now() const override;
  TimerId call_at(SteadyPoint when, Callback fn) override;
  bool cancel(TimerId id) override;
  std::optional<SteadyPoint> next_deadline() const override;
  std::size_t run_due() override;

  std::size_t pending_timers() const { return timers_.size(); }

 private:
  mutable std::mutex mutex_;
  TimePoint system_;
  SteadyPoint steady_;
  TimerQueue timers_;
};

}  // namespace vigie
