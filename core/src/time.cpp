// Duration and RFC 3339 parsing and formatting (RFC 3339 through Howard Hinnant's date library,
// since GCC 12 has no std::chrono::parse).
#include "vigie/core/time.h"

// date.h trips a false -Wmaybe-uninitialized in its seconds parser when inlined at -O2.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <date/date.h>
#pragma GCC diagnostic pop

#include <array>
#include <cstdio>
#include <limits>

namespace vigie {
namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t ms;
};
// Longest suffix first so "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 6> kUnits{{{"ms", 1},
                                      {"s", 1000},
                                      {"m", 60'000},
                                      {"h", 3'600'000},
                                      {"d", 86'400'000},
                                      {"w", 604'800'000}}};

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    std::int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n > (std::numeric_limits<std::int64_t>::max() - 9) / 10) return std::nullopt;
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      if (text.substr(i, u.suffix.size()) == u.suffix) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return std::nullopt;
    i += unit->suffix.size();
    if (n > (std::numeric_limits<std::int64_t>::max() - total) / unit->ms) return std::nullopt;
    total += n * unit->ms;
  }
  return Duration{total};
}

std::string format_duration(Duration d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  // Weeks are left out on purpose: "14d" reads better than "2w" in a retention setting.
  for (const auto& u : {kUnits[4], kUnits[3], kUnits[2], kUnits[1], kUnits[0]}) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms);
      out += u.suffix;
      ms %= u.ms;
    }
  }
  return out;
}

namespace {

// The exact shape of RFC 3339 date-time: YYYY-MM-DD, T (or t or a space), hh:mm:ss, an optional
// fraction of 1 to 9 digits, then Z (or z) or ±hh:mm. Checked before the date library sees the
// text: its stream parser turns some malformed fields ("10:0&:01", "10:00800") into NaN seconds and
// then converts them to an integer, which is undefined behaviour (found by fuzz/fuzz_codec).
bool rfc3339_shape(std::string_view s) {
  auto digits = [&](std::size_t from, std::size_t n) {
    if (from + n > s.size()) return false;
    for (std::size_t i = from; i < from + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
    }
    return true;
  };
  if (!digits(0, 4) || s[4] != '-' || !digits(5, 2) || s[7] != '-' || !digits(8, 2)) return false;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return false;
  if (!digits(11, 2) || s[13] != ':' || !digits(14, 2) || s[16] != ':' || !digits(17, 2)) return false;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    std::size_t n = 0;
    while (i + 1 + n < s.size() && s[i + 1 + n] >= '0' && s[i + 1 + n] <= '9') ++n;
    if (n == 0 || n > 9) return false;
    i += 1 + n;
  }
  if (i + 1 == s.size()) return s[i] == 'Z' || s[i] == 'z';
  return i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && digits(i + 1, 2) && s[i + 3] == ':' &&
         digits(i + 4, 2);
}

}  // namespace

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
  // By hand once the shape is checked: the date library's stream parser costs microseconds per
  // call (every Alertmanager alert has two times) and reads at most as many fraction digits as its
  // target's precision, so it refused Go's nanosecond times ("…:05.123456789Z").
  if (text.size() < 20 || text.size() > 40 || !rfc3339_shape(text)) return std::nullopt;
  auto number = [&](std::size_t from, std::size_t n) {
    int v = 0;
    for (std::size_t i = from; i < from + n; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  const date::year_month_day ymd{date::year{number(0, 4)},
                                 date::month{static_cast<unsigned>(number(5, 2))},
                                 date::day{static_cast<unsigned>(number(8, 2))}};
  const int hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  std::size_t i = 19;
  int millis = 0;
  if (text[i] == '.') {
    // Milliseconds, the rest of the fraction cut off (the same floor as before, for any sign).
    std::size_t d = 0;
    for (; d < 3 && text[i + 1 + d] >= '0' && text[i + 1 + d] <= '9'; ++d)
      millis = millis * 10 + (text[i + 1 + d] - '0');
    for (; d < 3; ++d) millis *= 10;
    ++i;
    while (text[i] >= '0' && text[i] <= '9') ++i;
  }
  int offset_minutes = 0;
  if (text[i] == '+' || text[i] == '-') {
    const int oh = number(i + 1, 2), om = number(i + 4, 2);
    if (oh > 23 || om > 59) return std::nullopt;
    offset_minutes = (text[i] == '-' ? -1 : 1) * (oh * 60 + om);
  }
  return TimePoint{date::sys_days{ymd}.time_since_epoch()} + std::chrono::hours{hour} +
         std::chrono::minutes{minute - offset_minutes} + std::chrono::seconds{second} +
         std::chrono::milliseconds{millis};
}

std::string format_rfc3339(TimePoint t) {
  // By hand rather than date::format: no stream and no locale on the hot path (every event is
  // formatted twice on its way through the bus).
  const auto day = std::chrono::floor<date::days>(t);
  const date::year_month_day ymd{day};
  const auto ms_of_day = static_cast<long long>((t - day).count());  // 0 .. 86 399 999
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return date::format("%FT%TZ", t);
  char buf[64];  // more than the 24 bytes written: GCC cannot prove the fields' ranges
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", year,
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                ms_of_day / 3'600'000, ms_of_day / 60'000 % 60, ms_of_day / 1000 % 60, ms_of_day % 1000);
  return buf;
}

}  // namespace vigie
