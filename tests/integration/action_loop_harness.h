// The daemon's action loop in-process, for end-to-end tests of remediation: the real engine, store
// and chat commands on a FakeClock, the real job bus (inproc) and workers each running an
// ActionRunner with the given providers and HTTP client. Events in, jobs to the dispatcher,
// results back to the engine and the chat (as the engine loop does), and helpers to click, to say
// things in the chat and to read what was sent.
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vigie/actions/action.h"
#include "vigie/actions/kinds.h"
#include "vigie/actions/runner.h"
#include "vigie/bus/jobs.h"
#include "vigie/chat/commands.h"
#include "vigie/net/http_client.h"
#include "vigie/rules/engine.h"

namespace vigie::testing {

struct ActionLoopOptions {
  std::string rules;                      // one rule file's text
  std::string endpoint;                   // inproc:// address of the job bus, unique per test file
  std::vector<std::string> oncall;        // Slack user ids holding the role "oncall"
  std::vector<std::string> workers{"w1"};
  std::string channel = "C0OPS";
};

class ActionLoopHarness {
 public:
  // `make_http` and `make_providers` build what the workers' ActionRunners use, as the daemon's
  // worker does from vigie.toml (the logging and clock are the harness's own).
  ActionLoopHarness(ActionLoopOptions options,
                    std::function<std::unique_ptr<net::HttpClient>(Logging&)> make_http,
                    std::function<actions::Providers(net::HttpClient&, Clock&, Logging&)> make_providers)
      : options_(std::move(options)) {
    store = std::move(*store::Store::open(":memory:"));
    config::KindCatalog kinds;
    actions::register_builtin_actions(kinds);
    rules::RuleLoadContext ctx;
    ctx.action_kinds = &kinds;
    ctx.roles = {"oncall"};
    config::Diagnostics d;
    auto set = rules::load_rule_texts({{"rules.toml", options_.rules}}, ctx, d);
    INFO(d.render_text());
    REQUIRE(set);
    engine = std::make_unique<rules::Engine>(*store, clock, logging.logger("engine"));
    engine->set_output_sink([this](rules::EngineOutput o) { deliver(std::move(o)); });
    engine->set_rules(set);
    chat = std::make_unique<chat::ChatCommands>(*engine, *store, clock, logging.logger("chat"));
    chat->set_rules(set);
    config::AccessConfig a;
    a.roles["oncall"] = options_.oncall;
    chat->set_access(chat::Access(a));
    dispatcher = std::make_unique<bus::JobDispatcher>(bus, bus::JobDispatcher::Options{options_.endpoint}, clock,
                                                      logging.logger("dispatch"));
    http = make_http(logging);
    for (const auto& name : options_.workers) {
      auto runner = std::make_unique<actions::ActionRunner>(make_providers(*http, clock, logging), *http,
                                                            logging.secrets(), clock, logging.logger(name),
                                                            actions::RunnerOptions{1});
      runner->start();
      auto* r = runner.get();
      bus::JobWorker::Options o{options_.endpoint, name};
      o.capacity = 10;
      workers.push_back(std::make_unique<bus::JobWorker>(
          bus, o,
          bus::JobWorker::AsyncHandler([r](const bus::Job& job, std::function<void(bus::JobResult)> done) {
            if (job.kind == "action") return r->submit(job, std::move(done));
            done({job.id, bus::JobOutcome::ok, nlohmann::json::object(), "", Duration{0}, ""});  // replies: delivered
          }),
          clock, logging.logger(name)));
      runners.push_back(std::move(runner));
    }
  }

  ~ActionLoopHarness() {
    workers.clear();
    for (auto& r : runners) r->stop();
  }

  // What the daemon's engine loop does with engine output: jobs to the dispatcher.
  void deliver(rules::EngineOutput o) {
    REQUIRE(o.ok);
    for (auto& j : o.jobs) {
      dispatcher->dispatch({j.id, j.kind, j.payload, 1, Duration{j.payload.value("timeout_ms", std::int64_t{60'000})}});
      jobs.push_back(std::move(j));
    }
  }

  // Results back as the daemon handles them, until `pred` holds (at most 5 s of real time: the
  // workers are real threads).
  template <typename Pred>
  bool run_until(Pred pred) {
    for (int i = 0; i < 5000; ++i) {
      for (const auto& r : dispatcher->poll()) {
        deliver(engine->job_finished(r.job_id, r.outcome == bus::JobOutcome::ok, r.output));
        deliver(chat->action_finished(r.job_id, r.outcome == bus::JobOutcome::ok, r.output, r.reason));
      }
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }

  void event(bus::Event e) {
    e.id = e.id.empty() ? "e" + std::to_string(++seq_) : e.id;
    e.time = e.received_at = clock.system_now();
    auto o = engine->ingest({e});
    deliver(std::move(o));
    if (auto c = chat->handle(e)) deliver(std::move(*c));
  }

  void click(const std::string& user, const std::string& action_id, const std::string& value) {
    bus::Event e;
    e.source = "slack";
    e.kind = "chat.action";
    e.attrs = {{"user", user}, {"channel", options_.channel}, {"action_id", action_id}, {"value", value}};
    event(std::move(e));
  }

  // Says `text` in the channel; returns the text of the replies it caused.
  std::string say(const std::string& user, const std::string& text) {
    const auto before = jobs.size();
    bus::Event e;
    e.source = "slack";
    e.kind = "chat.command";
    e.attrs = {{"user", user}, {"channel", options_.channel}, {"text", text}, {"via", "mention"}};
    event(std::move(e));
    std::string out;
    for (auto i = before; i < jobs.size(); ++i) {
      if (jobs[i].kind == "reply") out += jobs[i].payload.value("text", "") + "\n";
    }
    return out;
  }

  std::vector<store::Job> of_kind(const std::string& kind) const {
    std::vector<store::Job> out;
    for (const auto& j : jobs) {
      if (j.kind == kind) out.push_back(j);
    }
    return out;
  }

  // The id of the last approval or confirmation request posted.
  std::string request_id() const {
    for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {
      const std::string blocks = it->payload.value("blocks", nlohmann::json::array()).dump();
      const auto at = blocks.find("req-");
      if (at != std::string::npos) return blocks.substr(at, blocks.find('"', at) - at);
    }
    return "";
  }

  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  FakeClock clock;
  bus::BusContext bus;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<rules::Engine> engine;
  std::unique_ptr<chat::ChatCommands> chat;
  std::unique_ptr<bus::JobDispatcher> dispatcher;
  std::unique_ptr<net::HttpClient> http;
  std::vector<std::unique_ptr<actions::ActionRunner>> runners;
  std::vector<std::unique_ptr<bus::JobWorker>> workers;
  std::vector<store::Job> jobs;  // every job the engine created, in order

 private:
  ActionLoopOptions options_;
  int seq_ = 0;
};

}  // namespace vigie::testing
