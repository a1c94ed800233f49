// The demo clock: scaled real time plus skips.
#include "demo_clock.h"

namespace vigie::app {

DemoClock::DemoClock(double speed)
    : speed_(speed > 0 ? speed : 1),
      real_start_(std::chrono::steady_clock::now()),
      system_start_(std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now())),
      steady_start_(real_start_) {}

void DemoClock::skip(Duration d) { skipped_ms_ += d.count(); }

Duration DemoClock::elapsed() const {
  const auto real =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - real_start_);
  return Duration{static_cast<std::int64_t>(real.count() * speed_) + skipped_ms_.load()};
}

TimePoint DemoClock::system_now() const { return system_start_ + elapsed(); }

SteadyPoint DemoClock::steady_now() const {
  return steady_start_ + std::chrono::duration_cast<SteadyPoint::duration>(elapsed());
}

}  // namespace vigie::app
