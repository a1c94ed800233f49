// The collector scheduler: due times, backoff, cursors through the ingest, health events.
#include "vigie/collectors/scheduler.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <random>

namespace vigie::collectors {
namespace {

struct Slot {
  ScheduledCollector spec;
  std::optional<std::string> cursor;
  bool cursor_loaded = false;
  SteadyPoint due{};
  int failures = 0;  // consecutive, for the backoff
  CollectorHealth health;
};

}  // namespace

struct CollectorScheduler::Impl {
  std::vector<Slot> slots;
  IngestFn ingest;
  CursorLoadFn load;
  Clock& clock;
  Logger log;
  SchedulerOptions options;
  std::function<double()> random01;
  mutable std::mutex mutex;  // guards health (read by the HTTP thread)
  std::condition_variable cv;
  std::mutex wait_mutex;
  bool stopping = false;
  std::thread driver;
  std::uint64_t seq = 0;

  Impl(std::vector<ScheduledCollector> collectors, IngestFn i, CursorLoadFn l, Clock& c, Logger lg, SchedulerOptions o,
       std::function<double()> r)
      : ingest(std::move(i)), load(std::move(l)), clock(c), log(std::move(lg)), options(o), random01(std::move(r)) {
    if (!random01) {
      random01 = [rng = std::make_shared<std::mt19937_64>(std::random_device{}())] {
        return std::uniform_real_distribution<double>(0.0, 1.0)(*rng);
      };
    }
    const SteadyPoint now = clock.steady_now();
    for (auto& c : collectors) {
      Slot s;
      s.health.name = c.name;
      s.health.type = c.type;
      s.spec = std::move(c);
      s.due = now;  // the first poll at once
      slots.push_back(std::move(s));
    }
  }

  Duration jittered(Duration d) {
    const double f = 1.0 + options.jitter * (2.0 * random01() - 1.0);
    return Duration{static_cast<std::int64_t>(static_cast<double>(d.count()) * f)};
  }

  Duration backoff(int failures) {
    double base = static_cast<double>(options.backoff_min.count());
    for (int i = 1; i < failures && base < static_cast<double>(options.backoff_max.count()); ++i) base *= 2;
    base = std::min(base, static_cast<double>(options.backoff_max.count()));
    // Between half and all of it: collectors failing together do not retry together.
    return Duration{static_cast<std::int64_t>(base * (0.5 + 0.5 * random01()))};
  }

  bus::Event make_event(const Slot& s, std::string_view kind, nlohmann::json attrs) {
    bus::Event e;
    const TimePoint now = clock.system_now();
    e.id = std::string(kind) + ":" + s.spec.name + ":" + std::to_string(to_unix_ms(now)) + ":" + std::to_string(++seq);
    e.source = "collector";
    e.kind = std::string(kind);
    e.time = e.received_at = now;
    e.attrs = std::move(attrs);
    return e;
  }

  void count(const Slot& s, const char* name, const char* help, double v = 1) {
    if (options.metrics) options.metrics->counter(name, help, {{"collector", s.spec.name}}).inc(v);
  }

  // Marks the slot ok or failing; a change of state is an event for rules and observers.
  void set_state(Slot& s, const std::string& state, const std::string& error, std::vector<bus::Event>& out) {
    const std::string before = s.health.state;
    {
      std::lock_guard lock(mutex);
      s.health.state = state;
      s.health.error = error;
    }
    const bool change = state == "failing" ? before != "failing" : before == "failing";
    if (!change) return;
    if (state == "failing") {
      log.warn("collector failing", {{"collector", s.spec.name}, {"error", error}});
    } else {
      log.info("collector recovered", {{"collector", s.spec.name}});
    }
    out.push_back(make_event(s, kHealthEventKind,
                             {{"collector", s.spec.name}, {"type", s.spec.type}, {"state", state}, {"error", error}}));
  }

  void poll_one(Slot& s) {
    const SteadyPoint started = clock.steady_now();
    if (!s.cursor_loaded) {
      s.cursor = load ? load(s.spec.name) : std::nullopt;
      s.cursor_loaded = true;
    }
    PollResult r;
    try {
      if (s.spec.budget) s.spec.budget->start(s.spec.timeout);
      r = s.spec.collector->poll({s.cursor, clock.system_now(), s.spec.timeout});
    } catch (const std::exception& e) {
      // A collector must not throw; if one does, it is a failed poll, not a dead scheduler.
      r.status = PollStatus::retry;
      r.error = std::string("collector threw: ") + e.what();
    }
    {
      std::lock_guard lock(mutex);
      ++s.health.polls;
    }
    count(s, "vigie_collector_polls_total", "Polls made, by collector");
    std::vector<bus::Event> batch;
    Duration next = jittered(s.spec.interval);
    switch (r.status) {
      case PollStatus::ok: {
        s.failures = 0;
        const std::size_t n = r.events.size();
        batch = std::move(r.events);
        const bool cursor_moves = r.cursor && r.cursor != s.cursor;
        if (cursor_moves) {
          batch.push_back(make_event(s, kCursorEventKind, {{"collector", s.spec.name}, {"cursor", *r.cursor}}));
        }
        set_state(s, "ok", "", batch);
        if (!batch.empty() && !ingest(batch)) {
          // Not acked: the cursor stays, the next poll fetches the same again (dedup by id).
          log.warn("collector events not acknowledged: polling again later", {{"collector", s.spec.name}});
          next = backoff(++s.failures);
          break;
        }
        if (cursor_moves) s.cursor = r.cursor;
        {
          std::lock_guard lock(mutex);
          s.health.events += n;
          s.health.last_success = clock.system_now();
        }
        count(s, "vigie_collector_events_total", "Events collected, by collector", static_cast<double>(n));
        if (options.metrics) {
          options.metrics
              ->gauge("vigie_collector_last_success_timestamp_seconds", "Time of the last successful poll",
                      {{"collector", s.spec.name}})
              .set(static_cast<double>(to_unix_ms(clock.system_now())) / 1000.0);
        }
        if (r.more) next = Duration{0};
        break;
      }
      case PollStatus::rate_limited: {
        {
          std::lock_guard lock(mutex);
          ++s.health.rate_limited;
        }
        count(s, "vigie_collector_rate_limited_total", "Polls answered with a rate limit, by collector");
        log.info("collector rate limited: waiting", {{"collector", s.spec.name}, {"wait_ms", r.retry_after.count()}});
        next = r.retry_after > Duration{0} ? r.retry_after : next;
        break;
      }
      case PollStatus::retry:
      case PollStatus::error: {
        {
          std::lock_guard lock(mutex);
          ++s.health.errors;
        }
        count(s, "vigie_collector_errors_total", "Failed polls, by collector");
        set_state(s, "failing", r.error, batch);
        ++s.failures;
        // A permanent error is retried slowly: someone may fix the token without a restart.
        next = r.status == PollStatus::error ? std::max(options.backoff_max, s.spec.interval) : backoff(s.failures);
        if (!batch.empty()) ingest(batch);  // the health event; losing it is not fatal
        break;
      }
    }
    s.due = std::max(started, clock.steady_now()) + next;
  }

  std::optional<SteadyPoint> run_due() {
    for (auto& s : slots) {
      if (s.due <= clock.steady_now()) poll_one(s);
    }
    std::optional<SteadyPoint> first;
    for (const auto& s : slots) {
      if (!first || s.due < *first) first = s.due;
    }
    return first;
  }
};

CollectorScheduler::CollectorScheduler(std::vector<ScheduledCollector> collectors, IngestFn ingest, CursorLoadFn load,
                                       Clock& clock, Logger log, SchedulerOptions options,
                                       std::function<double()> random01)
    : impl_(std::make_unique<Impl>(std::move(collectors), std::move(ingest), std::move(load), clock, std::move(log),
                                   options, std::move(random01))) {}

CollectorScheduler::~CollectorScheduler() { stop(); }

std::optional<SteadyPoint> CollectorScheduler::run_due() { return impl_->run_due(); }

void CollectorScheduler::start() {
  if (impl_->slots.empty()) return;
  impl_->driver = std::thread([this] {
    for (;;) {
      std::optional<SteadyPoint> next;
      try {
        next = impl_->run_due();
      } catch (const std::exception& e) {
        impl_->log.error("collector scheduler error", {{"error", e.what()}});
      }
      std::unique_lock lock(impl_->wait_mutex);
      if (impl_->stopping) return;
      // Re-read the clock at least every 250 ms: a stop never waits for a long interval.
      Duration wait{250};
      if (next) {
        wait = std::clamp(std::chrono::duration_cast<Duration>(*next - impl_->clock.steady_now()), Duration{0},
                          Duration{250});
      }
      impl_->cv.wait_for(lock, wait, [&] { return impl_->stopping; });
      if (impl_->stopping) return;
    }
  });
}

void CollectorScheduler::stop() {
  {
    std::lock_guard lock(impl_->wait_mutex);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->driver.joinable()) impl_->driver.join();
}

std::vector<CollectorHealth> CollectorScheduler::health() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<CollectorHealth> out;
  for (const auto& s : impl_->slots) out.push_back(s.health);
  return out;
}

std::size_t CollectorScheduler::size() const { return impl_->slots.size(); }

}  // namespace vigie::collectors
