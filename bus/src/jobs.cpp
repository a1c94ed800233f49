// Job dispatch (ROUTER, engine loop) and workers (DEALER, own threads).
#include "vigie/bus/jobs.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "frames.h"
#include "waker.h"

namespace vigie::bus {

std::string_view job_outcome_name(JobOutcome o) {
  switch (o) {
    case JobOutcome::ok: return "ok";
    case JobOutcome::retry: return "retry";
    case JobOutcome::fail: return "fail";
  }
  return "fail";
}

namespace {

std::string encode_job(const Job& j) {
  return nlohmann::json{{"v", kBusVersion},     {"id", j.id},           {"kind", j.kind},
                        {"payload", j.payload}, {"attempt", j.attempt}, {"timeout_ms", j.timeout.count()}}
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
  return nlohmann::json{{"v", kBusVersion},
                        {"job_id", r.job_id},
                        {"outcome", job_outcome_name(r.outcome)},
                        {"output", r.output},
                        {"reason", r.reason},
                        {"retry_after_ms", r.retry_after.count()}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<JobResult> decode_result(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("v", 0) != kBusVersion) return std::nullopt;
  JobResult r;
  r.job_id = j.value("job_id", "");
  const std::string outcome = j.value("outcome", "fail");
  r.outcome = outcome == "ok" ? JobOutcome::ok : outcome == "retry" ? JobOutcome::retry : JobOutcome::fail;
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
    std::optional<std::string> job;  // the job it is running
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
  std::deque<std::string> idle;
  std::deque<Job> queue;
  std::map<std::string, InFlight> in_flight;

  Impl(BusContext& ctx, Options o, Clock& c, Logger l)
      : options(std::move(o)), clock(c), log(std::move(l)), socket(ctx.zmq(), zmq::socket_type::router) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::router_mandatory, 1);
    socket.bind(options.endpoint);
  }

  void make_idle(const std::string& worker) {
    auto it = workers.find(worker);
    if (it == workers.end()) return;
    it->second.job.reset();
    if (std::find(idle.begin(), idle.end(), worker) == idle.end()) idle.push_back(worker);
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
    queue.push_front(std::move(job));
  }

  void on_message(const std::vector<std::string>& frames, std::vector<JobResult>& results) {
    if (frames.size() < 2) return;
    const std::string& worker = frames[0];
    const std::string& type = frames[1];
    auto& w = workers[worker];
    w.last_seen = clock.steady_now();
    if (type == "ready") {
      make_idle(worker);
    } else if (type == "heartbeat") {
      // last_seen updated above
    } else if (type == "result" && frames.size() == 3) {
      auto r = decode_result(frames[2]);
      make_idle(worker);
      if (!r) {
        log.warn("malformed job result", {{"worker", worker}});
        return;
      }
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
        idle.erase(std::remove(idle.begin(), idle.end(), it->first), idle.end());
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

  void hand_out() {
    while (!queue.empty() && !idle.empty()) {
      const std::string worker = idle.front();
      idle.pop_front();
      if (!workers.count(worker)) continue;
      Job job = std::move(queue.front());
      queue.pop_front();
      bool sent = false;
      try {
        sent = detail::send_frames(socket, {worker, "job", encode_job(job)}, true);
      } catch (const zmq::error_t&) {
        sent = false;  // unroutable: the worker disconnected
      }
      if (!sent) {
        workers.erase(worker);
        queue.push_front(std::move(job));
        continue;
      }
      workers[worker].job = job.id;
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
std::string JobDispatcher::bound_endpoint() const { return impl_->socket.get(zmq::sockopt::last_endpoint); }

void JobDispatcher::dispatch(Job job) {
  // The same job id twice (a restart re-dispatching its outbox) is tracked once.
  if (impl_->in_flight.count(job.id)) return;
  for (const auto& q : impl_->queue) {
    if (q.id == job.id) return;
  }
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
std::size_t JobDispatcher::idle_workers() const { return impl_->idle.size(); }

struct JobWorker::Impl {
  Options options;
  Handler handler;
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
  std::optional<Job> next_job;           // guarded by mutex
  std::optional<JobResult> finished;  // guarded by mutex

  Impl(BusContext& ctx, Options o, Handler h, Clock& c, Logger l)
      : options(std::move(o)), handler(std::move(h)), clock(c), log(std::move(l)),
        socket(ctx.zmq(), zmq::socket_type::dealer) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::routing_id, options.name);
    socket.connect(options.endpoint);
    job_thread = std::thread([this] { run_jobs(); });
    io_thread = std::thread([this] { run_io(); });
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
        cv.wait(lock, [&] { return stopping || next_job.has_value(); });
        if (stopping) return;
        job = std::move(*next_job);
        next_job.reset();
      }
      JobResult r;
      try {
        r = handler(job);
      } catch (const std::exception& e) {
        r = {job.id, JobOutcome::fail, nlohmann::json::object(), std::string("worker error: ") + e.what(), Duration{0}, ""};
      } catch (...) {
        r = {job.id, JobOutcome::fail, nlohmann::json::object(), "worker error", Duration{0}, ""};
      }
      r.job_id = job.id;
      {
        std::lock_guard lock(mutex);
        finished = std::move(r);
      }
      wake();
    }
  }

  void run_io() {
    SteadyPoint last_beat = clock.steady_now();
    try {
      detail::send_frames(socket, {"ready"});
    } catch (const zmq::error_t& e) {
      log.error("worker cannot reach the engine", {{"error", e.what()}});
    }
    while (!stopping) {
      try {
        zmq::pollitem_t items[] = {{static_cast<void*>(socket), 0, ZMQ_POLLIN, 0},
                                   {nullptr, waker.fd(), ZMQ_POLLIN, 0}};
        zmq::poll(items, 2, std::chrono::milliseconds(50));
        if (items[1].revents & ZMQ_POLLIN) waker.drain();
        std::optional<JobResult> result;
        {
          std::lock_guard lock(mutex);
          result.swap(finished);
        }
        if (result) {
          detail::send_frames(socket, {"result", encode_result(*result)});
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
            std::lock_guard lock(mutex);
            next_job = std::move(*job);
            cv.notify_one();
          }
        }
        if (clock.steady_now() - last_beat >= options.heartbeat_interval) {
          detail::send_frames(socket, {"heartbeat"}, true);
          last_beat = clock.steady_now();
        }
      } catch (const std::exception& e) {
        log.error("worker I/O error", {{"error", e.what()}});
      }
    }
  }
};

JobWorker::JobWorker(BusContext& ctx, Options options, Handler handler, Clock& clock, Logger log)
    : impl_(std::make_unique<Impl>(ctx, std::move(options), std::move(handler), clock, std::move(log))) {}
JobWorker::~JobWorker() = default;
void JobWorker::stop() { impl_->stop(); }
std::size_t JobWorker::jobs_done() const { return impl_->done; }

}  // namespace vigie::bus
