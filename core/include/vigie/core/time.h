// Time types shared by every module: millisecond wall-clock instants, durations written the way
// users type them ("30s", "10m", "4h", "14d"), and RFC 3339 text.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace vigie {

// Wall-clock instant with the precision events carry (sources give seconds to microseconds;
// milliseconds survive every store and codec round trip exactly).
using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;
using Duration = std::chrono::milliseconds;
// Monotonic instant for timers and timeouts.
using SteadyPoint = std::chrono::steady_clock::time_point;

// Parses "250ms", "30s", "10m", "4h", "14d", "1w" and compounds such as "1h30m". Returns nothing
// for an empty string, a missing unit, an unknown unit, a negative value or an overflow.
std::optional<Duration> parse_duration(std::string_view text);

// The shortest text parse_duration reads back to the same value ("1h30m", "250ms", "0s").
std::string format_duration(Duration d);

// Parses RFC 3339 / ISO 8601 ("2026-11-22T10:00:00Z", "2026-11-22T10:00:00.123+02:00").
// Fractions beyond milliseconds are truncated.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

// "2026-11-22T10:00:00.123Z" (always UTC, always three fraction digits).
std::string format_rfc3339(TimePoint t);

inline std::int64_t to_unix_ms(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint from_unix_ms(std::int64_t ms) { return TimePoint{Duration{ms}}; }

// Seconds read from an upstream (a Retry-After or rate-limit reset header, an epoch in an answer)
// as milliseconds. Saturates at about ±73 million years instead of overflowing: a hostile or
// broken answer must not cause undefined behaviour, and the result can still be added to or
// subtracted from a present-day time.
inline Duration saturating_seconds(std::int64_t seconds) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max() / 1000 / 4;
  return Duration{(seconds > kMax ? kMax : seconds < -kMax ? -kMax : seconds) * 1000};
}

}  // namespace vigie
