// The runner of `action` jobs on a worker: factory, steps, retries, resumptions, the overall
// timeout, dry runs, caps. See runner.h.
#include "vigie/actions/runner.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace vigie::actions {

using nlohmann::json;

namespace {

struct Run {
  ActionRequest request;
  std::unique_ptr<Action> action;
  ActionRunner::Done done;
  SteadyPoint started;
  SteadyPoint deadline;
  SteadyPoint due;
  int attempt = 1;
  int steps = 0;
  Duration backoff{0};
  std::optional<json> state;
  std::string last_note;
  bool running = false;
};

}  // namespace

struct ActionRunner::Impl {
  Providers providers;
  net::HttpClient& http;
  SecretRegistry& secrets;
  Clock& clock;
  Logger log;
  RunnerOptions options;
  std::function<ActionFactory(std::string_view)> factory_of;

  mutable std::mutex mutex;
  std::condition_variable cv;       // step threads: work in `ready`, or stopping
  std::condition_variable driver_cv;  // the driver: a new job, or stopping
  std::map<std::string, std::shared_ptr<Run>> runs;
  std::deque<std::shared_ptr<Run>> ready;
  bool stopping = false;
  bool work_arrived = false;
  std::thread driver;
  std::vector<std::thread> workers;

  Impl(Providers p, net::HttpClient& h, SecretRegistry& s, Clock& c, Logger l, RunnerOptions o,
       std::function<ActionFactory(std::string_view)> f)
      : providers(std::move(p)), http(h), secrets(s), clock(c), log(std::move(l)), options(o),
        factory_of(f ? std::move(f) : std::function<ActionFactory(std::string_view)>(&action_factory)) {}

  bus::JobResult failure(const std::string& job_id, const std::string& reason, json output = json::object()) {
    return {job_id, bus::JobOutcome::fail, std::move(output), secrets.redact(reason), Duration{0}, ""};
  }

  json result_output(const Run& r, const std::string& text, const json& details) {
    return {{"output", secrets.redact(cap_output(text, options.max_output))},
            {"details", json::parse(secrets.redact(details.dump()), nullptr, false)},
            {"dry_run", false},
            {"attempts", r.attempt},
            {"steps", r.steps}};
  }

  // One step of `r` (not under the lock). @return the result when the run is over.
  std::optional<bus::JobResult> step(Run& r) {
    const SteadyPoint now = clock.steady_now();
    const std::string& id = r.request.job_id;
    if (now >= r.deadline) {
      return failure(id, "timed out after " + format_duration(r.request.timeout) +
                             (r.last_note.empty() ? std::string() : " (last: " + r.last_note + ")"));
    }
    RunContext ctx{clock, r.deadline, r.attempt, r.state ? &*r.state : nullptr};
    ++r.steps;
    StepResult result;
    try {
      result = r.action->run(ctx);
    } catch (const std::exception& e) {
      result = Fail{std::string("the action failed unexpectedly: ") + e.what(), "", json::object()};
    }
    if (auto* ok = std::get_if<Ok>(&result)) {
      return bus::JobResult{id, bus::JobOutcome::ok, result_output(r, ok->output, ok->details), "", Duration{0}, ""};
    }
    if (auto* fail = std::get_if<Fail>(&result)) {
      return failure(id, fail->reason, result_output(r, fail->output, fail->details));
    }
    const SteadyPoint after_step = clock.steady_now();
    if (auto* retry = std::get_if<Retry>(&result)) {
      r.last_note = retry->reason;
      if (r.attempt >= options.max_attempts) {
        return failure(id, "gave up after " + std::to_string(r.attempt) + " attempts: " + retry->reason);
      }
      r.backoff = r.backoff == Duration{0} ? options.retry_backoff : r.backoff * 2;
      const Duration wait = retry->after > Duration{0} ? retry->after : r.backoff;
      ++r.attempt;
      r.state.reset();
      r.due = after_step + wait;
      log.info("action will retry", {{"job", id}, {"attempt", r.attempt}, {"wait_ms", wait.count()},
                                     {"reason", secrets.redact(retry->reason)}});
    } else {
      auto& pending = std::get<Pending>(result);
      r.last_note = pending.note;
      r.state = std::move(pending.state);
      r.due = after_step + std::max(pending.after, Duration{0});
    }
    if (r.due >= r.deadline) {
      return failure(id, "timed out after " + format_duration(r.request.timeout) +
                             (r.last_note.empty() ? std::string() : " (last: " + r.last_note + ")"));
    }
    return std::nullopt;
  }

  // Runs one step of `r` and settles it; called without the lock.
  void run_step(const std::shared_ptr<Run>& r) {
    auto over = step(*r);
    Done done;
    {
      std::lock_guard lock(mutex);
      r->running = false;
      if (over) {
        done = std::move(r->done);
        runs.erase(r->request.job_id);
      }
      work_arrived = true;
    }
    driver_cv.notify_all();
    if (over && done) done(std::move(*over));
  }

  std::optional<SteadyPoint> pump() {
    std::vector<std::shared_ptr<Run>> due_now;
    std::optional<SteadyPoint> next;
    {
      std::lock_guard lock(mutex);
      const SteadyPoint now = clock.steady_now();
      for (auto& [_, r] : runs) {
        if (r->running) continue;
        if (r->due <= now) {
          r->running = true;
          due_now.push_back(r);
        } else if (!next || r->due < *next) {
          next = r->due;
        }
      }
      if (options.threads > 0) {
        for (auto& r : due_now) ready.push_back(r);
      }
    }
    if (options.threads > 0) {
      if (!due_now.empty()) cv.notify_all();
      return next;
    }
    for (auto& r : due_now) run_step(r);
    // Steps that asked to wait are due later: report the earliest.
    std::lock_guard lock(mutex);
    next.reset();
    for (auto& [_, r] : runs) {
      if (!next || r->due < *next) next = r->due;
    }
    return next;
  }
};

ActionRunner::ActionRunner(Providers providers, net::HttpClient& http, SecretRegistry& secrets, Clock& clock,
                           Logger log, RunnerOptions options, std::function<ActionFactory(std::string_view)> factory_of)
    : impl_(std::make_unique<Impl>(std::move(providers), http, secrets, clock, std::move(log), options,
                                   std::move(factory_of))) {}

ActionRunner::~ActionRunner() { stop(); }

void ActionRunner::submit(const bus::Job& job, Done done) {
  auto request = ActionRequest::from_payload(job.id, job.payload);
  if (!request) return done(impl_->failure(job.id, request.error()));
  auto factory = impl_->factory_of(request->type);
  if (!factory) {
    return done(impl_->failure(job.id, "this worker cannot run actions of type '" + request->type +
                                           "' (not implemented in this build)"));
  }
  ActionContext ctx{impl_->providers, impl_->http, impl_->clock, impl_->secrets, impl_->log};
  tl::expected<std::unique_ptr<Action>, std::string> action = tl::unexpected(std::string("no action"));
  try {
    action = factory(*request, ctx);
  } catch (const std::exception& e) {
    action = tl::unexpected(std::string(e.what()));
  }
  if (!action) return done(impl_->failure(job.id, "`" + request->name + "` cannot run: " + action.error()));
  if (request->dry_run) {
    // Built (so its options and secrets are checked), described, never run.
    json out = {{"output", impl_->secrets.redact("dry run, nothing ran. Would run:\n" + (*action)->describe())},
                {"details", json::object()},
                {"dry_run", true},
                {"attempts", 0},
                {"steps", 0}};
    return done({job.id, bus::JobOutcome::ok, std::move(out), "", Duration{0}, ""});
  }
  auto run = std::make_shared<Run>();
  run->request = std::move(*request);
  run->action = std::move(*action);
  run->done = std::move(done);
  run->started = run->due = impl_->clock.steady_now();
  run->deadline = run->started + run->request.timeout;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->runs.count(job.id)) return;  // the same job again (re-dispatched): already running
    impl_->runs[job.id] = std::move(run);
    impl_->work_arrived = true;
  }
  impl_->driver_cv.notify_all();
}

std::optional<SteadyPoint> ActionRunner::pump() { return impl_->pump(); }

void ActionRunner::start() {
  if (impl_->options.threads == 0 || impl_->driver.joinable()) return;
  for (std::size_t i = 0; i < impl_->options.threads; ++i) {
    impl_->workers.emplace_back([this] {
      for (;;) {
        std::shared_ptr<Run> r;
        {
          std::unique_lock lock(impl_->mutex);
          impl_->cv.wait(lock, [&] { return impl_->stopping || !impl_->ready.empty(); });
          if (impl_->stopping) return;
          r = impl_->ready.front();
          impl_->ready.pop_front();
        }
        try {
          impl_->run_step(r);
        } catch (const std::exception& e) {
          impl_->log.error("action runner error", {{"error", e.what()}});
        }
      }
    });
  }
  impl_->driver = std::thread([this] {
    for (;;) {
      std::optional<SteadyPoint> next;
      try {
        next = impl_->pump();
      } catch (const std::exception& e) {
        impl_->log.error("action runner error", {{"error", e.what()}});
      }
      std::unique_lock lock(impl_->mutex);
      if (impl_->stopping) return;
      // Wait for new work or the next due time, re-reading the clock at most every 250 ms.
      Duration wait{250};
      if (next) {
        wait = std::clamp(std::chrono::duration_cast<Duration>(*next - impl_->clock.steady_now()), Duration{0},
                          Duration{250});
      }
      impl_->driver_cv.wait_for(lock, wait, [&] { return impl_->stopping || impl_->work_arrived; });
      impl_->work_arrived = false;
      if (impl_->stopping) return;
    }
  });
}

void ActionRunner::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->driver_cv.notify_all();
  if (impl_->driver.joinable()) impl_->driver.join();
  for (auto& w : impl_->workers) {
    if (w.joinable()) w.join();
  }
  impl_->workers.clear();
}

std::size_t ActionRunner::pending() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->runs.size();
}

}  // namespace vigie::actions
