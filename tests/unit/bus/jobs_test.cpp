// Jobs to workers: one result per job, re-dispatch when a worker dies or overruns, idempotent
// results by job id, and a bounded number of attempts. Deadlines run on the injected clock.
#include <catch2/catch.hpp>

#include <atomic>
#include <sstream>
#include <thread>

#include "vigie/bus/jobs.h"

using namespace vigie;
using namespace vigie::bus;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  BusContext ctx;
  FakeClock clock;
  std::unique_ptr<JobDispatcher> dispatcher;
  std::vector<JobResult> results;

  explicit Fixture(const std::string& endpoint, Duration heartbeat_timeout = 15s, int max_attempts = 5) {
    JobDispatcher::Options o{endpoint};
    o.heartbeat_timeout = heartbeat_timeout;
    o.grace = 1s;
    o.max_attempts = max_attempts;
    dispatcher = std::make_unique<JobDispatcher>(ctx, o, clock, logging.logger("dispatch"));
  }
  // Polls the dispatcher (as the engine loop does) until `pred` holds or 5 s of real time pass.
  // Polls a few times so bus threads see a clock change.
  void pump() {
    for (int i = 0; i < 100; ++i) {
      for (auto& r : dispatcher->poll()) results.push_back(std::move(r));
      std::this_thread::sleep_for(1ms);
    }
  }
  template <typename Pred>
  bool run_until(Pred pred) {
    for (int i = 0; i < 5000; ++i) {
      for (auto& r : dispatcher->poll()) results.push_back(std::move(r));
      if (pred()) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }
};

Job job(std::string id, Duration timeout = 10s) {
  Job j;
  j.id = std::move(id);
  j.kind = "notify";
  j.payload = {{"channel", "#ops"}};
  j.timeout = timeout;
  return j;
}

JobResult ok(const Job& j) {
  JobResult r;
  r.job_id = j.id;
  r.output = {{"ts", "1700000000.000100"}, {"payload", j.payload}};
  return r;
}

}  // namespace

TEST_CASE("a dispatched job runs on a worker and its result returns once") {
  Fixture f("inproc://jobs-1");
  JobWorker worker(f.ctx, {"inproc://jobs-1", "w1"}, ok, f.clock, f.logging.logger("w1"));
  REQUIRE(f.run_until([&] { return f.dispatcher->idle_workers() == 1; }));
  f.dispatcher->dispatch(job("job-1"));
  f.dispatcher->dispatch(job("job-1"));  // a repeat of the same id is tracked once
  REQUIRE(f.run_until([&] { return !f.results.empty(); }));
  CHECK(f.results[0].job_id == "job-1");
  CHECK(f.results[0].outcome == JobOutcome::ok);
  CHECK(f.results[0].worker == "w1");
  CHECK(f.results[0].output["ts"] == "1700000000.000100");
  f.run_until([&] { return f.dispatcher->idle_workers() == 1; });
  CHECK(f.results.size() == 1);
  CHECK(f.dispatcher->in_flight() == 0);
}

TEST_CASE("jobs spread over workers, one job per worker at a time") {
  Fixture f("inproc://jobs-2");
  std::atomic<int> running{0}, max_running{0};
  auto slowish = [&](const Job& j) {
    int now = ++running;
    int prev = max_running;
    while (now > prev && !max_running.compare_exchange_weak(prev, now)) {}
    std::this_thread::sleep_for(5ms);
    --running;
    return ok(j);
  };
  JobWorker a(f.ctx, {"inproc://jobs-2", "a"}, slowish, f.clock, f.logging.logger("a"));
  JobWorker b(f.ctx, {"inproc://jobs-2", "b"}, slowish, f.clock, f.logging.logger("b"));
  REQUIRE(f.run_until([&] { return f.dispatcher->idle_workers() == 2; }));
  for (int i = 0; i < 20; ++i) f.dispatcher->dispatch(job("j" + std::to_string(i)));
  REQUIRE(f.run_until([&] { return f.results.size() == 20; }));
  CHECK(max_running <= 2);
  CHECK(a.jobs_done() + b.jobs_done() == 20);
}

TEST_CASE("a job whose worker goes silent is dispatched again to another worker") {
  Fixture f("inproc://jobs-3", 15s);
  std::atomic<bool> hang{true};
  auto stuck = [&](const Job& j) {
    while (hang) std::this_thread::sleep_for(1ms);
    return ok(j);
  };
  // A worker that never heartbeats within the test stands for one that died (kill -9).
  JobWorker::Options silent{"inproc://jobs-3", "dead"};
  silent.heartbeat_interval = std::chrono::hours(1);
  JobWorker dead(f.ctx, silent, stuck, f.clock, f.logging.logger("dead"));
  REQUIRE(f.run_until([&] { return f.dispatcher->idle_workers() == 1; }));
  f.dispatcher->dispatch(job("restart-1", 5min));
  REQUIRE(f.run_until([&] { return f.dispatcher->in_flight() == 1; }));
  JobWorker alive(f.ctx, {"inproc://jobs-3", "alive"}, ok, f.clock, f.logging.logger("alive"));
  REQUIRE(f.run_until([&] { return f.dispatcher->idle_workers() == 1; }));
  for (int i = 0; i < 4; ++i) {  // 20 s of fake time: the alive one heartbeats every 5 s
    f.clock.advance(5s);
    f.pump();
  }
  REQUIRE(f.run_until([&] { return !f.results.empty(); }));
  CHECK(f.results[0].job_id == "restart-1");
  CHECK(f.results[0].worker == "alive");
  CHECK(f.log_out.str().find("worker presumed dead") != std::string::npos);
  hang = false;
}

TEST_CASE("an overrunning job is dispatched again, the first result wins, the late one is dropped") {
  Fixture f("inproc://jobs-4", 10min);
  std::atomic<int> calls{0};
  std::atomic<bool> release{false};
  auto first_slow = [&](const Job& j) {
    if (++calls == 1) {
      while (!release) std::this_thread::sleep_for(1ms);
    }
    JobResult r = ok(j);
    r.output["call"] = calls.load();
    return r;
  };
  JobWorker a(f.ctx, {"inproc://jobs-4", "a"}, first_slow, f.clock, f.logging.logger("a"));
  REQUIRE(f.run_until([&] { return f.dispatcher->idle_workers() == 1; }));
  f.dispatcher->dispatch(job("slow-1", 10s));
  REQUIRE(f.run_until([&] { return f.dispatcher->in_flight() == 1; }));
  JobWorker b(f.ctx, {"inproc://jobs-4", "b"}, first_slow, f.clock, f.logging.logger("b"));
  REQUIRE(f.run_until([&] { return f.dispatcher->idle_workers() == 1; }));
  f.clock.advance(11s + 1ms);  // past timeout + grace
  REQUIRE(f.run_until([&] { return !f.results.empty(); }));
  CHECK(f.results[0].worker == "b");
  release = true;  // a's late result for the same job
  f.pump();
  CHECK(f.results.size() == 1);
  CHECK(f.log_out.str().find("job dispatched again") != std::string::npos);
}

TEST_CASE("after max_attempts the job fails with the reason") {
  Fixture f("inproc://jobs-5", 10min, 2);
  std::atomic<bool> release{false};
  auto hang = [&](const Job& j) {
    while (!release) std::this_thread::sleep_for(1ms);
    return ok(j);
  };
  JobWorker a(f.ctx, {"inproc://jobs-5", "a"}, hang, f.clock, f.logging.logger("a"));
  JobWorker b(f.ctx, {"inproc://jobs-5", "b"}, hang, f.clock, f.logging.logger("b"));
  REQUIRE(f.run_until([&] { return f.dispatcher->idle_workers() == 2; }));
  f.dispatcher->dispatch(job("doomed", 1s));
  REQUIRE(f.run_until([&] { return f.dispatcher->in_flight() == 1; }));
  f.clock.advance(2s + 1ms);
  REQUIRE(f.run_until([&] { return f.dispatcher->in_flight() == 1 && f.dispatcher->queued() == 0; }));
  f.clock.advance(2s + 1ms);
  REQUIRE(f.run_until([&] { return !f.results.empty(); }));
  CHECK(f.results[0].outcome == JobOutcome::fail);
  CHECK(f.results[0].reason == "gave up after 2 attempts: deadline passed");
  release = true;
}

TEST_CASE("an async worker holds up to its capacity and completes jobs in any order") {
  Fixture f("inproc://jobs-async");
  std::mutex mutex;
  std::vector<std::pair<Job, std::function<void(JobResult)>>> held;
  JobWorker::Options o{"inproc://jobs-async", "slack"};
  o.capacity = 50;
  JobWorker worker(
      f.ctx, o,
      JobWorker::AsyncHandler([&](const Job& j, std::function<void(JobResult)> done) {
        std::lock_guard lock(mutex);
        held.emplace_back(j, std::move(done));
      }),
      f.clock, f.logging.logger("slack"));
  REQUIRE(f.run_until([&] { return f.dispatcher->idle_workers() == 1; }));
  for (int i = 0; i < 60; ++i) f.dispatcher->dispatch(job("j" + std::to_string(i)));
  // 50 held at once, 10 wait in the dispatcher's queue.
  REQUIRE(f.run_until([&] {
    std::lock_guard lock(mutex);
    return held.size() == 50;
  }));
  f.pump();
  CHECK(f.dispatcher->queued() == 10);
  CHECK(f.dispatcher->idle_workers() == 0);
  {
    std::lock_guard lock(mutex);
    // Completed from another thread, last first, one of them twice (only the first counts).
    std::thread([&] {
      for (auto it = held.rbegin(); it != held.rend(); ++it) it->second(ok(it->first));
      held.front().second(ok(held.front().first));
    }).join();
  }
  REQUIRE(f.run_until([&] {
    std::lock_guard lock(mutex);
    return held.size() == 60;
  }));
  {
    std::lock_guard lock(mutex);
    for (std::size_t i = 50; i < 60; ++i) held[i].second(ok(held[i].first));
  }
  REQUIRE(f.run_until([&] { return f.results.size() == 60; }));
  f.pump();
  CHECK(f.results.size() == 60);
  CHECK(worker.jobs_done() == 60);
}

TEST_CASE("a new dispatcher (an engine restart) takes a running worker by its heartbeat") {
  // tcp, as between processes: a DEALER reconnects over tcp, not over inproc.
  Fixture f("tcp://127.0.0.1:*");
  const std::string endpoint = f.dispatcher->bound_endpoint();
  JobWorker::Options o{endpoint, "w"};
  o.heartbeat_interval = 1s;
  JobWorker worker(f.ctx, o, ok, f.clock, f.logging.logger("w"));
  REQUIRE(f.run_until([&] { return f.dispatcher->idle_workers() == 1; }));
  // The engine restarts: a fresh dispatcher never sees this worker's `ready`.
  f.dispatcher.reset();
  JobDispatcher::Options d{endpoint};
  // ZeroMQ releases the address on its own thread: bind again as soon as it is free (bounded).
  for (int i = 0; i < 500 && !f.dispatcher; ++i) {
    try {
      f.dispatcher = std::make_unique<JobDispatcher>(f.ctx, d, f.clock, f.logging.logger("dispatch2"));
    } catch (const std::exception&) {
      std::this_thread::sleep_for(10ms);
    }
  }
  REQUIRE(f.dispatcher);
  f.dispatcher->dispatch(job("after-restart"));
  f.pump();
  CHECK(f.results.empty());
  f.clock.advance(1s);  // the worker's next heartbeat introduces it
  REQUIRE(f.run_until([&] { return f.results.size() == 1; }));
  CHECK(f.results[0].job_id == "after-restart");
}
