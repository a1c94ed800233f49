// The daemon: wiring of every role in one process, the engine loop, signals.
#include "daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <future>
#include <mutex>
#include <filesystem>
#include <ostream>
#include <set>
#include <thread>

#include "http_api.h"
#include "job_handlers.h"
#include "vigie/app/catalogs.h"
#include "vigie/app/system_clock.h"
#include "vigie/bus/fanout.h"
#include "vigie/bus/ingest.h"
#include "vigie/bus/jobs.h"
#include "vigie/chat/commands.h"
#include "vigie/chat/slack_http.h"
#include "vigie/chat/socket_mode.h"
#include "vigie/collectors/kinds.h"
#include "vigie/collectors/scheduler.h"
#include "vigie/config/config.h"
#include "vigie/net/http_server.h"
#include "vigie/rules/engine.h"
#include "web_ui.h"

namespace vigie::app {
namespace {

// Tasks for the engine thread (reload), run between loop iterations.
class TaskQueue {
 public:
  TaskQueue() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~TaskQueue() { ::close(fd_); }
  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    wake();
  }
  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
  }
  void run_all() {
    std::uint64_t v;
    [[maybe_unused]] auto n = ::read(fd_, &v, sizeof v);
    std::deque<std::function<void()>> tasks;
    {
      std::lock_guard lock(mutex_);
      tasks.swap(tasks_);
    }
    for (auto& t : tasks) t();
  }
  int fd() const { return fd_; }

 private:
  int fd_;
  std::mutex mutex_;
  std::deque<std::function<void()>> tasks_;
};

// How long a worker may hold a job: an action's own bound (retries and waits included), else a minute.
Duration job_timeout(const nlohmann::json& payload) {
  const auto ms = payload.is_object() ? payload.value("timeout_ms", std::int64_t{0}) : std::int64_t{0};
  return ms > 0 ? Duration{ms} : Duration{60'000};
}

struct EngineLoop {
  config::Config cfg;
  const KindCatalogs& catalogs;
  Logging& logging;
  Logger log;
  Clock& clock;
  Metrics& metrics;
  bus::BusContext& bus;
  bus::Endpoints endpoints;  // what to bind
  Duration worker_timeout;
  bus::Endpoints bound;  // with the real ports, set before start() returns
  std::unique_ptr<store::Store> store;
  TaskQueue tasks;
  std::atomic<bool> stopping{false};
  std::atomic<bool> store_ok{true};
  std::string store_error;  // guarded by health_mutex
  std::mutex health_mutex;
  std::thread thread;

  EngineLoop(config::Config c, const KindCatalogs& k, Logging& l, Clock& cl, Metrics& m,
             bus::BusContext& b, bus::Endpoints e, std::unique_ptr<store::Store> s)
      : cfg(std::move(c)),
        catalogs(k),
        logging(l),
        log(l.logger("engine")),
        clock(cl),
        metrics(m),
        bus(b),
        endpoints(std::move(e)),
        worker_timeout(cfg.bus.worker_timeout),
        store(std::move(s)) {
    actions_enabled = cfg.actions_enabled;
  }

  // `actions_enabled`, when given, gets vigie.toml's [actions] enabled as it reads now (unset when
  // vigie.toml does not load).
  rules::RuleSetPtr load_rules(std::string& diagnostics,
                               std::optional<bool>* actions_enabled = nullptr) {
    rules::RuleLoadContext ctx;
    ctx.action_kinds = &catalogs.actions;
    for (const auto& [role, _] : cfg.access.roles) ctx.roles.insert(role);
    // Rule globs may match new files since the start.
    config::Diagnostics d;
    auto fresh = config::load_config(cfg.path, catalogs.for_config(), d);
    if (fresh && actions_enabled) *actions_enabled = fresh->actions_enabled;
    auto files = fresh ? fresh->rule_files : cfg.rule_files;
    auto set = rules::load_rule_set(files, ctx, d);
    diagnostics = logging.secrets().redact(d.render_text());
    return set;
  }

  // Starts the thread; returns once the sockets are bound (so clients can connect).
  bool start(rules::RuleSetPtr initial) {
    std::promise<bool> ready;
    auto ready_future = ready.get_future();
    thread = std::thread([this, initial, &ready] {
      try {
        run(initial, ready);
      } catch (const std::exception& e) {
        // Before `ready` (a bind failed, say) the caller learns it from the promise.
        log.error("engine loop stopped", {{"error", e.what()}});
        store_ok = false;
        try {
          ready.set_value(false);
        } catch (const std::future_error&) {
        }
      }
    });
    return ready_future.get();
  }

  void stop() {
    stopping = true;
    tasks.wake();
    if (thread.joinable()) thread.join();
  }

  void run(rules::RuleSetPtr initial, std::promise<bool>& ready) {
    bus::IngestServer ingest(bus, endpoints.ingest, logging.logger("bus:ingest"));
    bus::JobDispatcher::Options dispatch_options{endpoints.jobs};
    dispatch_options.heartbeat_timeout = worker_timeout;
    bus::JobDispatcher dispatcher(bus, dispatch_options, clock, logging.logger("bus:jobs"));
    bus::Publisher publisher(bus, endpoints.events, logging.logger("bus:events"));
    bound = {ingest.bound_endpoint(), dispatcher.bound_endpoint(), publisher.bound_endpoint()};
    rules::EngineOptions options;
    if (!cfg.slack.default_channel.empty()) options.default_channel = cfg.slack.default_channel;
    options.fan_out = [&publisher](std::string_view kind) { return publisher.has_subscriber(kind); };
    rules::Engine engine(*store, clock, logging.logger("engine"), options);
    auto deliver = [&](rules::EngineOutput out) {
      for (const auto& e : out.events) publisher.publish(e);
      for (auto& j : out.jobs) {
        metrics.counter("vigie_jobs_created_total", "Jobs written to the outbox, by kind", {{"kind", j.kind}}).inc();
        bus::Job job{j.id, j.kind, j.payload, 1, job_timeout(j.payload)};
        dispatcher.dispatch(std::move(job));
      }
    };
    engine.set_output_sink(deliver);
    engine.set_rules(initial);
    chat::ChatCommands chat(engine, *store, clock, logging.logger("chat"));
    chat.set_rules(initial);
    chat.set_access(chat::Access(cfg.access));
    {
      std::lock_guard lock(health_mutex);
      chat.set_actions_enabled(actions_enabled);
    }
    chat.set_secrets(logging.shared_secrets());
    chat.set_status_provider([&] {
      std::lock_guard lock(health_mutex);
      auto status = nlohmann::json{{"role", "engine"},
                            {"store", store_ok ? "ok" : "failing: " + store_error},
                            {"rules", engine.rules() ? engine.rules()->rules().size() : 0},
                            {"jobs in flight", dispatcher.in_flight()},
                            {"jobs queued", dispatcher.queued()},
                            {"last reload", last_reload},
                            {"collectors", collectors_status ? collectors_status() : nlohmann::json("none")}};
      if (slack_socket_status) status["slack socket"] = slack_socket_status();
      return status;
    });
    engine_ptr = &engine;
    chat_ptr = &chat;
    deliver_ptr = deliver;
    if (auto r = engine.restore(); !r) log.error("restoring state failed", {{"error", r.error()}});
    // Jobs committed before a stop or a crash are dispatched again (workers see their ids).
    if (auto pending = store->unfinished_jobs()) {
      for (const auto& j : *pending) {
        dispatcher.dispatch({j.id, j.kind, j.payload, static_cast<int>(j.attempts) + 1, job_timeout(j.payload)});
      }
      if (!pending->empty()) log.info("outbox jobs dispatched again", {{"jobs", pending->size()}});
    }
    metrics.gauge("vigie_reload_success", "1 when the last rule reload succeeded").set(1);
    ready.set_value(true);

    auto& commit_hist = metrics.histogram("vigie_store_commit_seconds", "Time to commit one batch of events",
                                          {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
    auto& batch_events = metrics.counter("vigie_engine_events_total", "Events evaluated by the engine");
    std::uint64_t iterations = 0;
    auto next_stats = std::chrono::steady_clock::now();
    SteadyPoint next_chat_tick = clock.steady_now();
    std::vector<bus::JobResult> unrecorded;  // job results the store refused, oldest first
    SteadyPoint next_result_retry = clock.steady_now();
    // Retention runs a minute after the start (not in the way of a restart's catch-up), then hourly.
    SteadyPoint next_retention = clock.steady_now() + Duration{60'000};
    while (!stopping) {
      zmq::pollitem_t items[] = {{ingest.socket_handle(), 0, ZMQ_POLLIN, 0},
                                 {dispatcher.socket_handle(), 0, ZMQ_POLLIN, 0},
                                 {nullptr, tasks.fd(), ZMQ_POLLIN, 0}};
      long timeout_ms = 100;
      if (auto next = clock.next_deadline()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*next - clock.steady_now()).count();
        timeout_ms = std::clamp<long>(left, 0, 100);
      }
      zmq::poll(items, 3, std::chrono::milliseconds(timeout_ms));
      clock.run_due();
      if (items[2].revents & ZMQ_POLLIN) tasks.run_all();

      auto batches = ingest.drain(1000);
      bool wrote = !batches.empty() || !unrecorded.empty();
      if (!batches.empty()) {
        std::vector<bus::Event> all;
        std::vector<std::string> attrs_json;  // as the producers encoded them, when all did
        bool encoded = true;
        const TimePoint received = clock.system_now();
        for (auto& b : batches) {
          encoded = encoded && b.attrs_json.size() == b.events.size();
          for (auto& e : b.events) {
            e.received_at = received;
            all.push_back(std::move(e));  // b.events keeps its size: the acks below count on it
          }
          if (encoded) std::move(b.attrs_json.begin(), b.attrs_json.end(), std::back_inserter(attrs_json));
        }
        if (!encoded) attrs_json.clear();
        const auto t0 = std::chrono::steady_clock::now();
        rules::EngineOutput out = engine.ingest(all, attrs_json);
        commit_hist.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        batch_events.inc(static_cast<double>(all.size()));
        {
          std::lock_guard lock(health_mutex);
          store_ok = out.ok;
          store_error = out.ok ? "" : out.error;
        }
        std::size_t offset = 0;
        for (const auto& b : batches) {
          std::vector<bus::IngestResult> results(out.results.begin() + static_cast<long>(offset),
                                                 out.results.begin() + static_cast<long>(offset + b.events.size()));
          offset += b.events.size();
          ingest.ack(b, results);
        }
        // Commands and clicks act once their event is stored (a retried one is a duplicate);
        // a collector's cursor moves only now that the events sent before it are committed.
        std::vector<rules::EngineOutput> chat_outputs;
        for (std::size_t i = 0; i < all.size() && i < out.results.size(); ++i) {
          if (out.results[i].status != bus::IngestStatus::stored) continue;
          if (all[i].kind == collectors::kCursorEventKind) {
            if (auto r = store->set_cursor(all[i].attrs.value("collector", ""), all[i].attrs.value("cursor", ""),
                                           clock.system_now());
                !r) {
              log.error("collector cursor not stored", {{"error", r.error().message}});
            }
            continue;
          }
          if (auto o = chat.handle(all[i])) chat_outputs.push_back(std::move(*o));
        }
        out.results.clear();
        deliver(std::move(out));
        for (auto& o : chat_outputs) deliver(std::move(o));
      }
      std::vector<bus::Event> result_events;
      // A result the store could not take (full disk) is kept and recorded again later, in
      // order: dropped, its job would stay dispatched and run again at the next restart.
      std::vector<bus::JobResult> results;
      if (!unrecorded.empty() && clock.steady_now() >= next_result_retry) {
        results.swap(unrecorded);
      }
      for (auto& r : dispatcher.poll()) results.push_back(std::move(r));
      wrote = wrote || !results.empty();
      for (auto& r : results) {
        if (!unrecorded.empty()) {
          unrecorded.push_back(std::move(r));
          continue;
        }
        const bool ok = r.outcome == bus::JobOutcome::ok;
        if (auto fin = engine.job_finished(r.job_id, ok, r.output); !fin.ok) {
          log.error("job result not recorded: kept, recorded again in a second",
                    {{"job", r.job_id}, {"error", fin.error}});
          next_result_retry = clock.steady_now() + Duration{1000};
          unrecorded.push_back(std::move(r));
          continue;
        }
        deliver(chat.action_finished(r.job_id, ok, r.output, r.reason));
        metrics.counter("vigie_jobs_finished_total", "Jobs finished, by outcome",
                        {{"outcome", std::string(bus::job_outcome_name(r.outcome))}}).inc();
        if (auto e = result_event(r)) {
          if (e->kind == "slack.delivery_failed") {
            metrics.counter("vigie_slack_delivery_failed_total", "Slack deliveries given up, by Slack's error",
                            {{"error", e->attrs.value("error", "unknown")}}).inc();
          }
          result_events.push_back(std::move(*e));
        }
      }
      // Results come back as events (slack.delivered, slack.delivery_failed...): stored, seen
      // by rules and observers, deduplicated by job id.
      if (!result_events.empty()) deliver(engine.ingest(std::move(result_events)));
      // Approval and confirmation requests expire (checked about once a second).
      if (clock.steady_now() >= next_chat_tick) {
        next_chat_tick = clock.steady_now() + Duration{1000};
        deliver(chat.tick());
      }
      if (clock.steady_now() >= next_retention) {
        next_retention = clock.steady_now() + Duration{3'600'000};
        apply_retention();
      }
      // Engine::stats() walks every open group: at most four times a second, however fast the
      // loop turns (with 100 000 open groups, every 10th turn of a busy loop was most of its CPU).
      if (!wrote) store->idle();  // the WAL's tail is checkpointed in the background
      if (++iterations % 10 == 0 && std::chrono::steady_clock::now() >= next_stats) {
        next_stats = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
        const auto st = engine.stats();
        metrics.gauge("vigie_rule_evaluations", "Rule conditions evaluated since start").set(static_cast<double>(st.rule_evaluations));
        metrics.gauge("vigie_alerts", "Open alerts by state", {{"state", "firing"}}).set(static_cast<double>(st.firing));
        metrics.gauge("vigie_alerts", "Open alerts by state", {{"state", "acknowledged"}}).set(static_cast<double>(st.acknowledged));
        metrics.gauge("vigie_alerts_silenced", "Open alerts held back by a silence").set(static_cast<double>(st.silenced));
        metrics.gauge("vigie_alerts_inhibited", "Open alerts held back by inhibition").set(static_cast<double>(st.inhibited));
        const auto cp = store->checkpoints();
        metrics.gauge("vigie_store_checkpoints", "WAL checkpoints since start, by who ran them", {{"by", "background"}})
            .set(static_cast<double>(cp.background));
        metrics.gauge("vigie_store_checkpoints", "WAL checkpoints since start, by who ran them", {{"by", "writer"}})
            .set(static_cast<double>(cp.writer));
      }
      metrics.gauge("vigie_jobs_in_flight", "Jobs dispatched and not finished").set(static_cast<double>(dispatcher.in_flight()));
      metrics.gauge("vigie_jobs_queued", "Jobs waiting for a worker").set(static_cast<double>(dispatcher.queued()));
    }
    // Drain: whatever producers sent before the stop is committed and acked.
    for (auto& b : ingest.drain(100000)) {
      auto out = engine.ingest(b.events);
      ingest.ack(b, out.results);
    }
    engine_ptr = nullptr;
    chat_ptr = nullptr;
    deliver_ptr = nullptr;
  }

  // Deletes what [store] retention and audit_retention say is old enough.
  void apply_retention() {
    auto deleted = store->apply_retention(clock.system_now(), cfg.store.retention, cfg.store.audit_retention);
    if (!deleted) {
      log.error("retention failed", {{"error", deleted.error().message}});
      return;
    }
    metrics.counter("vigie_retention_deleted_total", "Rows deleted by retention").inc(static_cast<double>(*deleted));
    if (*deleted > 0) log.info("retention applied", {{"deleted", *deleted}});
  }

  // The event a worker asked for with its result (`output.event`: kind and attrs), if any.
  std::optional<bus::Event> result_event(const bus::JobResult& r) {
    auto it = r.output.find("event");
    if (it == r.output.end() || !it->is_object() || !(*it)["kind"].is_string()) return std::nullopt;
    bus::Event e;
    e.id = "result:" + r.job_id;
    e.source = "worker";
    e.kind = (*it)["kind"].get<std::string>();
    e.time = e.received_at = clock.system_now();
    e.attrs = it->value("attrs", nlohmann::json::object());
    if (!e.attrs.is_object()) e.attrs = nlohmann::json::object();
    e.attrs["job"] = r.job_id;
    if (!r.reason.empty()) e.attrs["reason"] = r.reason;
    return e;
  }

  // Every reload, good or bad, is an event too (`vigie.reload`), stored and published.
  void record_reload(bool ok, std::size_t rules, const std::string& diagnostics) {
    if (!engine_ptr) return;
    bus::Event e;
    const TimePoint now = clock.system_now();
    e.id = "reload:" + std::to_string(to_unix_ms(now)) + ":" + std::to_string(++reloads);
    e.source = "vigie";
    e.kind = "vigie.reload";
    e.time = e.received_at = now;
    e.attrs = {{"ok", ok}, {"rules", rules}, {"diagnostics", diagnostics}};
    auto out = engine_ptr->ingest({e});
    if (deliver_ptr) deliver_ptr(std::move(out));
  }

  void reload(std::function<void(bool, std::string)> done) {
    tasks.post([this, done] {
      std::string diagnostics;
      std::optional<bool> actions_enabled;
      auto set = load_rules(diagnostics, &actions_enabled);
      // The kill switch follows vigie.toml at every reload, even one whose rules fail: pulling it
      // must not wait for a restart or for the rules to be fixed.
      if (actions_enabled) apply_actions_switch(*actions_enabled);
      if (!set) {
        record_reload(false, 0, diagnostics);
        {
          std::lock_guard lock(health_mutex);
          last_diagnostics = diagnostics;
        }
        log.error("reload failed; keeping the last good rule set", {{"diagnostics", diagnostics}});
        metrics.gauge("vigie_reload_success", "1 when the last rule reload succeeded").set(0);
        done(false, diagnostics);
        return;
      }
      if (engine_ptr) engine_ptr->set_rules(set);
      if (chat_ptr) chat_ptr->set_rules(set);
      {
        std::lock_guard lock(health_mutex);
        current_rules = set;
        last_diagnostics = diagnostics;
        last_reload = format_rfc3339(clock.system_now()) + " (" + std::to_string(set->rules().size()) + " rules)";
      }
      metrics.gauge("vigie_reload_success", "1 when the last rule reload succeeded").set(1);
      metrics.gauge("vigie_reload_last_success_timestamp_seconds", "Time of the last good reload")
          .set(static_cast<double>(to_unix_ms(clock.system_now())) / 1000.0);
      log.info("rules reloaded", {{"rules", set->rules().size()}});
      record_reload(true, set->rules().size(), diagnostics);
      done(true, diagnostics);
    });
  }

  // Runs on the engine thread (a reload task).
  void apply_actions_switch(bool enabled) {
    if (chat_ptr) chat_ptr->set_actions_enabled(enabled);
    std::function<void(bool)> worker;
    {
      std::lock_guard lock(health_mutex);
      if (enabled != actions_enabled) {
        log.warn(enabled ? "reload: actions switched on ([actions] enabled = true)"
                         : "reload: actions switched off ([actions] enabled = false)");
      }
      actions_enabled = enabled;
      worker = on_actions_switch;
    }
    if (worker) worker(enabled);
  }

  bool actions_enabled = true;                  // guarded by health_mutex
  std::function<void(bool)> on_actions_switch;  // the in-process worker's; guarded by health_mutex
  rules::Engine* engine_ptr = nullptr;  // set by the engine thread; used by its tasks only
  chat::ChatCommands* chat_ptr = nullptr;
  std::string last_reload = "none since start";  // guarded by health_mutex
  std::string last_diagnostics;                  // guarded by health_mutex: of the last load
  rules::RuleSetPtr current_rules;               // guarded by health_mutex: the rules in force
  std::function<nlohmann::json()> collectors_status;  // guarded by health_mutex; set in role all
  std::function<nlohmann::json()> slack_socket_status;  // guarded by health_mutex; [slack] mode = "socket", role all
  std::function<void(rules::EngineOutput)> deliver_ptr;
  std::uint64_t reloads = 0;
};

// Watches the folders of the rule files and asks for a reload when a .toml file in them changes
// (saved, moved in, created, deleted), after a short quiet period so an editor's several writes
// make one reload.
class RuleWatcher {
 public:
  RuleWatcher(const config::Config& cfg, std::function<void()> on_change, Logger log)
      : on_change_(std::move(on_change)), log_(std::move(log)) {
    fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) return;
    std::set<std::string> dirs;
    for (const auto& f : cfg.rule_files) dirs.insert(std::filesystem::path(f).parent_path().string());
    for (const auto& g : cfg.rule_globs) {
      std::filesystem::path p(g);
      if (p.is_relative()) p = std::filesystem::path(cfg.base_dir) / p;
      dirs.insert(p.parent_path().lexically_normal().string());
    }
    for (const auto& d : dirs) {
      if (d.empty()) continue;
      if (::inotify_add_watch(fd_, d.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM) < 0) {
        log_.warn("cannot watch rule folder", {{"folder", d}});
      }
    }
    thread_ = std::thread([this] { run(); });
  }
  ~RuleWatcher() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  void run() {
    bool pending = false;
    alignas(inotify_event) char buf[4096];
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      // 200 ms of quiet after the last change before reloading.
      const int n = ::poll(&p, 1, 200);
      if (n > 0 && (p.revents & POLLIN)) {
        const ssize_t len = ::read(fd_, buf, sizeof buf);
        for (ssize_t i = 0; i < len;) {
          const auto* ev = reinterpret_cast<const inotify_event*>(buf + i);
          const std::string name = ev->len ? ev->name : "";
          if (name.size() > 5 && name.compare(name.size() - 5, 5, ".toml") == 0) pending = true;
          i += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        }
        continue;
      }
      if (pending) {
        pending = false;
        log_.info("rule files changed: reloading");
        on_change_();
      }
    }
  }

  int fd_ = -1;
  std::function<void()> on_change_;
  Logger log_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

sigset_t daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

int run_daemon(const RunOptions& options, std::ostream& out, std::ostream& err, const DaemonHooks& hooks) {
  // Signals are taken by sigwait in this thread only: every thread started below inherits the mask.
  sigset_t signals = daemon_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string role = options.role.empty() ? "all" : options.role;
  if (role != "all" && role != "collector" && role != "engine" && role != "worker") {
    err << "vigie run: unknown --role '" << role << "': use all, collector, engine or worker\n";
    return 2;
  }
  const bool run_engine = role == "all" || role == "engine";
  const bool run_intake = role == "all" || role == "collector";
  const bool run_worker = role == "all" || role == "worker";

  const KindCatalogs catalogs = builtin_catalogs();
  config::Diagnostics diags;
  auto cfg = config::load_config(options.config_path, catalogs.for_config(), diags);
  auto secrets = std::make_shared<SecretRegistry>();
  if (!cfg) {
    err << diags.render_text();
    return 1;
  }
  if (role != "all" && cfg->bus.mode != "tcp") {
    err << "vigie run: --role " << role << " runs one role of several processes: set [bus] mode = \"tcp\" "
        << "and its ingest, jobs and events endpoints in " << cfg->path << " (see docs/operations.md)\n";
    return 2;
  }
  const auto level = parse_log_level(options.log_level.empty() ? cfg->log_level : options.log_level);
  Logging logging(level.value_or(LogLevel::info), secrets);
  Logger log = logging.logger("vigie");
  SystemClock system_clock;
  Clock& clock = hooks.clock ? *hooks.clock : system_clock;
  Metrics metrics;

  // Where this process connects (`connect`) and, for the engine, what it binds (`bind`).
  bus::Endpoints connect, bind;
  if (cfg->bus.mode == "tcp") {
    connect = {cfg->bus.ingest, cfg->bus.jobs, cfg->bus.events};
    bind = {cfg->bus.ingest_bind.empty() ? cfg->bus.ingest : cfg->bus.ingest_bind,
            cfg->bus.jobs_bind.empty() ? cfg->bus.jobs : cfg->bus.jobs_bind,
            cfg->bus.events_bind.empty() ? cfg->bus.events : cfg->bus.events_bind};
  }

  // Secrets the HTTP side needs now; others are read by the roles that use them.
  std::vector<collectors::WebhookConfig> webhooks;
  if (run_intake) {
    for (const auto& w : cfg->webhooks) {
      std::optional<std::string> hmac, shared;
      if (auto ref = w.options.secret("hmac_secret")) hmac = config::resolve_secret(*ref, "hmac_secret", *secrets, diags);
      if (auto ref = w.options.secret("shared_secret")) shared = config::resolve_secret(*ref, "shared_secret", *secrets, diags);
      webhooks.push_back(collectors::WebhookConfig::from_options(w.name, w.options, hmac, shared));
    }
  }
  std::shared_ptr<chat::SlackHttpEndpoints> slack_http;
  if (run_intake && cfg->slack.enabled && cfg->slack.mode == "http") {
    if (!cfg->slack.signing_secret) {
      diags.error({cfg->path, 1, 1}, "secret-missing",
                  "[slack] mode = \"http\" needs signing_secret_env or signing_secret_file to check Slack's requests");
    } else if (auto secret = config::resolve_secret(*cfg->slack.signing_secret, "signing_secret", *secrets, diags)) {
      slack_http = std::make_shared<chat::SlackHttpEndpoints>(
          *secret, clock, logging.logger("slack:http"),
          chat::SlackInboundGuard{cfg->slack.team_id, &metrics});
    }
  }
  std::optional<std::string> slack_app_token;
  if (run_intake && cfg->slack.enabled && cfg->slack.app_token) {
    // Read in http mode too, where it is unused: a configured secret is registered for redaction
    // (an action's output printing it is blanked); unreadable there, it is only a warning.
    const bool socket = cfg->slack.mode == "socket";
    auto token = config::resolve_secret(*cfg->slack.app_token, "app_token", *secrets, diags,
                                        socket ? config::Severity::error : config::Severity::warning);
    if (socket) slack_app_token = std::move(token);
  }
  if (diags.has_errors()) {
    err << secrets->redact(diags.render_text());
    return 1;
  }
  if (run_intake && cfg->slack.enabled && cfg->slack.team_id.empty()) {
    // A warning, not an error: configs written before team_id keep working.
    log.warn(
        "[slack] team_id is unset: requests and button clicks from any Slack workspace are "
        "taken, as long as they are signed with the signing secret (or arrive over the app's "
        "Socket Mode connection); set team_id to your workspace's id (T...) to refuse the others",
        {{"mode", cfg->slack.mode}});
  }

  bus::BusContext bus;
  std::unique_ptr<EngineLoop> engine;
  std::size_t rule_count = 0;
  if (run_engine) {
    store::OpenOptions store_options;
    store_options.background_checkpoints = true;  // checkpoints off the engine thread
    auto store = store::Store::open(cfg->store.path, store_options);
    if (!store) {
      err << "vigie run: " << store.error().message << '\n';
      return 2;
    }
    engine = std::make_unique<EngineLoop>(*cfg, catalogs, logging, clock, metrics, bus, bind, std::move(*store));
    std::string diagnostics;
    auto rules = engine->load_rules(diagnostics);
    if (!rules) {
      err << diagnostics;
      return 1;
    }
    rule_count = rules->rules().size();
    {
      std::lock_guard lock(engine->health_mutex);
      engine->current_rules = rules;
      engine->last_diagnostics = diagnostics;
      engine->last_reload = format_rfc3339(clock.system_now()) + " (start, " + std::to_string(rule_count) + " rules)";
    }
    if (!engine->start(rules)) {
      err << "vigie run: the engine could not start (a bus address in use?): see the log above\n";
      engine->stop();
      return 2;
    }
    if (cfg->bus.mode == "tcp") {
      out << "vigie: engine bound ingest=" << engine->bound.ingest << " jobs=" << engine->bound.jobs
          << " events=" << engine->bound.events << std::endl;
    }
  }

  std::unique_ptr<bus::IngestClient> ingest;
  if (run_intake) {
    bus::IngestClient::Options ingest_options{connect.ingest};
    ingest_options.name = "http";
    ingest = std::make_unique<bus::IngestClient>(bus, ingest_options, clock, logging.logger("bus:producer"));
  }

  // Pollers ([collectors.*]) run with the intake: their events go through the same acked ingest.
  std::unique_ptr<store::Store> cursor_store;
  std::unique_ptr<net::HttpClient> collector_http;
  std::unique_ptr<collectors::CollectorScheduler> pollers;
  if (run_intake && !cfg->collectors.empty()) {
    config::KindCatalog kinds;
    collectors::register_builtin_collectors(kinds);
    config::Diagnostics secret_diags;
    std::vector<collectors::ScheduledCollector> list;
    collector_http = net::make_http_client({}, logging.logger("http-client"));
    for (const auto& c : cfg->collectors) {
      auto factory = collectors::collector_factory(c.type);
      if (!factory) {
        log.warn("collector kind cannot run in this version: skipped", {{"collector", c.name}, {"type", c.type}});
        continue;
      }
      collectors::CollectorSpec spec{c.name, c.type, c.options, {}};
      bool secrets_ok = true;
      if (const auto* kind = kinds.find(c.type)) {
        for (const auto& o : kind->options->options) {
          if (o.type != config::OptionType::secret) continue;
          auto ref = c.options.secret(o.name);
          if (!ref) continue;
          auto value = config::resolve_secret(*ref, o.name, logging.secrets(), secret_diags);
          if (!value) {
            secrets_ok = false;
            continue;
          }
          spec.secrets[std::string(o.name)] = *value;
        }
      }
      if (!secrets_ok) continue;
      // Each collector's requests go through its own budget, so `timeout` bounds a whole poll.
      auto budget = std::make_shared<collectors::PollBudget>(*collector_http, clock);
      auto made = factory(spec, *budget, logging.logger("collector:" + c.name));
      if (!made) {
        log.error("collector not started", {{"collector", c.name}, {"error", made.error()}});
        continue;
      }
      list.push_back({c.name, c.type, std::move(*made), c.options.duration("interval", Duration{30'000}),
                      c.options.duration("timeout", Duration{20'000}), std::move(budget)});
    }
    if (secret_diags.error_count() > 0) err << secrets->redact(secret_diags.render_text());
    // Cursors are read from the store file when this host has it (role all, or a collector next
    // to its engine); otherwise a collector starts from its first-poll position.
    if (run_engine || std::filesystem::exists(cfg->store.path)) {
      if (auto s = store::Store::open(cfg->store.path)) cursor_store = std::move(*s);
    }
    collectors::SchedulerOptions so;
    so.metrics = &metrics;
    pollers = std::make_unique<collectors::CollectorScheduler>(
        std::move(list),
        [&ingest](std::vector<bus::Event> events) {
          for (const auto& r : ingest->submit_and_wait(std::move(events))) {
            if (r.status != bus::IngestStatus::stored && r.status != bus::IngestStatus::duplicate) return false;
          }
          return true;
        },
        [&cursor_store](const std::string& name) -> std::optional<std::string> {
          if (!cursor_store) return std::nullopt;
          auto c = cursor_store->cursor(name);
          return c ? *c : std::nullopt;
        },
        clock, logging.logger("collectors"), so);
    if (engine) {
      std::lock_guard lock(engine->health_mutex);
      engine->collectors_status = [p = pollers.get()] {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& h : p->health()) {
          out[h.name] = h.state + (h.error.empty() ? "" : " (" + h.error + ")") +
                        (h.last_success ? ", last success " + format_rfc3339(*h.last_success) : "");
        }
        return out;
      };
    }
    pollers->start();
    log.info("collectors started", {{"collectors", pollers->size()}});
  }

  // Slack Socket Mode ([slack] mode = "socket"): Slack's requests arrive over a WebSocket this
  // process opens; their events go through the same acked ingest, and an envelope is acked only
  // once they are stored.
  std::unique_ptr<net::HttpClient> socket_http;
  std::unique_ptr<chat::SocketModeClient> slack_socket;
  if (slack_app_token) {
    chat::SocketModeOptions so;
    so.base_url = *net::parse_url(cfg->slack.base_url);  // validated as a URL by the config loader
    so.app_token = *slack_app_token;
    so.team_id = cfg->slack.team_id;
    so.metrics = &metrics;
    socket_http = net::make_http_client({}, logging.logger("http-client"));
    slack_socket = std::make_unique<chat::SocketModeClient>(
        so, *socket_http, clock, logging.logger("slack:socket"),
        [&ingest, &metrics, secrets](std::vector<bus::Event> events) {
          chat::redact_secrets(events, *secrets);
          const std::size_t n = events.size();
          for (const auto& r : ingest->submit_and_wait(std::move(events))) {
            if (r.status != bus::IngestStatus::stored && r.status != bus::IngestStatus::duplicate) return false;
          }
          metrics.counter("vigie_events_stored_total", "Events stored, by source", {{"source", "slack"}})
              .inc(static_cast<double>(n));
          return true;
        });
    if (engine) {
      std::lock_guard lock(engine->health_mutex);
      engine->slack_socket_status = [s = slack_socket.get(), &clock] {
        return nlohmann::json(chat::describe(s->status(), clock.steady_now()));
      };
    }
    slack_socket->start();
    log.info("Slack Socket Mode started");
  }

  std::unique_ptr<JobRunner> runner;
  std::vector<std::unique_ptr<bus::JobWorker>> workers;
  if (run_worker) {
    config::Diagnostics worker_diags;
    runner = JobRunner::create(*cfg, logging, clock, worker_diags);
    if (!runner) {
      err << secrets->redact(worker_diags.render_text());
      if (slack_socket) slack_socket->stop();
      if (ingest) ingest->stop();
      if (engine) engine->stop();
      return 1;
    }
    bus::JobWorker::Options worker_options{connect.jobs};
    worker_options.name = role == "worker" ? "worker:" + std::to_string(::getpid()) : "worker";
    worker_options.heartbeat_interval = std::max(Duration{100}, cfg->bus.worker_timeout / 3);
    worker_options.capacity = runner->capacity();
    if (engine) {
      // A reload in this process pulls the kill switch here too (a reload may have run already).
      std::lock_guard lock(engine->health_mutex);
      runner->set_actions_enabled(engine->actions_enabled);
      engine->on_actions_switch = [r = runner.get()](bool enabled) {
        r->set_actions_enabled(enabled);
      };
    }
    workers.push_back(std::make_unique<bus::JobWorker>(bus, worker_options, runner->handler(), clock,
                                                       logging.logger("bus:worker")));
  }

  // The HTTP server: intake roles always; the engine and worker roles only with --listen, for
  // their health, metrics (and the engine's reload).
  std::unique_ptr<net::HttpServer> server;
  const std::string listen_text = !options.listen.empty() ? options.listen : run_intake ? cfg->server.listen : "";
  if (!listen_text.empty()) {
    HttpApi api;
    api.clock = &clock;
    api.metrics = &metrics;
    api.role = role;
    if (ingest) {
      api.submit = [&ingest](std::vector<bus::Event> events, bus::IngestCallback done) {
        ingest->submit(std::move(events), std::move(done));
      };
      api.webhooks = webhooks;
      if (slack_http) {
        api.slack = [slack_http, secrets](const net::HttpRequest& r) {
          auto outcome = slack_http->handle(r);
          if (outcome) chat::redact_secrets(outcome->events, *secrets);
          return outcome;
        };
      }
    }
    if (engine) {
      api.reload = [&engine](std::function<void(bool, std::string)> done) { engine->reload(std::move(done)); };
    }
    api.health = [&engine, &ingest]() -> std::pair<bool, std::string> {
      if (engine) {
        std::lock_guard lock(engine->health_mutex);
        if (!engine->store_ok) return {false, "store: " + engine->store_error};
      }
      if (ingest && !ingest->engine_answering()) return {false, "bus: the engine does not acknowledge events"};
      return {true, ""};
    };
    auto listen = net::split_host_port(listen_text);
    if (!listen) {
      err << "vigie run: --listen '" << listen_text << "' is not host:port\n";
      return 2;
    }
    net::HttpServer::Options http_options;
    http_options.address = listen->first;
    http_options.port = listen->second;
    http_options.max_body_bytes = static_cast<std::size_t>(cfg->server.max_body_bytes);
    http_options.threads = 2;
    net::HttpHandler handler = make_http_handler(api);
    // The read-only web view ([server] ui) and the embedding caller's routes come before the API's.
    std::shared_ptr<WebUi> ui;
    if (cfg->server.ui && engine) {
      WebUiSources sources;
      sources.store_path = cfg->store.path;
      sources.clock = &clock;
      sources.rules = [&engine] {
        std::lock_guard lock(engine->health_mutex);
        return WebUiSources::RulesState{engine->current_rules, engine->last_reload, engine->last_diagnostics};
      };
      sources.collectors = [&pollers] {
        return pollers ? pollers->health() : std::vector<collectors::CollectorHealth>{};
      };
      ui = std::make_shared<WebUi>(std::move(sources));
    }
    if (ui || hooks.routes) {
      handler = [ui, routes = hooks.routes, api_handler = std::move(handler)](net::HttpRequest req, net::Respond respond) {
        if (routes && routes(req, respond)) return;
        if (ui && ui->handle(req, respond)) return;
        api_handler(std::move(req), std::move(respond));
      };
    }
    auto started = net::HttpServer::start(http_options, std::move(handler), logging.logger("http"));
    if (!started) {
      err << "vigie run: " << started.error() << '\n';
      workers.clear();
      if (slack_socket) slack_socket->stop();
      if (ingest) ingest->stop();
      if (engine) engine->stop();
      return 2;
    }
    server = std::move(*started);
    out << "vigie: listening on http://" << listen->first << ":" << server->port() << std::endl;
  }
  std::unique_ptr<RuleWatcher> watcher;
  if (engine) {
    watcher = std::make_unique<RuleWatcher>(*cfg, [&engine] { engine->reload([](bool, std::string) {}); },
                                            logging.logger("rules"));
  }
  out << "vigie: running role " << role << std::endl;
  log.info("started", {{"role", role},
                       {"listen", server ? listen_text : std::string("-")},
                       {"rules", rule_count},
                       {"store", run_engine ? cfg->store.path : std::string("-")}});

  for (; !hooks.run;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      if (!engine) {
        // A worker's own vigie.toml is its kill switch: re-read it; rules live in the engine.
        if (runner) {
          config::Diagnostics d;
          if (auto fresh = config::load_config(cfg->path, catalogs.for_config(), d)) {
            runner->set_actions_enabled(fresh->actions_enabled);
            log.info("SIGHUP: [actions] enabled re-read", {{"enabled", fresh->actions_enabled}});
          } else {
            log.error("SIGHUP: vigie.toml does not load; the kill switch stays as it was",
                      {{"diagnostics", secrets->redact(d.render_text())}});
          }
        } else {
          log.info("SIGHUP ignored: rules are reloaded by the engine process");
        }
        continue;
      }
      log.info("SIGHUP: reloading rules");
      engine->reload([&log](bool ok, std::string) { log.info(ok ? "reload done" : "reload failed"); });
      continue;
    }
    log.info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    break;
  }
  if (hooks.run) hooks.run(server ? server->port() : 0);
  // Stop intake first, let requests in flight get their acks, then stop the engine (it drains),
  // then the workers (a job cut short is dispatched again at the next start).
  if (server) server->stop(std::chrono::milliseconds(5000));
  if (pollers) pollers->stop();
  if (slack_socket) slack_socket->stop();
  if (engine) {
    std::lock_guard lock(engine->health_mutex);
    engine->collectors_status = nullptr;
    engine->slack_socket_status = nullptr;
  }
  if (ingest) ingest->stop();
  watcher.reset();
  if (engine) engine->stop();
  if (runner) runner->stop();
  for (auto& w : workers) w->stop();
  log.info("stopped");
  logging.flush();
  return 0;
}

}  // namespace vigie::app
