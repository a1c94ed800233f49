// Durations and RFC 3339 times as users and upstreams write them.
#include <catch2/catch.hpp>

#include <limits>

#include "vigie/core/time.h"

using namespace vigie;
using namespace std::chrono_literals;

TEST_CASE("durations in every unit users write") {
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("30s") == 30s);
  CHECK(parse_duration("10m") == 10min);
  CHECK(parse_duration("4h") == 4h);
  CHECK(parse_duration("14d") == Duration{14LL * 86'400'000});
  CHECK(parse_duration("1w") == Duration{7LL * 86'400'000});
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("0s") == 0ms);
}

TEST_CASE("malformed durations are rejected, not guessed") {
  for (const char* bad :
       {"", "10", "m", "14 days", "-5m", "5M", "1.5h", "10mm", "s10", "99999999999999999999s"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("format_duration reads back to the same value") {
  for (auto d : {Duration{0}, Duration{250}, Duration{30'000}, Duration{5'400'000},
                 Duration{1'209'600'000}, Duration{93'784'005}}) {
    CHECK(parse_duration(format_duration(d)) == d);
  }
  CHECK(format_duration(90min) == "1h30m");
}

TEST_CASE("RFC 3339 times with Z, offsets and fractions") {
  auto t = parse_rfc3339("2026-11-22T10:00:00Z");
  REQUIRE(t);
  CHECK(to_unix_ms(*t) == 1'795'341'600'000);
  CHECK(parse_rfc3339("2026-11-22T12:00:00+02:00") == t);
  CHECK(parse_rfc3339("2026-11-22t10:00:00z") == t);
  CHECK(parse_rfc3339("2026-11-22 10:00:00Z") == t);
  CHECK(parse_rfc3339("2026-11-22T05:30:00-04:30") == t);
  auto frac = parse_rfc3339("2026-11-22T10:00:00.123456Z");
  REQUIRE(frac);
  CHECK(to_unix_ms(*frac) == 1'795'341'600'123);
  CHECK(format_rfc3339(*frac) == "2026-11-22T10:00:00.123Z");
  CHECK(parse_rfc3339(format_rfc3339(*frac)) == frac);
  // Alertmanager and amtool send the zero time for "no end".
  CHECK(parse_rfc3339("0001-01-01T00:00:00Z").has_value());
}

TEST_CASE(
    "Go's nanosecond times (Prometheus, Alertmanager) are read to the millisecond, cut not "
    "rounded") {
  auto nano = parse_rfc3339("2026-11-22T10:00:00.123456789Z");
  REQUIRE(nano);
  CHECK(to_unix_ms(*nano) == 1'795'341'600'123);
  CHECK(parse_rfc3339("2026-11-22T10:00:00.9999999+01:00") ==
        from_unix_ms(1'795'341'600'999 - 3'600'000));
  CHECK(to_unix_ms(*parse_rfc3339("2026-11-22T10:00:00.5Z")) == 1'795'341'600'500);
  CHECK(to_unix_ms(*parse_rfc3339("2026-11-22T10:00:00.05Z")) == 1'795'341'600'050);
  CHECK(to_unix_ms(*parse_rfc3339("1969-12-31T23:59:59.9999Z")) == -1);
  CHECK(to_unix_ms(*parse_rfc3339("2024-02-29T23:59:59.999-23:59")) == 1'709'337'539'999);
}

TEST_CASE("malformed times are rejected") {
  for (const char* bad :
       {"", "2026-11-22", "2026-11-22T10:00:00", "yesterday", "2026-13-22T10:00:00Z",
        "2026-11-22T10:00:00Zjunk",
        // Found by fuzz/fuzz_codec and fuzz_alertmanager: fields the date
        // library's stream parser turned into NaN seconds (undefined behaviour).
        "2026-11-01T10:00800Z", "0001-01-01T00:0&:01Z", "2026-11-01T10:00:0&Z",
        "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00.1234567890Z", "2026-11-22T10:00:00+0200",
        "2026-11-22x10:00:00Z",
        // Out of range: a day the month lacks, hour 24, leap second, offset hour 24.
        "2026-02-29T10:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T23:59:60Z",
        "2026-11-22T10:60:00Z", "2026-11-22T10:00:00+24:00", "2026-11-22T10:00:00-01:60"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad).has_value());
  }
}

TEST_CASE("format_rfc3339 agrees with the date library over the years users meet") {
  for (std::int64_t ms :
       {std::int64_t{0}, std::int64_t{951'782'400'000} /* 2000-02-29 */,
        std::int64_t{1'795'341'600'123},
        std::int64_t{4'102'444'799'999} /* 2099-12-31T23:59:59.999 */, std::int64_t{-1}}) {
    const auto t = from_unix_ms(ms);
    INFO(ms);
    CHECK(parse_rfc3339(format_rfc3339(t)) == t);
  }
  CHECK(format_rfc3339(from_unix_ms(951'782'400'000)) == "2000-02-29T00:00:00.000Z");
  CHECK(format_rfc3339(from_unix_ms(-1)) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("seconds from an upstream become milliseconds without overflowing, however large") {
  CHECK(saturating_seconds(7) == std::chrono::seconds(7));
  CHECK(saturating_seconds(-7) == std::chrono::seconds(-7));
  // Found by fuzz/fuzz_sentry and fuzz_providers: rate-limit resets times 1000 overflowed.
  for (std::int64_t huge :
       {std::int64_t{19'999'999'999'999'999}, std::numeric_limits<std::int64_t>::max(),
        std::numeric_limits<std::int64_t>::min()}) {
    INFO(huge);
    const Duration d = saturating_seconds(huge);
    CHECK((huge > 0 ? d > std::chrono::hours(24 * 365 * 1000)
                    : d < -std::chrono::hours(24 * 365 * 1000)));
    // Still safe to offset by a present-day time.
    CHECK((d - Duration{1'795'341'600'123}).count() < d.count());
  }
}
