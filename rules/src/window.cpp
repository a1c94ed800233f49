// Window trackers. Edges are inclusive: N events whose first and last lie at most `within`
// apart make a count window hold; a run of `for` holds once it spans at least the duration;
// `absent_for` fires once silence has lasted at least the duration.
#include "vigie/rules/window.h"

#include <algorithm>

namespace vigie::rules {

RuleWindow RuleWindow::count(std::int64_t at_least, Duration within) {
  RuleWindow w;
  w.kind = Kind::count;
  w.at_least = std::clamp<std::int64_t>(at_least, 1, kMaxCountAtLeast);
  w.within = within;
  return w;
}

RuleWindow RuleWindow::holds_for(Duration d, Duration max_gap) {
  RuleWindow w;
  w.kind = Kind::for_;
  w.duration = d;
  w.max_gap = max_gap;
  return w;
}

RuleWindow RuleWindow::absent_for(Duration d) {
  RuleWindow w;
  w.kind = Kind::absent;
  w.duration = d;
  return w;
}

RuleWindow RuleWindow::spike(double ratio, Duration within, std::int64_t min_count) {
  RuleWindow w;
  w.kind = Kind::spike;
  w.ratio = ratio;
  w.within = within;
  w.min_count = std::max<std::int64_t>(1, min_count);
  return w;
}

Duration RuleWindow::history() const {
  switch (kind) {
    case Kind::count: return within;
    case Kind::for_: return duration + max_gap;
    case Kind::absent: return duration;
    case Kind::spike: return within * 2;
    case Kind::match: return Duration{0};
  }
  return Duration{0};
}

WindowTracker::WindowTracker(const RuleWindow& spec, TimePoint armed_at) : spec_(spec), armed_at_(armed_at) {
  if (spec_.kind == RuleWindow::Kind::spike) buckets_.assign(2 * kSpikeBuckets, 0);
}

std::int64_t WindowTracker::bucket_of(TimePoint t) const {
  const std::int64_t width = std::max<std::int64_t>(1, spec_.within.count() / kSpikeBuckets);
  const std::int64_t ms = to_unix_ms(t);
  return ms >= 0 ? ms / width : (ms - width + 1) / width;
}

bool WindowTracker::observe(TimePoint event_time, TimePoint now) {
  // A source clock ahead of ours counts as now: the future is not a place events come from.
  const TimePoint t = std::min(event_time, now);
  if (newest_ && t < *newest_ - kLateTolerance) {
    ++late_ignored_;
    return holding_;
  }
  newest_ = newest_ ? std::max(*newest_, t) : t;

  switch (spec_.kind) {
    case RuleWindow::Kind::match:
      value_ = 1;
      holding_ = true;  // each match fires (or updates) on its own
      return holding_;
    case RuleWindow::Kind::count: {
      times_.insert(std::upper_bound(times_.begin(), times_.end(), t), t);
      // Only the `at_least` latest events can decide; older ones are dropped: the bound.
      while (static_cast<std::int64_t>(times_.size()) > spec_.at_least) times_.pop_front();
      return evaluate(*newest_);
    }
    case RuleWindow::Kind::for_: {
      if (!last_seen_ || t - *last_seen_ > spec_.max_gap) {
        if (!last_seen_ || t > *last_seen_) run_start_ = t;  // a new run (or the first)
      } else if (t < *run_start_ && *run_start_ - t <= spec_.max_gap) {
        run_start_ = t;  // a late event extends the run backwards
      }
      if (!last_seen_ || t > *last_seen_) last_seen_ = t;
      return evaluate(*newest_);
    }
    case RuleWindow::Kind::absent:
      last_seen_ = last_seen_ ? std::max(*last_seen_, t) : t;
      return evaluate(now);
    case RuleWindow::Kind::spike: {
      const std::int64_t b = bucket_of(t);
      const auto size = static_cast<std::int64_t>(buckets_.size());
      if (b > head_bucket_) {
        // Clear the buckets the ring moves over: they held counts from a full ring ago.
        for (std::int64_t i = std::max(head_bucket_ + 1, b - size + 1); i <= b; ++i) buckets_[static_cast<std::size_t>(i % size)] = 0;
        head_bucket_ = b;
      }
      if (head_bucket_ - b < size) ++buckets_[static_cast<std::size_t>(b % size)];
      return evaluate(*newest_);
    }
  }
  return holding_;
}

bool WindowTracker::tick(TimePoint now) {
  if (spec_.kind == RuleWindow::Kind::match) return holding_ = false;
  return evaluate(now);
}

bool WindowTracker::evaluate(TimePoint at) {
  switch (spec_.kind) {
    case RuleWindow::Kind::match: break;
    case RuleWindow::Kind::count: {
      std::int64_t within = 0;
      for (auto it = times_.rbegin(); it != times_.rend() && at - *it <= spec_.within; ++it) ++within;
      value_ = within;
      holding_ = within >= spec_.at_least;
      break;
    }
    case RuleWindow::Kind::for_:
      if (!last_seen_ || at - *last_seen_ > spec_.max_gap) {
        // The run broke: the condition stopped holding.
        holding_ = false;
        value_ = 0;
        if (last_seen_ && at - *last_seen_ > spec_.max_gap) run_start_.reset(), last_seen_.reset();
      } else {
        holding_ = *last_seen_ - *run_start_ >= spec_.duration;
        value_ = (*last_seen_ - *run_start_).count();
      }
      break;
    case RuleWindow::Kind::absent: {
      const TimePoint since = last_seen_ ? *last_seen_ : armed_at_;
      holding_ = at - since >= spec_.duration;
      value_ = (at - since).count();
      break;
    }
    case RuleWindow::Kind::spike: {
      const std::int64_t now_bucket = std::max(bucket_of(at), head_bucket_);
      const auto size = static_cast<std::int64_t>(buckets_.size());
      auto count_range = [&](std::int64_t from, std::int64_t to) {  // inclusive bucket indices
        std::int64_t sum = 0;
        for (std::int64_t b = from; b <= to; ++b) {
          if (b > head_bucket_ || head_bucket_ - b >= size) continue;  // empty or forgotten
          sum += buckets_[static_cast<std::size_t>(((b % size) + size) % size)];
        }
        return sum;
      };
      const std::int64_t cur = count_range(now_bucket - kSpikeBuckets + 1, now_bucket);
      const std::int64_t prev = count_range(now_bucket - 2 * kSpikeBuckets + 1, now_bucket - kSpikeBuckets);
      value_ = cur;
      holding_ = cur >= spec_.min_count && static_cast<double>(cur) >= spec_.ratio * static_cast<double>(std::max<std::int64_t>(prev, 1));
      break;
    }
  }
  return holding_;
}

std::optional<TimePoint> WindowTracker::next_deadline() const {
  const Duration one{1};
  switch (spec_.kind) {
    case RuleWindow::Kind::match: return std::nullopt;
    case RuleWindow::Kind::count: {
      if (times_.empty()) return std::nullopt;
      // The oldest counted event leaves the window at oldest + within + 1 ms.
      if (!holding_) return std::nullopt;  // the count only grows with events
      return times_.front() + spec_.within + one;
    }
    case RuleWindow::Kind::for_:
      if (!last_seen_) return std::nullopt;
      return *last_seen_ + spec_.max_gap + one;
    case RuleWindow::Kind::absent:
      if (holding_) return std::nullopt;
      return (last_seen_ ? *last_seen_ : armed_at_) + spec_.duration;
    case RuleWindow::Kind::spike: {
      if (value_ == 0) return std::nullopt;
      const std::int64_t width = std::max<std::int64_t>(1, spec_.within.count() / kSpikeBuckets);
      return from_unix_ms((head_bucket_ + 1) * width);  // the next bucket boundary
    }
  }
  return std::nullopt;
}

std::size_t WindowTracker::stored_points() const {
  switch (spec_.kind) {
    case RuleWindow::Kind::count: return times_.size();
    case RuleWindow::Kind::for_: return 2;
    case RuleWindow::Kind::absent: return 1;
    case RuleWindow::Kind::spike: return buckets_.size();
    case RuleWindow::Kind::match: return 0;
  }
  return 0;
}

}  // namespace vigie::rules
