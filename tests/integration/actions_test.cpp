// Actions end to end in-process: the real engine, store and chat commands on a FakeClock, the real
// job bus (inproc) with two workers each running an ActionRunner with the real exec kind. A button
// on an alert → approval by another person → the action runs on a worker → its output in the
// alert's thread → the alert resolved by a rule on action.finished; then the guardrails hold
// whichever worker is free: one run at a time per target, and the cooldown after it.
#include <catch2/catch.hpp>

#include <sstream>
#include <thread>

#include "vigie/actions/kinds.h"
#include "vigie/actions/runner.h"
#include "vigie/actions/slack_message.h"
#include "vigie/bus/jobs.h"
#include "vigie/chat/commands.h"
#include "vigie/rules/engine.h"

using namespace vigie;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const char* kRules = R"(
[[rule]]
name = "app-down"
when = 'kind == "health" and up == false'
group_by = ["app"]
summary = "{{app}} is down"
offer = ["restart-app"]
resolve_when = 'kind == "action.finished" and action == "restart-app" and status == "ok"'

[[action]]
name = "restart-app"
type = "exec"
argv = ["/bin/sh", "-c", "echo restarting \"$1\"", "restart", "{{app}}"]
allow = ["oncall"]
approvals = 1
cooldown = "10m"
params = { app = "regex:[a-z][a-z0-9-]*" }
)";

const std::string kAlice = "U0ALICE";
const std::string kBob = "U0BOB";

class NoHttp : public net::HttpClient {
 public:
  tl::expected<net::ClientResponse, net::ClientError> send(const net::ClientRequest&) override {
    return tl::unexpected(net::ClientError{net::ClientErrorKind::connect, "no network in this test"});
  }
};

struct Harness {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  FakeClock clock;
  bus::BusContext bus;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<rules::Engine> engine;
  std::unique_ptr<chat::ChatCommands> chat;
  std::unique_ptr<bus::JobDispatcher> dispatcher;
  NoHttp http;
  std::vector<std::unique_ptr<actions::ActionRunner>> runners;
  std::vector<std::unique_ptr<bus::JobWorker>> workers;
  std::vector<store::Job> jobs;  // every job the engine created, in order
  int seq = 0;

  Harness() {
    store = std::move(*store::Store::open(":memory:"));
    config::KindCatalog kinds;
    actions::register_builtin_actions(kinds);
    rules::RuleLoadContext ctx;
    ctx.action_kinds = &kinds;
    ctx.roles = {"oncall"};
    config::Diagnostics d;
    auto set = rules::load_rule_texts({{"rules.toml", kRules}}, ctx, d);
    INFO(d.render_text());
    REQUIRE(set);
    engine = std::make_unique<rules::Engine>(*store, clock, logging.logger("engine"));
    engine->set_output_sink([this](rules::EngineOutput o) { deliver(std::move(o)); });
    engine->set_rules(set);
    chat = std::make_unique<chat::ChatCommands>(*engine, *store, clock, logging.logger("chat"));
    chat->set_rules(set);
    config::AccessConfig a;
    a.roles["oncall"] = {kAlice, kBob};
    chat->set_access(chat::Access(a));
    dispatcher = std::make_unique<bus::JobDispatcher>(bus, bus::JobDispatcher::Options{"inproc://actions-jobs"}, clock,
                                                      logging.logger("dispatch"));
    for (const char* name : {"w1", "w2"}) {
      auto runner = std::make_unique<actions::ActionRunner>(actions::Providers{}, http, logging.secrets(), clock,
                                                            logging.logger(name), actions::RunnerOptions{1});
      runner->start();
      auto* r = runner.get();
      bus::JobWorker::Options o{"inproc://actions-jobs", name};
      o.capacity = 10;
      workers.push_back(std::make_unique<bus::JobWorker>(
          bus, o,
          bus::JobWorker::AsyncHandler([r](const bus::Job& job, std::function<void(bus::JobResult)> done) {
            if (job.kind == "action") return r->submit(job, std::move(done));
            done({job.id, bus::JobOutcome::ok, json::object(), "", Duration{0}, ""});  // replies: delivered
          }),
          clock, logging.logger(name)));
      runners.push_back(std::move(runner));
    }
  }

  ~Harness() {
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

  // Results back as the daemon handles them, until `pred` holds (at most 5 s of real time).
  template <typename Pred>
  bool run_until(Pred pred) {
    for (int i = 0; i < 5000; ++i) {
      for (const auto& r : dispatcher->poll()) {
        deliver(engine->job_finished(r.job_id, r.outcome == bus::JobOutcome::ok, r.output));
        deliver(chat->action_finished(r.job_id, r.outcome == bus::JobOutcome::ok, r.output, r.reason));
      }
      if (pred()) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }

  void event(bus::Event e) {
    e.id = e.id.empty() ? "e" + std::to_string(++seq) : e.id;
    e.time = e.received_at = clock.system_now();
    auto o = engine->ingest({e});
    deliver(std::move(o));
    if (auto c = chat->handle(e)) deliver(std::move(*c));
  }

  void click(const std::string& user, const std::string& action_id, const std::string& value) {
    bus::Event e;
    e.source = "slack";
    e.kind = "chat.action";
    e.attrs = {{"user", user}, {"channel", "C0OPS"}, {"action_id", action_id}, {"value", value}};
    event(std::move(e));
  }

  std::string say(const std::string& user, const std::string& text) {
    const auto before = jobs.size();
    bus::Event e;
    e.source = "slack";
    e.kind = "chat.command";
    e.attrs = {{"user", user}, {"channel", "C0OPS"}, {"text", text}, {"via", "mention"}};
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

  std::string request_id() const {
    for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {
      const std::string blocks = it->payload.value("blocks", json::array()).dump();
      const auto at = blocks.find("req-");
      if (at != std::string::npos) return blocks.substr(at, blocks.find('"', at) - at);
    }
    return "";
  }
};

}  // namespace

TEST_CASE("button, approval, restart on a worker, output in the thread, alert resolved by action.finished") {
  Harness h;
  bus::Event down;
  down.source = "test";
  down.kind = "health";
  down.attrs = {{"app", "shop-api"}, {"up", false}};
  h.event(down);
  auto open = *h.store->open_alerts();
  REQUIRE(open.size() == 1);
  const std::int64_t alert = open[0].id;
  REQUIRE(h.store->set_slack_message({alert, "C0OPS", "1700000000.000200", false}));

  h.click(kAlice, std::string(actions::slack::kActionRunPrefix) + "restart-app", std::to_string(alert));
  CHECK(h.of_kind("action").empty());
  const std::string req = h.request_id();
  REQUIRE_FALSE(req.empty());
  h.click(kBob, std::string(chat::kActionApprove), req);
  REQUIRE(h.of_kind("action").size() == 1);

  const std::string job = h.of_kind("action")[0].id;
  REQUIRE(h.run_until([&] { return h.store->open_alerts()->empty(); }));
  // The output went to the alert's thread.
  bool in_thread = false;
  for (const auto& r : h.of_kind("reply")) {
    const std::string text = r.payload.value("text", "");
    if (text.find("`restart-app` app=shop-api finished") != std::string::npos &&
        text.find("restarting shop-api") != std::string::npos) {
      in_thread = r.payload.value("thread_ts", "") == "1700000000.000200";
    }
  }
  CHECK(in_thread);
  auto finished = h.store->find_event("action.finished:" + job);
  REQUIRE(finished);
  REQUIRE(finished->has_value());
  CHECK((*finished)->attrs["exit_code"] == 0);
  CHECK((*finished)->attrs["output"] == "restarting shop-api\n");
  auto resolved = h.store->find_alert(alert);
  CHECK((*resolved)->state == "resolved");

  // Within the cooldown, a second run is refused though both workers are idle, saying who and when.
  h.clock.advance(2min);
  const std::string again = h.say(kAlice, "run restart-app app=shop-api");
  CHECK(again.find("ran 2m ago by <@U0ALICE> (it succeeded); cooldown 10m") != std::string::npos);
  CHECK(h.of_kind("action").size() == 1);
}

TEST_CASE("one run at a time per target holds with two free workers") {
  Harness h;
  h.say(kAlice, "run restart-app app=billing");
  const std::string req = h.request_id();
  h.click(kBob, std::string(chat::kActionApprove), req);
  REQUIRE(h.of_kind("action").size() == 1);
  // Not finished yet (its result not read back): another request for the same target is refused.
  const std::string refused = h.say(kBob, "run restart-app app=billing");
  CHECK(refused.find("`restart-app` app=billing is already running (started 0s ago by <@U0ALICE>)") !=
        std::string::npos);
  // Another target is free to go.
  h.say(kBob, "run restart-app app=shop-api");
  h.click(kAlice, std::string(chat::kActionApprove), h.request_id());
  REQUIRE(h.of_kind("action").size() == 2);
  REQUIRE(h.run_until([&] { return h.store->action_runs("restart-app", "app=billing", h.clock.system_now() - 1h)
                                        ->front().state == "ok"; }));
  REQUIRE(h.run_until([&] { return h.store->action_runs("restart-app", "app=shop-api", h.clock.system_now() - 1h)
                                        ->front().state == "ok"; }));
}
