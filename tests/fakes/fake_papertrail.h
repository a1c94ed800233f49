// A fake Papertrail for tests: in-process, 127.0.0.1, port 0, serving GET
// /api/v1/events/search.json as api-notes section 3 documents it — the X-Papertrail-Token check
// (401), q / system_id / group_id filters, min_id / max_id / min_time / max_time bounds, `limit`
// (400 outside 1..10000), the three search modes (forward from min_id with tail=false, live tail
// that keeps only the newest lines, the newest lines of a range or before now), min_id / max_id /
// reached_* in the answer, ids above 2^53 (as strings, or as JSON integers like old payloads). On
// demand: 429 with X-Rate-Limit-* headers (a request budget per window), 5xx, slow answers,
// truncated and malformed bodies. Every request is recorded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigie/core/time.h"
#include "vigie/net/http.h"

namespace vigie::testing {

class FakePapertrail {
 public:
  struct Line {
    std::uint64_t id = 0;  // 0: the next id (ids only increase, not sequentially)
    std::string hostname = "web-1", program = "app/web.1", severity = "Info", facility = "Local7";
    std::string message;
    std::string source_name = "shop-api", source_ip = "10.0.0.5";
    std::int64_t source_id = 42;
    std::string group_id = "7";
    TimePoint received_at{};  // epoch: "now" as the fake's counter says (one second per line)
  };

  struct Request {
    std::string target;
    net::Headers headers;
    int status = 0;  // what the fake answered
    std::optional<std::string> param(std::string_view name) const;
  };

  enum class Malformed {
    truncated,    // a valid answer cut in the middle
    not_json,     // an HTML error page with status 200
    wrong_shape,  // JSON, but `events` is not an array
    bad_id,       // an event id beyond 64 bits (a JSON number only a double could hold)
  };

  explicit FakePapertrail(std::string token = "pt-fake-token");
  ~FakePapertrail();
  FakePapertrail(const FakePapertrail&) = delete;
  FakePapertrail& operator=(const FakePapertrail&) = delete;

  // http://127.0.0.1:<port> — the value of base_url.
  std::string base_url() const;

  // Appends a line; @return its id. Ids start at 2^53 + 1 (a double cannot hold it) by default.
  std::uint64_t add(Line line);
  // Appends `n` lines "<prefix> <i>" (i from 1); @return their ids.
  std::vector<std::uint64_t> add_lines(int n, const std::string& prefix = "line");
  void set_next_id(std::uint64_t id);
  std::uint64_t newest_id() const;
  // Old payloads sent ids as JSON integers; recent ones as strings (the default).
  void ids_as_numbers(bool numbers);

  // The next `count` searches answer `status` (500, 503, ...) with a short body.
  void fail_next(int status, int count = 1);
  // A search answers 200 with a broken body of that kind: the next one, or the one after `after`
  // good answers (a later page).
  void malform_next(Malformed kind, int after = 0);
  // The next search is answered after `delay`.
  void delay_next(std::chrono::milliseconds delay);
  // `budget` searches per window; each answer carries X-Rate-Limit-Limit, -Remaining and -Reset
  // (`reset_seconds`); past the budget, 429. The window resets only by reset_rate_window() (the
  // fake has no clock). nullopt: no limit, no headers.
  void rate_limit(std::optional<int> budget, int reset_seconds = 5);
  void reset_rate_window();
  // The next search answers 429 with Retry-After only (or no header at all when nullopt).
  void rate_limit_next_without_headers(std::optional<int> retry_after);

  std::vector<Request> requests() const;
  std::size_t request_count() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::testing
