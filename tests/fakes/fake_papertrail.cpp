// The fake Papertrail: a real HTTP server (net::HttpServer) answering the log search endpoint
// from an in-memory list of lines, with misbehaviour on demand.
#include "fake_papertrail.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <deque>
#include <mutex>
#include <sstream>
#include <thread>

#include "vigie/core/log.h"
#include "vigie/net/http_server.h"

namespace vigie::testing {
namespace {

using nlohmann::json;

constexpr std::uint64_t kFirstId = (std::uint64_t{1} << 53) + 1;  // not representable as a double
const TimePoint kEpoch = from_unix_ms(1'767'225'600'000);         // 2026-01-01T00:00:00Z

// Papertrail's style: local time of the token owner with its offset (here always -08:00).
std::string papertrail_time(TimePoint t) {
  using namespace std::chrono;
  const auto local = t - hours(8);
  const auto day = floor<days>(local);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<seconds>(local - day)};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld-08:00",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long>(hms.hours().count()),
                static_cast<long>(hms.minutes().count()), static_cast<long>(hms.seconds().count()));
  return buf;
}

std::optional<std::uint64_t> parse_u64(const std::optional<std::string>& s) {
  if (!s || s->empty()) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || end != s->data() + s->size()) return std::nullopt;
  return v;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::optional<std::string> FakePapertrail::Request::param(std::string_view name) const {
  net::HttpRequest r;
  const auto q = target.find('?');
  r.query = q == std::string::npos ? std::string() : target.substr(q + 1);
  return r.query_param(name);
}

struct FakePapertrail::Impl {
  std::string token;
  std::ostringstream log_sink;
  Logging logging{LogLevel::error, std::make_shared<SecretRegistry>(), log_sink};
  std::unique_ptr<net::HttpServer> http;

  mutable std::mutex mutex;
  std::vector<Line> lines;  // ascending ids
  std::uint64_t next_id = kFirstId;
  bool numbers = false;
  std::deque<int> failures;
  std::deque<std::pair<int, Malformed>> malformed;  // good answers to let pass first, kind
  std::deque<std::chrono::milliseconds> delays;
  std::deque<std::optional<int>> bare_429s;
  std::optional<int> budget;
  int reset_seconds = 5;
  int used = 0;
  std::vector<Request> requests;
  std::vector<std::thread> delayed;  // answers sent late; joined before the server stops

  bool matches(const Line& l, const net::HttpRequest& req) const {
    if (auto q = req.query_param("q"); q && !q->empty()) {
      // Every word must appear (case-insensitive) in the message, program or host: a small
      // subset of the web UI's syntax, enough to filter.
      const std::string hay = lower(l.message + " " + l.program + " " + l.hostname);
      std::istringstream words(lower(*q));
      for (std::string w; words >> w;) {
        if (hay.find(w) == std::string::npos) return false;
      }
    }
    if (auto s = req.query_param("system_id"); s && !s->empty()) {
      if (*s != l.source_name && *s != std::to_string(l.source_id)) return false;
    }
    if (auto g = req.query_param("group_id"); g && !g->empty() && *g != l.group_id) return false;
    return true;
  }

  json line_json(const Line& l) const {
    json e = {{"received_at", papertrail_time(l.received_at)},
              {"generated_at", papertrail_time(l.received_at - std::chrono::seconds(1))},
              {"display_received_at", "Jan 01 00:00:00"},
              {"source_ip", l.source_ip},
              {"source_name", l.source_name},
              {"source_id", l.source_id},
              {"hostname", l.hostname},
              {"program", l.program.empty() ? json(nullptr) : json(l.program)},
              {"severity", l.severity},
              {"facility", l.facility},
              {"message", l.message}};
    if (numbers) {
      e["id"] = l.id;  // nlohmann writes a uint64 with all its digits
    } else {
      e["id"] = std::to_string(l.id);
    }
    return e;
  }

  net::HttpResponse search(const net::HttpRequest& req) {
    auto bad = [](std::string m) {
      return net::HttpResponse::json(400, json{{"message", std::move(m)}}.dump());
    };
    const auto min_id_text = req.query_param("min_id"), max_id_text = req.query_param("max_id");
    const auto min_id = parse_u64(min_id_text), max_id = parse_u64(max_id_text);
    if (min_id_text && !min_id) return bad("min_id must be an id");
    if (max_id_text && !max_id) return bad("max_id must be an id");
    const auto min_time = parse_u64(req.query_param("min_time")),
               max_time = parse_u64(req.query_param("max_time"));
    int limit = 1000;
    if (auto l = req.query_param("limit")) {
      auto v = parse_u64(l);
      if (!v || *v < 1 || *v > 10'000) return bad("limit must be between 1 and 10000");
      limit = static_cast<int>(*v);
    }
    const auto tail_text = req.query_param("tail");
    const bool upper_bound = max_id || max_time;
    // tail defaults to true when min_id comes without max_id/max_time. Only a min_id search
    // without tail pages forward; a time range answers its newest lines, as the web UI does.
    const bool tail = tail_text ? *tail_text == "true" : (min_id && !upper_bound);
    const bool forward = min_id && !tail;

    std::vector<const Line*> hits;
    for (const auto& l : lines) {
      if (min_id && l.id <= *min_id) continue;
      if (max_id && l.id >= *max_id) continue;
      const auto secs = static_cast<std::uint64_t>(to_unix_ms(l.received_at) / 1000);
      if (min_time && secs < *min_time) continue;
      if (max_time && secs > *max_time) continue;
      if (matches(l, req)) hits.push_back(&l);
    }
    const std::uint64_t newest = lines.empty() ? (min_id ? *min_id : 0) : lines.back().id;
    json out;
    std::vector<const Line*> page;
    if (forward) {
      // Forward, oldest first, up to limit; max_id is where the next page starts.
      page.assign(hits.begin(), hits.begin() + std::min<std::size_t>(hits.size(), limit));
      const bool end = page.size() == hits.size();
      out["reached_end"] = end;
      out["reached_record_limit"] = !end;
      out["min_id"] = std::to_string(min_id ? *min_id : (page.empty() ? 0 : page.front()->id));
      out["max_id"] = std::to_string(end ? (max_id ? *max_id : newest) : page.back()->id);
    } else {
      // Live tail or a plain search: the newest `limit` lines, returned oldest first.
      const std::size_t skip =
          hits.size() > static_cast<std::size_t>(limit) ? hits.size() - limit : 0;
      page.assign(hits.begin() + static_cast<std::ptrdiff_t>(skip), hits.end());
      out["reached_beginning"] = skip == 0;
      out["reached_record_limit"] = skip > 0;
      if (tail || upper_bound) out["reached_end"] = true;
      const std::uint64_t lo = page.empty() ? (min_id ? *min_id : 0) : page.front()->id;
      const std::uint64_t hi = max_id ? (page.empty() ? *max_id : page.back()->id) : newest;
      if (lo != 0) out["min_id"] = std::to_string(lo);
      if (hi != 0) out["max_id"] = std::to_string(hi);
    }
    out["events"] = json::array();
    for (const auto* l : page) out["events"].push_back(line_json(*l));
    out["min_time_at"] = papertrail_time(kEpoch);
    out["max_time_at"] = papertrail_time(kEpoch);
    return net::HttpResponse::json(200, out.dump());
  }

  net::HttpResponse answer(const net::HttpRequest& req) {
    if (req.method != "GET" || req.path != "/api/v1/events/search.json") {
      return net::HttpResponse::json(404, R"({"message":"Not Found"})");
    }
    if (req.header("X-Papertrail-Token").value_or("") != token) {
      return net::HttpResponse::json(401, R"({"message":"Unauthorized"})");
    }
    if (!failures.empty()) {
      const int status = failures.front();
      failures.pop_front();
      return net::HttpResponse::text(status, "<html><body>upstream error</body></html>",
                                     "text/html");
    }
    if (!bare_429s.empty()) {
      auto retry = bare_429s.front();
      bare_429s.pop_front();
      auto r = net::HttpResponse::json(429, R"({"message":"Rate limit exceeded"})");
      if (retry) r.headers.emplace_back("Retry-After", std::to_string(*retry));
      return r;
    }
    std::vector<std::pair<std::string, std::string>> rate_headers;
    if (budget) {
      ++used;
      const int remaining = std::max(0, *budget - used);
      rate_headers = {{"X-Rate-Limit-Limit", std::to_string(*budget)},
                      {"X-Rate-Limit-Remaining", std::to_string(remaining)},
                      {"X-Rate-Limit-Reset", std::to_string(reset_seconds)}};
      if (used > *budget) {
        auto r = net::HttpResponse::json(429, R"({"message":"Rate limit exceeded"})");
        r.headers = rate_headers;
        return r;
      }
    }
    auto r = search(req);
    r.headers = rate_headers;
    if (r.status == 200 && !malformed.empty() && malformed.front().first > 0) {
      --malformed.front().first;
    } else if (r.status == 200 && !malformed.empty()) {
      const Malformed kind = malformed.front().second;
      malformed.pop_front();
      switch (kind) {
        case Malformed::truncated:
          r.body = r.body.substr(0, r.body.size() / 2);
          break;
        case Malformed::not_json:
          r.body = "<html><head><title>Papertrail</title></head><body>Maintenance</body></html>";
          r.content_type = "text/html";
          break;
        case Malformed::wrong_shape:
          r.body = R"({"events":{"id":"1"},"min_id":"1","max_id":"2"})";
          break;
        case Malformed::bad_id: {
          // A 21-digit id: beyond 64 bits, only a double could hold it, with its digits lost.
          auto j = json::parse(r.body);
          if (!j["events"].empty()) {
            j["events"][0]["id"] = "@BAD@";
          } else {
            j["max_id"] = "@BAD@";
          }
          r.body = j.dump();
          const auto at = r.body.find("\"@BAD@\"");
          r.body.replace(at, 7, "184467440737095516160");
          break;
        }
      }
    }
    return r;
  }

  void handle(net::HttpRequest req, net::Respond respond) {
    net::HttpResponse resp;
    std::optional<std::chrono::milliseconds> delay;
    {
      std::lock_guard lock(mutex);
      resp = answer(req);
      requests.push_back({req.target, req.headers, resp.status});
      if (!delays.empty()) {
        delay = delays.front();
        delays.pop_front();
      }
      if (delay) {
        delayed.emplace_back(
            [d = *delay, respond = std::move(respond), resp = std::move(resp)]() mutable {
              std::this_thread::sleep_for(d);
              respond(std::move(resp));
            });
        return;
      }
    }
    respond(std::move(resp));
  }
};

FakePapertrail::FakePapertrail(std::string token) : impl_(std::make_unique<Impl>()) {
  impl_->token = std::move(token);
  net::HttpServer::Options options;
  options.read_timeout = options.write_timeout = options.handler_timeout = std::chrono::seconds(10);
  options.threads = 2;
  auto server = net::HttpServer::start(
      options,
      [impl = impl_.get()](net::HttpRequest req, net::Respond respond) {
        impl->handle(std::move(req), std::move(respond));
      },
      impl_->logging.logger("fake-papertrail"));
  if (!server) throw std::runtime_error("fake Papertrail: " + server.error());
  impl_->http = std::move(*server);
}

FakePapertrail::~FakePapertrail() {
  std::vector<std::thread> delayed;
  {
    std::lock_guard lock(impl_->mutex);
    delayed.swap(impl_->delayed);
  }
  for (auto& t : delayed) t.join();
  impl_->http->stop(std::chrono::milliseconds(500));
}

std::string FakePapertrail::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->http->port());
}

std::uint64_t FakePapertrail::add(Line line) {
  std::lock_guard lock(impl_->mutex);
  if (line.id == 0) line.id = impl_->next_id;
  // Ids increase but are not sequential.
  impl_->next_id = line.id + 7;
  if (line.received_at == TimePoint{}) {
    line.received_at =
        kEpoch + std::chrono::seconds(static_cast<std::int64_t>(impl_->lines.size()));
  }
  impl_->lines.push_back(line);
  return line.id;
}

std::vector<std::uint64_t> FakePapertrail::add_lines(int n, const std::string& prefix) {
  std::vector<std::uint64_t> ids;
  for (int i = 1; i <= n; ++i) {
    Line l;
    l.message = prefix + " " + std::to_string(i);
    ids.push_back(add(l));
  }
  return ids;
}

void FakePapertrail::set_next_id(std::uint64_t id) {
  std::lock_guard lock(impl_->mutex);
  impl_->next_id = id;
}

std::uint64_t FakePapertrail::newest_id() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->lines.empty() ? 0 : impl_->lines.back().id;
}

void FakePapertrail::ids_as_numbers(bool numbers) {
  std::lock_guard lock(impl_->mutex);
  impl_->numbers = numbers;
}

void FakePapertrail::fail_next(int status, int count) {
  std::lock_guard lock(impl_->mutex);
  for (int i = 0; i < count; ++i) impl_->failures.push_back(status);
}

void FakePapertrail::malform_next(Malformed kind, int after) {
  std::lock_guard lock(impl_->mutex);
  impl_->malformed.emplace_back(after, kind);
}

void FakePapertrail::delay_next(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mutex);
  impl_->delays.push_back(delay);
}

void FakePapertrail::rate_limit(std::optional<int> budget, int reset_seconds) {
  std::lock_guard lock(impl_->mutex);
  impl_->budget = budget;
  impl_->reset_seconds = reset_seconds;
  impl_->used = 0;
}

void FakePapertrail::reset_rate_window() {
  std::lock_guard lock(impl_->mutex);
  impl_->used = 0;
}

void FakePapertrail::rate_limit_next_without_headers(std::optional<int> retry_after) {
  std::lock_guard lock(impl_->mutex);
  impl_->bare_429s.push_back(retry_after);
}

std::vector<FakePapertrail::Request> FakePapertrail::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::size_t FakePapertrail::request_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests.size();
}

}  // namespace vigie::testing
