// `logs` jobs: one bounded Papertrail search each, on the searcher's thread, answered by a reply.
#include "logs_job.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "vigie/chat/commands.h"

namespace vigie::app {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxQueued =
    8;  // searches waiting at once; beyond, the asker is told to retry
constexpr int kMaxLimit = 1000;

std::string line_time(const collectors::PapertrailLine& l) {
  auto t = parse_rfc3339(l.received_at);
  if (!t) return l.received_at;
  return format_rfc3339(*t).substr(0, 19) + "Z";
}

}  // namespace

LogsSettings logs_settings(const config::Config& cfg, Logging& logging) {
  LogsSettings s;
  for (const auto& c : cfg.collectors) {
    if (c.type != "papertrail") continue;
    s.collector = c.name;
    auto base = net::parse_url(c.options.string("base_url", "https://papertrailapp.com"));
    if (base) s.endpoint.base = *base;
    auto ref = c.options.secret("token");
    config::Diagnostics diags;
    std::optional<std::string> token;
    if (ref)
      token = config::resolve_secret(*ref, "token", logging.secrets(), diags,
                                     config::Severity::warning);
    if (!base) {
      s.unavailable = "its base_url is not a URL";
    } else if (!token || token->empty()) {
      s.unavailable =
          "its token is not readable by this worker" +
          std::string(ref && !ref->env.empty() ? " (environment variable " + ref->env + ")" : "");
    } else {
      s.endpoint.token = *token;
    }
    break;
  }
  return s;
}

std::string logs_reply_text(
    const json& payload,
    const tl::expected<collectors::PapertrailResponse, collectors::PapertrailError>& result) {
  const std::string query = chat::code_escape(payload.value("query", ""));
  const std::string since = payload.value("since", "1h");
  if (!result) {
    const auto& e = result.error();
    if (e.kind == collectors::PapertrailError::Kind::rate_limited) {
      return ":hourglass: Papertrail is rate limiting searches" +
             (e.retry_after ? "; try again in " + format_duration(*e.retry_after) : std::string()) +
             ".";
    }
    return ":warning: The Papertrail search for `" + query +
           "` failed: " + chat::code_escape(e.message);
  }
  const auto& events = result->page.events;
  if (events.empty()) return "No log lines matching `" + query + "` in the last " + since + ".";
  // Newest first: when the reply is cut, what is cut is the oldest.
  std::string lines;
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    std::string msg = it->message;
    for (auto& ch : msg) {
      if (ch == '\n') ch = ' ';
    }
    // Escaped by capped_code_block: log lines are untrusted (`<!channel>` would ping everyone).
    lines += line_time(*it) + " " + it->hostname + " " +
             (it->program.empty() ? "" : it->program + ": ") + msg + "\n";
  }
  const bool more =
      result->page.reached_record_limit ||
      static_cast<std::int64_t>(events.size()) >= payload.value("limit", std::int64_t{kMaxLimit});
  std::string text = "*Logs matching `" + query + "`* — last " + since + ", " +
                     std::to_string(events.size()) + " line" + (events.size() == 1 ? "" : "s") +
                     ", newest first" +
                     (more ? " (more matched: narrow the query or the time range)" : "") + "\n";
  const auto max_lines = payload.value("max_lines", std::size_t{30});
  return text + chat::capped_code_block(lines, max_lines);
}

json logs_reply_payload(const json& payload, const std::string& text) {
  const json to = payload.value("reply_to", json::object());
  json p = {{"text", text}};
  if (to.contains("response_url")) {
    p["response_url"] = to["response_url"];
    return p;
  }
  for (const char* key : {"channel", "user", "thread_ts", "ephemeral"}) {
    if (to.contains(key)) p[key] = to[key];
  }
  return p;
}

struct LogsSearcher::Impl {
  struct Pending {
    bus::Job job;
    Deliver deliver;
    Done done;
  };

  LogsSettings settings;
  Logger log;
  const SecretRegistry& secrets;
  std::unique_ptr<net::HttpClient> http;
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Pending> queue;
  bool stopping = false;
  std::thread thread;

  Impl(LogsSettings s, Logging& logging)
      : settings(std::move(s)), log(logging.logger("logs")), secrets(logging.secrets()) {}

  // Sends the reply; the logs job is done when its reply is.
  void answer(Pending& p, const std::string& text, json extra) {
    bus::Job reply;
    reply.id = p.job.id + ":reply";
    reply.kind = "reply";
    reply.payload = logs_reply_payload(p.job.payload, secrets.redact(text));
    p.deliver(reply, [id = p.job.id, done = std::move(p.done),
                      extra = std::move(extra)](bus::JobResult r) {
      r.job_id = id;
      if (r.output.is_object()) {
        for (auto it = extra.begin(); it != extra.end(); ++it) r.output[it.key()] = *it;
      }
      done(std::move(r));
    });
  }

  void run(Pending& p) {
    const json& pl = p.job.payload;
    collectors::PapertrailQuery q;
    q.q = pl.value("query", "");
    q.min_time = from_unix_ms(pl.value("min_time_ms", std::int64_t{0}));
    q.max_time = from_unix_ms(pl.value("max_time_ms", std::int64_t{0}));
    q.limit = static_cast<int>(
        std::clamp<std::int64_t>(pl.value("limit", std::int64_t{100}), 1, kMaxLimit));
    auto r = collectors::papertrail_search(*http, settings.endpoint, q);
    if (!r) log.warn("logs search failed", {{"job", p.job.id}, {"error", r.error().message}});
    const std::size_t n = r ? r->page.events.size() : 0;
    answer(p, logs_reply_text(pl, r), {{"lines", n}, {"search_ok", r.has_value()}});
  }

  void loop() {
    for (;;) {
      Pending p;
      {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) return;
        p = std::move(queue.front());
        queue.pop_front();
      }
      try {
        run(p);
      } catch (const std::exception& e) {
        // No exception leaves the thread: the job fails with it.
        p.done({p.job.id, bus::JobOutcome::fail, json::object(), e.what(), Duration{0}, ""});
      }
    }
  }
};

LogsSearcher::LogsSearcher(LogsSettings settings, Logging& logging)
    : impl_(std::make_unique<Impl>(std::move(settings), logging)) {
  if (!impl_->settings.collector.empty() && impl_->settings.unavailable.empty()) {
    net::HttpClientOptions o;
    o.connect_timeout = Duration{5'000};
    o.request_timeout = Duration{15'000};  // Papertrail cuts a search off after ~5 s
    o.max_body_bytes = 4u << 20;
    impl_->http = net::make_http_client(o, logging.logger("http-client"));
    impl_->thread = std::thread([impl = impl_.get()] { impl->loop(); });
  }
}

LogsSearcher::~LogsSearcher() { stop(); }

void LogsSearcher::stop() {
  std::deque<Impl::Pending> left;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    left.swap(impl_->queue);
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
  // Not run: the dispatcher sends them again to a worker that runs.
  for (auto& p : left)
    p.done({p.job.id, bus::JobOutcome::retry, json::object(), "worker stopping", Duration{0}, ""});
}

void LogsSearcher::submit(const bus::Job& job, Deliver deliver, Done done) {
  Impl::Pending p{job, std::move(deliver), std::move(done)};
  const auto& s = impl_->settings;
  if (s.collector.empty()) {
    impl_->answer(p,
                  ":information_source: `logs` searches Papertrail with the token of a "
                  "`papertrail` collector, and "
                  "vigie.toml has none: add `[collectors.&lt;name&gt;] type = \"papertrail\"` "
                  "(docs/collectors.md).",
                  {{"lines", 0}, {"search_ok", false}});
    return;
  }
  if (!s.unavailable.empty()) {
    impl_->answer(p,
                  ":warning: `logs` cannot search Papertrail from this worker: the `" +
                      s.collector + "` collector's " + s.unavailable + ".",
                  {{"lines", 0}, {"search_ok", false}});
    return;
  }
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->stopping && impl_->queue.size() < kMaxQueued) {
      impl_->queue.push_back(std::move(p));
      impl_->cv.notify_one();
      return;
    }
  }
  impl_->answer(p, ":hourglass: Too many log searches at once; try again in a minute.",
                {{"lines", 0}, {"search_ok", false}});
}

}  // namespace vigie::app
