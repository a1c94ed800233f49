// Jobs from the engine to workers and their results back (ZeroMQ Guide: "Paranoid Pirate").
// Workers connect (DEALER) and say `ready`; the dispatcher (ROUTER, in the engine's loop) hands
// each idle worker one job at a time and tracks it. A job whose worker overruns its deadline or
// stops sending heartbeats is dispatched again (possibly to another worker); results are keyed by
// job id, so a late or repeated result for a finished job is recognised and dropped.
#pragma once

#include <nlohmann/json.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigie/bus/transport.h"
#include "vigie/core/clock.h"
#include "vigie/core/log.h"

namespace vigie::bus {

struct Job {
  std::string id;    // unique, from the outbox
  std::string kind;  // "notify", "action", ...
  nlohmann::json payload = nlohmann::json::object();
  int attempt = 1;
  Duration timeout{60'000};
  bool operator==(const Job&) const = default;
};

enum class JobOutcome { ok, retry, fail };
std::string_view job_outcome_name(JobOutcome o);

struct JobResult {
  std::string job_id;
  JobOutcome outcome = JobOutcome::ok;
  nlohmann::json output = nlohmann::json::object();  // e.g. Slack's channel and ts
  std::string reason;
  Duration retry_after{0};
  std::string worker;
  bool operator==(const JobResult&) const = default;
};

class JobDispatcher {
 public:
  struct Options {
    std::string endpoint;
    Duration heartbeat_timeout{15'000};  // a worker silent this long is presumed dead
    Duration grace{5'000};               // added to a job's own timeout before re-dispatch
    int max_attempts = 5;                // then the job fails with "gave up"
  };
  JobDispatcher(BusContext& ctx, Options options, Clock& clock, Logger log);
  ~JobDispatcher();

  void* socket_handle();
  std::string bound_endpoint() const;

  // Queues a job; it goes to the next idle worker.
  void dispatch(Job job);
  // Reads worker messages, hands out queued jobs, re-dispatches overdue ones; returns the
  // results that arrived for jobs still tracked (each job's first result only).
  std::vector<JobResult> poll();

  std::size_t queued() const;
  std::size_t in_flight() const;
  std::size_t idle_workers() const;  // workers with a free slot

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A worker: connects, says how many jobs it may hold at once (`capacity`), and runs each job it
// is given: a `Handler` on the worker's job thread, one after the other; or an `AsyncHandler`,
// which takes the job at once and completes it later from any thread (a delivery queue that
// coalesces many jobs). Results go back as they complete; heartbeats go out while idle or busy.
// Stops in its destructor.
class JobWorker {
 public:
  using Handler = std::function<JobResult(const Job&)>;
  using AsyncHandler = std::function<void(const Job&, std::function<void(JobResult)> done)>;
  struct Options {
    std::string endpoint;
    std::string name = "worker";
    Duration heartbeat_interval{5'000};
    std::size_t capacity = 1;  // jobs held at once
  };
  JobWorker(BusContext& ctx, Options options, Handler handler, Clock& clock, Logger log);
  JobWorker(BusContext& ctx, Options options, AsyncHandler handler, Clock& clock, Logger log);
  ~JobWorker();
  void stop();
  std::size_t jobs_done() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::bus
