// A provider preset end to end in-process: the real engine, store and chat commands on a FakeClock,
// the real job bus (inproc) and a worker running an ActionRunner whose providers are built from a
// [providers.heroku] table, against the fake Heroku over real HTTP. A button on an alert →
// approval by another person → heroku.restart on the worker → its output in the alert's thread →
// the alert resolved by a rule on action.finished. Modelled on actions_test.cpp (exec).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <sstream>
#include <thread>

#include "fake_heroku.h"
#include "vigie/actions/kinds.h"
#include "vigie/actions/runner.h"
#include "vigie/actions/slack_message.h"
#include "vigie/bus/jobs.h"
#include "vigie/chat/commands.h"
#include "vigie/net/http_client.h"
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
type = "heroku.restart"
app = "{{app}}"
allow = ["oncall"]
approvals = 1
cooldown = "10m"
params = { app = "regex:[a-z][a-z0-9-]*" }
)";

const std::string kAlice = "U0ALICE";
const std::string kBob = "U0BOB";

struct Harness {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  FakeClock clock;
  bus::BusContext bus;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<rules::Engine> engine;
  std::unique_ptr<chat::ChatCommands> chat;
  std::unique_ptr<bus::JobDispatcher> dispatcher;
  vigie::testing::FakeHeroku heroku{"hk-integration-token"};
  std::unique_ptr<net::HttpClient> http = net::make_http_client({}, logging.logger("http"));
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
    dispatcher = std::make_unique<bus::JobDispatcher>(
        bus, bus::JobDispatcher::Options{"inproc://providers-jobs"}, clock,
        logging.logger("dispatch"));
    heroku.add_app("shop-api", {"web.1", "web.2"});
    // The worker's providers, built from [providers.heroku] as the daemon does.
    ::setenv("VIGIE_IT_HEROKU_TOKEN", "hk-integration-token", 1);
    actions::ProviderSpec spec;
    spec.name = "heroku";
    spec.type = "heroku";
    spec.options.set("base_url", heroku.base_url(), {});
    spec.options.set("token", config::SecretRef{"VIGIE_IT_HEROKU_TOKEN", "", {}}, {});
    actions::ProviderContext pctx{*http, clock, logging.secrets(), logging.logger("providers")};
    auto providers = actions::build_providers({spec}, pctx);
    REQUIRE(providers);
    auto runner = std::make_unique<actions::ActionRunner>(
        std::move(*providers), *http, logging.secrets(), clock, logging.logger("w1"),
        actions::RunnerOptions{1});
    runner->start();
    auto* r = runner.get();
    bus::JobWorker::Options o{"inproc://providers-jobs", "w1"};
    o.capacity = 10;
    workers.push_back(std::make_unique<bus::JobWorker>(
        bus, o,
        bus::JobWorker::AsyncHandler(
            [r](const bus::Job& job, std::function<void(bus::JobResult)> done) {
              if (job.kind == "action") return r->submit(job, std::move(done));
              done({job.id, bus::JobOutcome::ok, json::object(), "", Duration{0},
                    ""});  // replies: delivered
            }),
        clock, logging.logger("w1")));
    runners.push_back(std::move(runner));
  }

  ~Harness() {
    workers.clear();
    for (auto& r : runners) r->stop();
  }

  // What the daemon's engine loop does with engine output: jobs to the dispatcher.
  void deliver(rules::EngineOutput o) {
    REQUIRE(o.ok);
    for (auto& j : o.jobs) {
      dispatcher->dispatch({j.id, j.kind, j.payload, 1,
                            Duration{j.payload.value("timeout_ms", std::int64_t{60'000})}});
      jobs.push_back(std::move(j));
    }
  }

  // Results back as the daemon handles them, until `pred` holds (at most 5 s of real time).
  template <typename Pred>
  bool run_until(Pred pred) {
    for (int i = 0; i < 5000; ++i) {
      for (const auto& r : dispatcher->poll()) {
        deliver(engine->job_finished(r.job_id, r.outcome == bus::JobOutcome::ok, r.output));
        deliver(
            chat->action_finished(r.job_id, r.outcome == bus::JobOutcome::ok, r.output, r.reason));
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

TEST_CASE(
    "button, approval, heroku.restart against the fake Heroku, output in the thread, alert "
    "resolved") {
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

  h.click(kAlice, std::string(actions::slack::kActionRunPrefix) + "restart-app",
          std::to_string(alert));
  CHECK(h.of_kind("action").empty());
  CHECK(h.heroku.requests().empty());  // nothing before the approval
  const std::string req = h.request_id();
  REQUIRE_FALSE(req.empty());
  h.click(kBob, std::string(chat::kActionApprove), req);
  REQUIRE(h.of_kind("action").size() == 1);

  const std::string job = h.of_kind("action")[0].id;
  REQUIRE(h.run_until([&] { return h.store->open_alerts()->empty(); }));
  // Heroku got the documented request, once.
  const auto reqs = h.heroku.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "DELETE");
  CHECK(reqs[0].path == "/apps/shop-api/dynos");
  CHECK(reqs[0].header("Accept") == "application/vnd.heroku+json; version=3");
  CHECK(reqs[0].header("Authorization") == "Bearer hk-integration-token");
  CHECK(h.heroku.restarts() == std::vector<std::string>{"shop-api/*"});
  // The output went to the alert's thread, without the token.
  bool in_thread = false;
  for (const auto& r : h.of_kind("reply")) {
    const std::string text = r.payload.value("text", "");
    CHECK(text.find("hk-integration-token") == std::string::npos);
    if (text.find("`restart-app` app=shop-api finished") != std::string::npos &&
        text.find("Restarted all dynos of shop-api") != std::string::npos) {
      in_thread = r.payload.value("thread_ts", "") == "1700000000.000200";
    }
  }
  CHECK(in_thread);
  auto finished = h.store->find_event("action.finished:" + job);
  REQUIRE(finished);
  REQUIRE(finished->has_value());
  CHECK((*finished)->attrs["status"] == "ok");
  auto resolved = h.store->find_alert(alert);
  CHECK((*resolved)->state == "resolved");
}

TEST_CASE(
    "a Heroku error fails the run with the provider's reason in the thread, and the alert stays "
    "open") {
  Harness h;
  bus::Event down;
  down.source = "test";
  down.kind = "health";
  down.attrs = {{"app", "billing"}, {"up", false}};  // no such app on the fake
  h.event(down);
  const std::int64_t alert = (*h.store->open_alerts())[0].id;
  REQUIRE(h.store->set_slack_message({alert, "C0OPS", "1700000000.000300", false}));
  h.click(kAlice, std::string(actions::slack::kActionRunPrefix) + "restart-app",
          std::to_string(alert));
  h.click(kBob, std::string(chat::kActionApprove), h.request_id());
  REQUIRE(h.of_kind("action").size() == 1);
  const std::string job = h.of_kind("action")[0].id;
  REQUIRE(h.run_until([&] {
    auto e = h.store->find_event("action.finished:" + job);
    return e && e->has_value();
  }));
  auto finished = *h.store->find_event("action.finished:" + job);
  CHECK((*finished).attrs["status"] != "ok");
  bool explained = false;
  REQUIRE(h.run_until([&] {
    for (const auto& r : h.of_kind("reply")) {
      if (r.payload.value("text", "").find("Couldn't find that app.") != std::string::npos)
        explained = true;
    }
    return explained;
  }));
  CHECK(h.store->open_alerts()->size() == 1);
}
