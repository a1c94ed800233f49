// [collectors.<name>] type = "papertrail": polls events/search.json forward from a cursor (the
// last max_id) with min_id and tail=false, following max_id page by page until caught up, and
// turns each line into a `papertrail.log` event. The search request and its parsing are shared
// with the chat `logs` command (papertrail.h). Wire format: api-notes section 3.
#include "vigie/collectors/papertrail.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include "vigie/collectors/collector.h"
#include "vigie/collectors/kinds.h"

namespace vigie::collectors {
namespace {

using nlohmann::json;

std::optional<std::uint64_t> id_value(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// An id as JSON carries it: a string of digits (recent payloads) or an integer (old examples).
// A JSON number nlohmann could only read as a double (beyond 2^64, or with a fraction) has lost
// digits already: it is refused rather than rounded.
std::optional<std::string> id_of(const json& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (is_papertrail_id(s)) return s;
    return std::nullopt;
  }
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if (i >= 0) return std::to_string(i);
  }
  return std::nullopt;
}

std::string text_of(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

bool flag_of(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

std::optional<std::int64_t> header_int(const net::ClientResponse& r, std::string_view name) {
  auto h = r.header(name);
  if (!h) return std::nullopt;
  std::string_view s = *h;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// A wait in seconds from a header, bounded: an absurd value must not park a collector for days.
std::optional<Duration> seconds_header(const net::ClientResponse& r, std::string_view name) {
  auto v = header_int(r, name);
  if (!v) return std::nullopt;
  return std::max(Duration{0}, saturating_seconds(std::min<std::int64_t>(*v, 3600)));
}

std::string short_body(const std::string& body) {
  // Papertrail's 400 says {"message": "..."}; anything else is shown cut short.
  auto j = json::parse(body, nullptr, false);
  std::string m =
      (!j.is_discarded() && j.is_object() && j.contains("message")) ? text_of(j, "message") : body;
  if (m.size() > 200) m = m.substr(0, 200) + "...";
  for (auto& c : m) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return m;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

bool is_papertrail_id(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         id_value(text).has_value();
}

bool papertrail_id_less(std::string_view a, std::string_view b) {
  auto x = id_value(a), y = id_value(b);
  if (!x || !y) return false;
  return *x < *y;
}

net::ClientRequest papertrail_request(const PapertrailEndpoint& endpoint,
                                      const PapertrailQuery& q) {
  net::ClientRequest req;
  req.method = "GET";
  req.url = net::join(endpoint.base, "api/v1/events/search.json");
  std::string query;
  auto add = [&](std::string_view k, std::string_view v) {
    query += query.empty() ? "" : "&";
    query += std::string(k) + "=" + net::url_encode(v);
  };
  if (!q.q.empty()) add("q", q.q);
  if (!q.system_id.empty()) add("system_id", q.system_id);
  if (!q.group_id.empty()) add("group_id", q.group_id);
  if (q.min_id) add("min_id", *q.min_id);
  if (q.max_id) add("max_id", *q.max_id);
  if (q.min_time) add("min_time", std::to_string(to_unix_ms(*q.min_time) / 1000));
  if (q.max_time) add("max_time", std::to_string(to_unix_ms(*q.max_time) / 1000));
  add("limit", std::to_string(std::clamp(q.limit, 1, 10'000)));
  if (q.tail) add("tail", *q.tail ? "true" : "false");
  req.url.target += "?" + query;
  req.headers.emplace("X-Papertrail-Token", endpoint.token);
  req.headers.emplace("Accept", "application/json");
  return req;
}

tl::expected<PapertrailPage, std::string> parse_papertrail_page(std::string_view body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return tl::unexpected(std::string("truncated or invalid JSON"));
  if (!j.is_object()) return tl::unexpected(std::string("expected a JSON object"));
  auto events = j.find("events");
  if (events == j.end() || !events->is_array())
    return tl::unexpected(std::string("no `events` array"));
  PapertrailPage page;
  page.events.reserve(events->size());
  for (std::size_t i = 0; i < events->size(); ++i) {
    const json& e = (*events)[i];
    if (!e.is_object()) return tl::unexpected("events[" + std::to_string(i) + "] is not an object");
    auto id = e.contains("id") ? id_of(e["id"]) : std::nullopt;
    if (!id) return tl::unexpected("events[" + std::to_string(i) + "].id is not a 64-bit id");
    PapertrailLine line;
    line.id = std::move(*id);
    line.received_at = text_of(e, "received_at");
    line.generated_at = text_of(e, "generated_at");
    line.hostname = text_of(e, "hostname");
    line.program = text_of(e, "program");
    line.severity = text_of(e, "severity");
    line.facility = text_of(e, "facility");
    line.message = text_of(e, "message");
    line.source_name = text_of(e, "source_name");
    line.source_ip = text_of(e, "source_ip");
    if (auto s = e.find("source_id"); s != e.end() && s->is_number_integer())
      line.source_id = s->get<std::int64_t>();
    page.events.push_back(std::move(line));
  }
  for (const char* key : {"min_id", "max_id"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    auto id = id_of(*it);
    if (!id) return tl::unexpected(std::string("`") + key + "` is not a 64-bit id");
    (key[1] == 'i' ? page.min_id : page.max_id) = *id;
  }
  page.reached_beginning = flag_of(j, "reached_beginning");
  page.reached_end = flag_of(j, "reached_end");
  page.reached_record_limit = flag_of(j, "reached_record_limit");
  page.reached_time_limit = flag_of(j, "reached_time_limit");
  return page;
}

tl::expected<PapertrailResponse, PapertrailError> papertrail_search(
    net::HttpClient& http, const PapertrailEndpoint& endpoint, const PapertrailQuery& query) {
  using Kind = PapertrailError::Kind;
  auto r = http.send(papertrail_request(endpoint, query));
  if (!r) {
    return tl::unexpected(
        PapertrailError{r.error().retryable() ? Kind::transient : Kind::permanent,
                        "papertrail: " + std::string(net::client_error_name(r.error().kind)) +
                            ": " + r.error().message,
                        std::nullopt});
  }
  PapertrailRateLimit rate;
  rate.limit = header_int(*r, "X-Rate-Limit-Limit");
  rate.remaining = header_int(*r, "X-Rate-Limit-Remaining");
  rate.reset = seconds_header(*r, "X-Rate-Limit-Reset");
  const int status = r->status;
  if (status == 429) {
    auto wait = rate.reset ? rate.reset : seconds_header(*r, "Retry-After");
    return tl::unexpected(
        PapertrailError{Kind::rate_limited, "papertrail: rate limited (HTTP 429)", wait});
  }
  if (status == 401 || status == 403) {
    return tl::unexpected(
        PapertrailError{Kind::permanent,
                        "papertrail: HTTP " + std::to_string(status) + ": the token was refused",
                        {}});
  }
  if (status >= 400 && status < 500) {
    return tl::unexpected(
        PapertrailError{Kind::permanent,
                        "papertrail: HTTP " + std::to_string(status) + ": " + short_body(r->body),
                        {}});
  }
  if (status != 200) {
    return tl::unexpected(
        PapertrailError{Kind::transient, "papertrail: HTTP " + std::to_string(status), {}});
  }
  auto page = parse_papertrail_page(r->body);
  if (!page)
    return tl::unexpected(
        PapertrailError{Kind::transient, "papertrail: malformed response: " + page.error(), {}});
  return PapertrailResponse{std::move(*page), rate};
}

bus::Event papertrail_event(const PapertrailLine& line, std::string_view collector,
                            std::string_view app, TimePoint fallback_time) {
  bus::Event e;
  e.id = "papertrail:" + line.id;
  e.source = "papertrail";
  e.kind = "papertrail.log";
  // Papertrail's receipt time: the sender's clock (generated_at) may be off.
  auto t = parse_rfc3339(line.received_at);
  if (!t) t = parse_rfc3339(line.generated_at);
  e.time = t ? *t : fallback_time;
  e.received_at = fallback_time;
  json& a = e.attrs;
  a["id"] = line.id;
  a["hostname"] = line.hostname;
  a["host"] = line.hostname;
  a["program"] = line.program;
  a["severity"] = line.severity;
  a["level"] = lower(line.severity);
  a["facility"] = line.facility;
  a["message"] = line.message;
  a["source_name"] = line.source_name;
  a["source_ip"] = line.source_ip;
  if (line.source_id) a["source_id"] = *line.source_id;
  a["generated_at"] = line.generated_at;
  a["collector"] = std::string(collector);
  if (!app.empty()) a["app"] = std::string(app);
  return e;
}

namespace {

class PapertrailCollector final : public Collector {
 public:
  PapertrailCollector(std::string name, PapertrailEndpoint endpoint, PapertrailQuery base,
                      std::string app, int max_pages, net::HttpClient& http, Logger log)
      : name_(std::move(name)),
        endpoint_(std::move(endpoint)),
        base_(std::move(base)),
        app_(std::move(app)),
        max_pages_(max_pages),
        http_(http),
        log_(std::move(log)) {}

  PollResult poll(const PollContext& ctx) override {
    PollResult out;
    std::optional<std::string> cursor = ctx.cursor;
    if (cursor && !is_papertrail_id(*cursor)) {
      log_.warn("stored cursor is not a Papertrail id: starting from the newest lines",
                {{"collector", name_}});
      cursor.reset();
    }
    for (int page_no = 0; page_no < max_pages_; ++page_no) {
      PapertrailQuery q = base_;
      if (cursor) {
        // Forward from the cursor, oldest first. Without tail=false a min_id search is a live
        // tail that favours recency and may skip lines between the cursor and now.
        q.min_id = *cursor;
        q.tail = false;
      }
      auto r = papertrail_search(http_, endpoint_, q);
      if (!r) {
        const auto& err = r.error();
        if (err.kind == PapertrailError::Kind::rate_limited) {
          if (page_no > 0) {
            // Keep the pages already read; the next poll continues from them.
            log_.info("rate limited while paging: continuing next poll", {{"collector", name_}});
            break;
          }
          ++rate_limited_in_a_row_;
          out.status = PollStatus::rate_limited;
          out.retry_after = err.retry_after ? *err.retry_after : unannounced_wait();
          out.error = err.message;
          return out;
        }
        // A failed poll moves nothing: the pages read before it are fetched again next time.
        PollResult fail;
        fail.status =
            err.kind == PapertrailError::Kind::permanent ? PollStatus::error : PollStatus::retry;
        fail.error = err.message;
        return fail;
      }
      rate_limited_in_a_row_ = 0;
      const PapertrailPage& page = r->page;
      std::string newest = page.max_id;
      for (const auto& line : page.events) {
        // min_id is exclusive; a line at or before the cursor was delivered already.
        if (cursor && !papertrail_id_less(*cursor, line.id)) continue;
        out.events.push_back(papertrail_event(line, name_, app_, ctx.now));
        if (newest.empty() || papertrail_id_less(newest, line.id)) newest = line.id;
      }
      const bool advanced = !newest.empty() && (!cursor || papertrail_id_less(*cursor, newest));
      if (advanced) cursor = newest;
      out.cursor = cursor;
      // The first poll reads the newest page only: the cursor starts there, history is not
      // replayed.
      const bool first = !ctx.cursor || !is_papertrail_id(*ctx.cursor);
      const bool caught_up = first || page.reached_end || !advanced ||
                             (static_cast<int>(page.events.size()) < q.limit &&
                              !page.reached_time_limit && !page.reached_record_limit);
      if (caught_up) return out;
      if (r->rate.remaining && *r->rate.remaining <= 0) {
        // The window is spent: the next request would be refused; the next poll continues.
        log_.info("rate limit window spent while paging: continuing next poll",
                  {{"collector", name_}});
        return out;
      }
    }
    if (out.status == PollStatus::ok && out.cursor) out.more = true;
    return out;
  }

 private:
  // A 429 without X-Rate-Limit-Reset or Retry-After: 5 s, doubling, up to 5 minutes.
  Duration unannounced_wait() const {
    std::int64_t ms = 5'000;
    for (int i = 1; i < rate_limited_in_a_row_ && ms < 300'000; ++i) ms *= 2;
    return Duration{std::min<std::int64_t>(ms, 300'000)};
  }

  std::string name_;
  PapertrailEndpoint endpoint_;
  PapertrailQuery base_;
  std::string app_;
  int max_pages_;
  net::HttpClient& http_;
  Logger log_;
  int rate_limited_in_a_row_ = 0;
};

tl::expected<std::unique_ptr<Collector>, std::string> make_papertrail_collector(
    const CollectorSpec& spec, net::HttpClient& http, Logger log) {
  auto token = spec.secrets.find("token");
  if (token == spec.secrets.end() || token->second.empty())
    return tl::unexpected(std::string("token is required"));
  auto base = net::parse_url(spec.options.string("base_url", "https://papertrailapp.com"));
  if (!base || (base->scheme != "http" && base->scheme != "https")) {
    return tl::unexpected(std::string("base_url is not an http(s) URL"));
  }
  PapertrailQuery q;
  q.q = spec.options.string("query");
  q.system_id = spec.options.string("system_id");
  q.group_id = spec.options.string("group_id");
  q.limit =
      static_cast<int>(std::clamp<std::int64_t>(spec.options.integer("limit", 1000), 1, 10'000));
  const int pages =
      static_cast<int>(std::clamp<std::int64_t>(spec.options.integer("max_pages", 10), 1, 100));
  return std::make_unique<PapertrailCollector>(spec.name, PapertrailEndpoint{*base, token->second},
                                               std::move(q), spec.options.string("app"), pages,
                                               http, std::move(log));
}

}  // namespace

CollectorFactory papertrail_factory() { return &make_papertrail_collector; }

}  // namespace vigie::collectors
