// Runs the configured collectors: each on its interval with jitter, a timeout per poll,
// exponential backoff with jitter after failures, waits after rate limits, at once again while
// pages remain. Events go through the acked ingest together with a `collector.cursor` event; the
// engine stores the cursor only once those events are committed, so a crash re-polls rather than
// skips (duplicates are dropped by event id). `collector.health` events mark each change between
// ok and failing. Clock-driven: tests call run_due() after moving a FakeClock.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "vigie/collectors/collector.h"
#include "vigie/core/clock.h"
#include "vigie/core/log.h"
#include "vigie/core/metrics.h"

namespace vigie::collectors {

struct ScheduledCollector {
  std::string name;
  std::string type;
  std::unique_ptr<Collector> collector;
  Duration interval{30'000};
  Duration timeout{20'000};
  // The HTTP client the collector was built with, started with `timeout` before each poll;
  // nullptr: the poll is bounded only by the client's own timeouts.
  std::shared_ptr<PollBudget> budget;
};

struct CollectorHealth {
  std::string name, type;
  std::string state = "starting";  // starting | ok | failing
  std::string error;               // the last failure, while failing
  std::uint64_t polls = 0, events = 0, errors = 0, rate_limited = 0;
  std::optional<TimePoint> last_success;
};

struct SchedulerOptions {
  Duration backoff_min{5'000};
  Duration backoff_max{300'000};
  double jitter = 0.1;  // intervals vary by ±10% so collectors started together spread out
  // vigie_collector_polls_total, _events_total, _errors_total, _rate_limited_total{collector} and
  // vigie_collector_last_success_timestamp_seconds{collector}, when given.
  Metrics* metrics = nullptr;
};

// Sends events through the acked ingest; true when every one was stored or was a duplicate.
using IngestFn = std::function<bool(std::vector<bus::Event>)>;
// The last committed cursor of a collector (nullopt: never polled, or the store is elsewhere).
using CursorLoadFn = std::function<std::optional<std::string>(const std::string& collector)>;

// The event kind carrying a cursor to commit, and its attrs' names.
inline constexpr std::string_view kCursorEventKind = "collector.cursor";
inline constexpr std::string_view kHealthEventKind = "collector.health";

class CollectorScheduler {
 public:
  CollectorScheduler(std::vector<ScheduledCollector> collectors, IngestFn ingest, CursorLoadFn load, Clock& clock,
                     Logger log, SchedulerOptions options = {}, std::function<double()> random01 = {});
  ~CollectorScheduler();
  CollectorScheduler(const CollectorScheduler&) = delete;
  CollectorScheduler& operator=(const CollectorScheduler&) = delete;

  // Polls every collector that is due, in turn, on the calling thread. @return the next due time.
  std::optional<SteadyPoint> run_due();
  // A thread calling run_due (production; not with a FakeClock).
  void start();
  void stop();

  std::vector<CollectorHealth> health() const;
  std::size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::collectors
