// Job dispatch (ROUTER, engine loop) and workers (DEALER, own threads).
#include "vigie/bus/jobs.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

#include "frames.h"
#include "waker.h"

namespace vigie::bus {

std::string_view job_outcome_name(JobOutcome o) {
  switch (o) {
    case JobOutcome::ok:
      return "ok";
    case JobOutcome::retry:
      return "retry";
    case JobOutcome::fail:
      return "fail";
  }
  return "fail";
}

namespace {

std::string encode_job(const Job& j) {
  return nlohmann::json{{"v", kBusVersion},     {"id", j.id},
                        {"kind", j.kind},       {"payload", j.payload},
                        {"attempt", j.attempt}, {"timeout_ms", j.timeout.count()}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<Job> decode_job(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("v", 0) != kBusVersion) return std::nullopt;
  Job job;
  job.id = j.value("id", "");
  job.kind = j.value("kind", "");
  job.payload = j.value("payload", nlohmann::json::object());
  job.attempt = j.value("attempt", 1);
  job.timeout = Duration{j.value("timeout_ms", std::int64_t{60'000})};
  if (job.id.empty()) return std::nullopt;
  return job;
}

std::string encode_result(const JobResult& r) {
  return nlohmann::json{
      {"v", kBusVersion},   {"job_id", r.job_id}, {"outcome", job_outcome_name(r.outcome)},
      {"output", r.output}, {"reason", r.reason}, {"retry_after_ms", r.retry_after.count()}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<JobResult> decode_result(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("v", 0) != kBusVersion) return std::nullopt;
  JobResult r;
  r.job_id = j.value("job_id", "");
  const std::string outcome = j.value("outcome", "fail");
  r.outcome = outcome == "ok"      ? JobOutcome::ok
              : outcome == "retry" ? JobOutcome::retry
                                   : JobOutcome::fail;
  r.output = j.value("output", nlohmann::json::object());
  r.reason = j.value("reason", "");
  r.retry_after = Duration{j.value("retry_after_ms", std::int64_t{0})};
  if (r.job_id.empty()) return std::nullopt;
  return r;
}

}  // namespace

struct JobDispatcher::Impl {
  struct Worker {
    SteadyPoint last_seen;
    std::size_t capacity = 1;      // jobs it may hold at once (it says so in ready and heartbeats)
    std::set<std::string> jobs;    // the jobs it holds
    std::uint64_t last_given = 0;  // for round robin among equally loaded workers
  };
  struct InFlight {
    Job job;
    std::string worker;
    SteadyPoint deadline;
  };
  Options options;
  Clock& clock;
  Logger log;
  zmq::socket_t socket;
  std::map<std::string, Worker> workers;
  std::deque<Job> queue;
  // Ids of the queued jobs: a dispatch checks for a duplicate without walking the queue, which
  // holds many thousands of jobs when Slack's pacing lags a burst of new alerts.
  std::unordered_set<std::string> queued_ids;
  std::uint64_t handed = 0;
  std::map<std::string, InFlight> in_flight;

  Impl(BusContext& ctx, Options o, Clock& c, Logger l)
      : options(std::move(o)),
        clock(c),
        log(std::move(l)),
        socket(ctx.zmq(), zmq::socket_type::router) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::router_mandatory, 1);
    socket.bind(options.endpoint);
  }

  static std::size_t capacity_of(const std::vector<std::string>& frames) {
    if (frames.size() < 3) return 1;
    try {
      return std::clamp<std::size_t>(std::stoul(frames[2]), 1, 10'000);
    } catch (const std::exception&) {
      return 1;
    }
  }

  void requeue(Job job, std::vector<JobResult>& results, const std::string& why) {
    if (job.attempt >= options.max_attempts) {
      log.error("job gave up", {{"job", job.id}, {"attempts", job.attempt}, {"why", why}});
      results.push_back({job.id, JobOutcome::fail, nlohmann::json::object(),
                         "gave up after " + std::to_string(job.attempt) + " attempts: " + why,
                         Duration{0}, ""});
      return;
    }
    log.warn("job dispatched again", {{"job", job.id}, {"attempt", job.attempt + 1}, {"why", why}});
    ++job.attempt;
    queued_ids.insert(job.id);
    queue.push_front(std::move(job));
  }

  void on_message(const std::vector<std::string>& frames, std::vector<JobResult>& results) {
    if (frames.size() < 2) return;
    const std::string& worker = frames[0];
    const std::string& type = frames[1];
    const bool known = workers.count(worker) > 0;
    auto& w = workers[worker];
    w.last_seen = clock.steady_now();
    if (type == "ready") {
      // A worker says ready when it starts: whatever it held before is lost with its old self.
      w.capacity = capacity_of(frames);
      for (const auto& id : std::set<std::string>(w.jobs)) {
        auto it = in_flight.find(id);
        if (it == in_flight.end()) continue;
        Job job = std::move(it->second.job);
        in_flight.erase(it);
        requeue(std::move(job), results, "worker restarted");
      }
      w.jobs.clear();
    } else if (type == "heartbeat") {
      // A worker this dispatcher never saw ready (the engine restarted) joins by its heartbeat.
      if (!known) w.capacity = capacity_of(frames);
    } else if (type == "result" && frames.size() == 3) {
      auto r = decode_result(frames[2]);
      if (!r) {
        log.warn("malformed job result", {{"worker", worker}});
        return;
      }
      w.jobs.erase(r->job_id);
      auto it = in_flight.find(r->job_id);
      if (it == in_flight.end()) return;  // late or repeated: the job is already settled
      r->worker = worker;
      in_flight.erase(it);
      results.push_back(std::move(*r));
    }
  }

  void expire(std::vector<JobResult>& results) {
    const auto now = clock.steady_now();
    for (auto it = workers.begin(); it != workers.end();) {
      if (now - it->second.last_seen > options.heartbeat_timeout) {
        log.warn("worker presumed dead", {{"worker", it->first}});
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      const bool worker_gone = workers.find(it->second.worker) == workers.end();
      if (worker_gone || it->second.deadline <= now) {
        Job job = std::move(it->second.job);
        it = in_flight.erase(it);
        requeue(std::move(job), results, worker_gone ? "worker gone" : "deadline passed");
      } else {
        ++it;
      }
    }
  }

  // The worker with a free slot holding the fewest jobs (the longest unused among equals).
  std::optional<std::string> pick_worker() const {
    std::optional<std::string> best;
    const Worker* best_w = nullptr;
    for (const auto& [name, w] : workers) {
      if (w.jobs.size() >= w.capacity) continue;
      if (!best_w || w.jobs.size() < best_w->jobs.size() ||
          (w.jobs.size() == best_w->jobs.size() && w.last_given < best_w->last_given)) {
        best = name;
        best_w = &w;
      }
    }
    return best;
  }

  void hand_out() {
    while (!queue.empty()) {
      const auto picked = pick_worker();
      if (!picked) return;
      const std::string worker = *picked;
      Job job = std::move(queue.front());
      queue.pop_front();
      queued_ids.erase(job.id);
      bool sent = false;
      try {
        sent = detail::send_frames(socket, {worker, "job", encode_job(job)}, true);
      } catch (const zmq::error_t&) {
        sent = false;  // unroutable: the worker disconnected
      }
      if (!sent) {
        workers.erase(worker);
        queued_ids.insert(job.id);
        queue.push_front(std::move(job));
        continue;
      }
      workers[worker].jobs.insert(job.id);
      workers[worker].last_given = ++handed;
      const auto deadline = clock.steady_now() + job.timeout + options.grace;
      const std::string id = job.id;
      in_flight[id] = InFlight{std::move(job), worker, deadline};
    }
  }
};

JobDispatcher::JobDispatcher(BusContext& ctx, Options options, Clock& clock, Logger log)
    : impl_(std::make_unique<Impl>(ctx, std::move(options), clock, std::move(log))) {}
JobDispatcher::~JobDispatcher() = default;

void* JobDispatcher::socket_handle() { return static_cast<void*>(impl_->socket); }
std::string JobDispatcher::bound_endpoint() const {
  return impl_->socket.get(zmq::sockopt::last_endpoint);
}

void JobDispatcher::dispatch(Job job) {
  // The same job id twice (a restart re-dispatching its outbox) is tracked once.
  if (impl_->in_flight.count(job.id) || impl_->queued_ids.count(job.id)) return;
  impl_->queued_ids.insert(job.id);
  impl_->queue.push_back(std::move(job));
}

std::vector<JobResult> JobDispatcher::poll() {
  std::vector<JobResult> results;
  try {
    for (;;) {
      auto frames = detail::recv_frames(impl_->socket);
      if (frames.empty()) break;
      impl_->on_message(frames, results);
    }
  } catch (const zmq::error_t& e) {
    impl_->log.error("job receive failed", {{"error", e.what()}});
  }
  impl_->expire(results);
  impl_->hand_out();
  return results;
}

std::size_t JobDispatcher::queued() const { return impl_->queue.size(); }
std::size_t JobDispatcher::in_flight() const { return impl_->in_flight.size(); }
std::size_t JobDispatcher::idle_workers() const {
  std::size_t n = 0;
  for (const auto& [_, w] : impl_->workers) n += w.jobs.size() < w.capacity ? 1 : 0;
  return n;
}

struct JobWorker::Impl {
  Options options;
  Handler handler;             // runs on the job thread, one job at a time
  AsyncHandler async_handler;  // or: called on the I/O thread, completes from anywhere
  Clock& clock;
  Logger log;
  zmq::socket_t socket;
  detail::Waker waker;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> done{0};
  std::thread io_thread;
  std::thread job_thread;
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Job> next_jobs;       // guarded by mutex
  std::deque<JobResult> finished;  // guarded by mutex

  Impl(BusContext& ctx, Options o, Handler h, AsyncHandler ah, Clock& c, Logger l)
      : options(std::move(o)),
        handler(std::move(h)),
        async_handler(std::move(ah)),
        clock(c),
        log(std::move(l)),
        socket(ctx.zmq(), zmq::socket_type::dealer) {
    options.capacity = std::max<std::size_t>(options.capacity, 1);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::routing_id, options.name);
    socket.connect(options.endpoint);
    if (handler) job_thread = std::thread([this] { run_jobs(); });
    io_thread = std::thread([this] { run_io(); });
  }

  void complete(JobResult r) {
    {
      std::lock_guard lock(mutex);
      finished.push_back(std::move(r));
    }
    wake();
  }

  ~Impl() { stop(); }

  void stop() {
    if (stopping.exchange(true)) return;
    cv.notify_all();
    wake();
    if (io_thread.joinable()) io_thread.join();
    if (job_thread.joinable()) job_thread.join();
  }

  void wake() { waker.wake(); }

  void run_jobs() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return stopping || !next_jobs.empty(); });
        if (stopping) return;
        job = std::move(next_jobs.front());
        next_jobs.pop_front();
      }
      JobResult r;
      try {
        r = handler(job);
      } catch (const std::exception& e) {
        r = {job.id,
             JobOutcome::fail,
             nlohmann::json::object(),
             std::string("worker error: ") + e.what(),
             Duration{0},
             ""};
      } catch (...) {
        r = {job.id, JobOutcome::fail, nlohmann::json::object(), "worker error", Duration{0}, ""};
      }
      r.job_id = job.id;
      complete(std::move(r));
    }
  }

  void start_async(const Job& job) {
    const std::string id = job.id;
    auto once = std::make_shared<std::atomic<bool>>(false);
    auto done = [this, id, once](JobResult r) {
      if (once->exchange(true)) return;
      r.job_id = id;
      complete(std::move(r));
    };
    try {
      async_handler(job, done);
    } catch (const std::exception& e) {
      done({id, JobOutcome::fail, nlohmann::json::object(),
            std::string("worker error: ") + e.what(), Duration{0}, ""});
    }
  }

  void run_io() {
    SteadyPoint last_beat = clock.steady_now();
    try {
      detail::send_frames(socket, {"ready", std::to_string(options.capacity)});
    } catch (const zmq::error_t& e) {
      log.error("worker cannot reach the engine", {{"error", e.what()}});
    }
    while (!stopping) {
      try {
        zmq::pollitem_t items[] = {{static_cast<void*>(socket), 0, ZMQ_POLLIN, 0},
                                   {nullptr, waker.fd(), ZMQ_POLLIN, 0}};
        zmq::poll(items, 2, std::chrono::milliseconds(50));
        if (items[1].revents & ZMQ_POLLIN) waker.drain();
        std::deque<JobResult> results;
        {
          std::lock_guard lock(mutex);
          results.swap(finished);
        }
        for (const auto& result : results) {
          detail::send_frames(socket, {"result", encode_result(result)});
          ++done;
        }
        for (;;) {
          auto frames = detail::recv_frames(socket);
          if (frames.empty()) break;
          if (frames.size() == 2 && frames[0] == "job") {
            auto job = decode_job(frames[1]);
            if (!job) {
              log.warn("malformed job");
              continue;
            }
            if (async_handler) {
              start_async(*job);
              continue;
            }
            std::lock_guard lock(mutex);
            next_jobs.push_back(std::move(*job));
            cv.notify_one();
          }
        }
        if (clock.steady_now() - last_beat >= options.heartbeat_interval) {
          detail::send_frames(socket, {"heartbeat", std::to_string(options.capacity)}, true);
          last_beat = clock.steady_now();
        }
      } catch (const std::exception& e) {
        log.error("worker I/O error", {{"error", e.what()}});
      }
    }
  }
};

JobWorker::JobWorker(BusContext& ctx, Options options, Handler handler, Clock& clock, Logger log)
    : impl_(std::make_unique<Impl>(ctx, std::move(options), std::move(handler), nullptr, clock,
                                   std::move(log))) {}
JobWorker::JobWorker(BusContext& ctx, Options options, AsyncHandler handler, Clock& clock,
                     Logger log)
    : impl_(std::make_unique<Impl>(ctx, std::move(options), nullptr, std::move(handler), clock,
                                   std::move(log))) {}
JobWorker::~JobWorker() = default;
void JobWorker::stop() { impl_->stop(); }
std::size_t JobWorker::jobs_done() const { return impl_->done; }

}  // namespace vigie::bus
