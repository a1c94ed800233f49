// TimerQueue and FakeClock.
#include "vigie/core/clock.h"

namespace vigie {

TimerId TimerQueue::add(SteadyPoint when, Clock::Callback fn) {
  std::lock_guard lock(mutex_);
  const TimerId id = next_id_++;
  timers_.emplace(std::make_pair(when, id), std::move(fn));
  deadlines_.emplace(id, when);
  return id;
}

bool TimerQueue::cancel(TimerId id) {
  std::lock_guard lock(mutex_);
  auto it = deadlines_.find(id);
  if (it == deadlines_.end()) return false;
  timers_.erase({it->second, id});
  deadlines_.erase(it);
  return true;
}

std::optional<SteadyPoint> TimerQueue::next_deadline() const {
  std::lock_guard lock(mutex_);
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

std::optional<Clock::Callback> TimerQueue::pop_due(SteadyPoint now) {
  std::lock_guard lock(mutex_);
  if (timers_.empty() || timers_.begin()->first.first > now) return std::nullopt;
  auto node = timers_.extract(timers_.begin());
  deadlines_.erase(node.key().second);
  return std::move(node.mapped());
}

std::size_t TimerQueue::size() const {
  std::lock_guard lock(mutex_);
  return timers_.size();
}

FakeClock::FakeClock(TimePoint start) : system_(start), steady_(std::chrono::hours(1)) {}

void FakeClock::advance(Duration d) {
  SteadyPoint end;
  {
    std::lock_guard lock(mutex_);
    end = steady_ + d;
  }
  for (;;) {
    auto deadline = timers_.next_deadline();
    if (!deadline || *deadline > end) break;
    {
      std::lock_guard lock(mutex_);
      if (*deadline > steady_) {
        system_ += std::chrono::duration_cast<Duration>(*deadline - steady_);
        steady_ = *deadline;
      }
    }
    run_due();
  }
  std::lock_guard lock(mutex_);
  system_ += std::chrono::duration_cast<Duration>(end - steady_);
  steady_ = end;
}

void FakeClock::jump_system(Duration d) {
  std::lock_guard lock(mutex_);
  system_ += d;
}

TimePoint FakeClock::system_now() const {
  std::lock_guard lock(mutex_);
  return system_;
}

SteadyPoint FakeClock::steady_now() const {
  std::lock_guard lock(mutex_);
  return steady_;
}

TimerId FakeClock::call_at(SteadyPoint when, Callback fn) { return timers_.add(when, std::move(fn)); }

bool FakeClock::cancel(TimerId id) { return timers_.cancel(id); }

std::optional<SteadyPoint> FakeClock::next_deadline() const { return timers_.next_deadline(); }

std::size_t FakeClock::run_due() {
  std::size_t fired = 0;
  const SteadyPoint now = steady_now();
  while (auto fn = timers_.pop_due(now)) {
    (*fn)();
    ++fired;
  }
  return fired;
}

}  // namespace vigie
