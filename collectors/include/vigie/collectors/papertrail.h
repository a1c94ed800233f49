// Papertrail's log search API (GET /api/v1/events/search.json, api-notes section 3): one request
// and its parsed page, shared by the `papertrail` collector (which pages forward from a cursor
// with min_id and tail=false) and the chat `logs` command (one bounded search). Event ids are
// 64-bit and exceed 2^53: they are kept as their decimal digits and never pass through a double.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "vigie/bus/event.h"
#include "vigie/collectors/collector.h"
#include "vigie/core/time.h"
#include "vigie/net/http_client.h"

namespace vigie::collectors {

// One search request. Unset fields are not sent.
struct PapertrailQuery {
  std::string q;                              // the search, in the web UI's syntax
  std::string system_id;                      // id or name
  std::string group_id;                       // id
  std::optional<std::string> min_id, max_id;  // decimal digits
  std::optional<TimePoint> min_time, max_time;
  int limit = 1000;  // 1..10000
  std::optional<bool> tail;
};

// One log line as Papertrail returns it.
struct PapertrailLine {
  std::string id;  // decimal digits, exactly as sent (string or integer in the JSON)
  std::string received_at, generated_at;  // ISO 8601 with offset, as sent
  std::string hostname, program, severity, facility, message;
  std::string source_name, source_ip;
  std::optional<std::int64_t> source_id;
};

struct PapertrailPage {
  std::vector<PapertrailLine> events;  // oldest first
  std::string min_id, max_id;          // the range searched (empty when absent)
  bool reached_beginning = false, reached_end = false;
  bool reached_record_limit = false, reached_time_limit = false;
};

struct PapertrailError {
  enum class Kind {
    rate_limited,  // 429: wait `retry_after` (X-Rate-Limit-Reset or Retry-After, when sent)
    transient,     // 5xx, transport failure, truncated or malformed body: try again later
    permanent,     // 401/403 (token), 400 (query), 404 (base_url): fix the configuration
  };
  Kind kind = Kind::transient;
  std::string message;  // what happened, never the token
  std::optional<Duration> retry_after;
};

// The X-Rate-Limit-* headers of a response, when present.
struct PapertrailRateLimit {
  std::optional<std::int64_t> limit, remaining;
  std::optional<Duration> reset;  // X-Rate-Limit-Reset: seconds until the window resets
};

struct PapertrailResponse {
  PapertrailPage page;
  PapertrailRateLimit rate;
};

// Where and how to search: `base_url` as configured ("https://papertrailapp.com"), the token.
struct PapertrailEndpoint {
  net::Url base;
  std::string token;
};

// The request for `query` (the token in X-Papertrail-Token).
net::ClientRequest papertrail_request(const PapertrailEndpoint& endpoint,
                                      const PapertrailQuery& query);

// Sends one search and parses the answer. Blocking; never throws.
tl::expected<PapertrailResponse, PapertrailError> papertrail_search(
    net::HttpClient& http, const PapertrailEndpoint& endpoint, const PapertrailQuery& query);

// Parses a search.json body. @return a message naming what is wrong when it is not one.
tl::expected<PapertrailPage, std::string> parse_papertrail_page(std::string_view body);

// Whether `text` is a Papertrail id: 1 to 20 decimal digits fitting in 64 bits.
bool is_papertrail_id(std::string_view text);
// a < b for two ids (compared as unsigned 64-bit integers, never as doubles).
bool papertrail_id_less(std::string_view a, std::string_view b);

// A line as a `papertrail.log` event: id "papertrail:<id>", time from received_at (else
// generated_at, else `fallback_time`), attrs id, hostname, host, program, severity, level,
// facility, message, source_name, source_ip, source_id, generated_at, collector, and app when
// `app` is not empty.
bus::Event papertrail_event(const PapertrailLine& line, std::string_view collector,
                            std::string_view app, TimePoint fallback_time);

// The collector kind's factory (listed in kinds.cpp).
CollectorFactory papertrail_factory();

}  // namespace vigie::collectors
