// Windows: per rule and per group, whether the rule's window condition holds. Pure state fed
// with matching events' times; it never reads a clock: the engine passes `now` and arms a timer
// at next_deadline(), the only time the state can change without an event.
//
// Memory per group is bounded, whatever the event rate:
//   count   at most `at_least` timestamps (only the N latest decide "N within W"), at_least ≤ 10 000
//   for     two timestamps
//   absent  one timestamp
//   spike   2 × kSpikeBuckets counters (the window is cut in 60 buckets: ±1/60 of `within`)
//   match   nothing
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "vigie/core/time.h"

namespace vigie::rules {

struct RuleWindow {
  enum class Kind { match, count, for_, absent, spike };
  Kind kind = Kind::match;
  std::int64_t at_least = 0;  // count
  Duration within{};          // count, spike
  Duration duration{};        // for, absent
  Duration max_gap{};         // for
  double ratio = 0;           // spike
  std::int64_t min_count = 1; // spike

  static RuleWindow count(std::int64_t at_least, Duration within);
  static RuleWindow holds_for(Duration d, Duration max_gap);
  static RuleWindow absent_for(Duration d);
  static RuleWindow spike(double ratio, Duration within, std::int64_t min_count);

  // How far back stored events matter to rebuild this window after a restart.
  Duration history() const;
  bool operator==(const RuleWindow&) const = default;
};

inline constexpr std::int64_t kMaxCountAtLeast = 10'000;
inline constexpr int kSpikeBuckets = 60;
// Events older than the newest one seen by more than this are ignored (and counted): collectors
// poll, so events arrive a little out of order, but not hours late.
inline constexpr Duration kLateTolerance{60'000};

class WindowTracker {
 public:
  // `armed_at`: absent_for counts silence from here (the engine's start, or the first match).
  WindowTracker(const RuleWindow& spec, TimePoint armed_at);

  // A matching event at `event_time`, seen at `now`. @return whether the condition holds after it.
  bool observe(TimePoint event_time, TimePoint now);
  // Time passing. @return whether the condition holds at `now`.
  bool tick(TimePoint now);

  bool holding() const { return holding_; }
  // Events currently counted (count: within the window; spike: this window; for: in the run).
  std::int64_t value() const { return value_; }
  // When the state may next change without an event (nothing for match and stable states).
  std::optional<TimePoint> next_deadline() const;

  std::size_t stored_points() const;  // the memory measure the bound above is about
  std::uint64_t late_ignored() const { return late_ignored_; }

 private:
  bool evaluate(TimePoint at);
  std::int64_t bucket_of(TimePoint t) const;

  RuleWindow spec_;
  bool holding_ = false;
  std::int64_t value_ = 0;
  std::optional<TimePoint> newest_;
  std::uint64_t late_ignored_ = 0;
  // count
  std::deque<TimePoint> times_;  // ascending, at most at_least
  // for
  std::optional<TimePoint> run_start_, last_seen_;
  // absent
  TimePoint armed_at_{};
  // spike: ring of 2 × kSpikeBuckets counts; bucket b lives at b mod size
  std::vector<std::int64_t> buckets_;
  std::int64_t head_bucket_ = 0;  // the newest bucket index held in the ring
};

}  // namespace vigie::rules
