// The engine's half of actions, on a real engine and store with a FakeClock: hostile parameters
// refused before anything runs, options rendered into the job (argv elements verbatim, URL
// percent-encoded, JSON body escaped), the kill switch, cooldown (saying when and by whom), rate
// limit and one run at a time per target — persisted across a restart —, dry runs that record
// no run, and an action.finished result resolving its alert through a rule's resolve_when.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "vigie/actions/kinds.h"
#include "vigie/chat/action_dispatch.h"
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
resolve_when = 'kind == "action.finished" and action == "restart-app" and status == "ok"'
offer = ["restart-app"]

[[action]]
name = "restart-app"
type = "exec"
argv = ["/bin/echo", "restart", "{{app}}"]
allow = ["oncall"]
cooldown = "10m"
params = { app = "regex:[a-z][a-z0-9-]*" }

[[action]]
name = "deploy"
type = "exec"
argv = ["/usr/local/bin/deploy", "--app", "{{app}}"]
allow = ["oncall"]
rate_limit = { max = 2, within = "1h" }
timeout = "5m"

[[action]]
name = "hook"
type = "http"
url = "https://ci.example/hooks/{{app}}"
body = '{"app": "{{app}}"}'
headers = { X-App = "{{app}}" }
allow = ["oncall"]
dry_run = true
params = { app = "text" }
)";

const std::string kAlice = "U0ALICE";
const std::string kBob = "U0BOB";

struct Fixture {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  FakeClock& clock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<rules::Engine> engine;
  std::unique_ptr<chat::ChatCommands> chat;
  std::vector<store::Job> jobs;
  int seq = 0;

  Fixture(FakeClock& c, const std::string& path) : clock(c) {
    auto s = store::Store::open(path);
    REQUIRE(s);
    store = std::move(*s);
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
    engine->set_output_sink([this](rules::EngineOutput o) { take(std::move(o)); });
    engine->set_rules(set);
    REQUIRE(engine->restore());
    chat = std::make_unique<chat::ChatCommands>(*engine, *store, clock, logging.logger("chat"));
    chat->set_rules(set);
    config::AccessConfig a;
    a.roles["oncall"] = {kAlice, kBob};
    chat->set_access(chat::Access(a));
  }

  void take(rules::EngineOutput o) {
    REQUIRE(o.ok);
    for (auto& j : o.jobs) jobs.push_back(std::move(j));
  }

  std::string say(const std::string& user, const std::string& text) {
    bus::Event e;
    e.id = "slack:cmd" + std::to_string(++seq) + ":" + std::to_string(to_unix_ms(clock.system_now()));
    e.source = "slack";
    e.kind = "chat.command";
    e.time = e.received_at = clock.system_now();
    e.attrs = {{"user", user}, {"channel", "C0OPS"}, {"text", text}, {"via", "mention"}, {"thread_ts", ""}};
    const auto before = jobs.size();
    auto o = chat->handle(e);
    REQUIRE(o);
    take(std::move(*o));
    std::string out;
    for (auto i = before; i < jobs.size(); ++i) {
      if (jobs[i].kind == "reply") out += jobs[i].payload.value("text", "") + "\n";
    }
    return out;
  }

  std::vector<store::Job> actions() {
    std::vector<store::Job> out;
    for (const auto& j : jobs) {
      if (j.kind == "action") out.push_back(j);
    }
    return out;
  }

  void finish(const store::Job& job, bool ok, json output = {{"output", "done"}, {"details", {{"exit_code", 0}}}}) {
    take(engine->job_finished(job.id, ok, output));
    take(chat->action_finished(job.id, ok, output, ok ? "" : "exited with status 1"));
  }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct TempDb {
  std::string path = (std::filesystem::temp_directory_path() / ("vigie-guard-" + std::to_string(::getpid()) + ".db")).string();
  ~TempDb() {
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path + ext);
  }
};

}  // namespace

TEST_CASE("hostile parameters are refused before anything is dispatched, and audited") {
  FakeClock clock;
  Fixture f(clock, ":memory:");
  for (const std::string hostile : {"\"app=a; rm -rf /\"", "\"app=$(id)\"", "app=-rf", "\"app=a\nb\""}) {
    INFO(hostile);
    CHECK(contains(f.say(kAlice, "run restart-app " + hostile), ":no_entry: `app` must"));
  }
  // A word by default: a deploy of "../x" or "-x" is refused too.
  CHECK(contains(f.say(kAlice, "run deploy app=../etc"), "must be one word"));
  CHECK(contains(f.say(kAlice, "run deploy app=--force"), "must be one word"));
  CHECK(f.actions().empty());
  std::size_t refused = 0;
  const auto rows = f.store->audit({std::nullopt, "", 100});
  REQUIRE(rows);
  for (const auto& a : *rows) refused += a.action == "refused";
  CHECK(refused == 6);
}

TEST_CASE("the job carries the rendered options, the timeout and the target") {
  FakeClock clock;
  Fixture f(clock, ":memory:");
  f.say(kAlice, "run deploy app=shop-api");
  REQUIRE(f.actions().size() == 1);
  const json p = f.actions()[0].payload;
  CHECK(p["options"]["argv"] == json({"/usr/local/bin/deploy", "--app", "shop-api"}));
  CHECK(p["timeout_ms"] == 300'000);
  CHECK(p["target"] == "app=shop-api");
  CHECK(p["type"] == "exec");

  // http: percent-encoded in the URL, JSON-escaped in the body, verbatim in a header.
  config::KindCatalog kinds;
  actions::register_builtin_actions(kinds);
  rules::RuleLoadContext ctx;
  ctx.action_kinds = &kinds;
  ctx.roles = {"oncall"};
  config::Diagnostics d;
  auto set = rules::load_rule_texts({{"rules.toml", kRules}}, ctx, d);
  REQUIRE(set);
  const rules::ActionDef& hook = *set->find_action("hook");
  auto opts = chat::render_options(hook, {{"app", "a b\"/c"}});
  REQUIRE(opts);
  CHECK((*opts)["url"] == "https://ci.example/hooks/a%20b%22%2Fc");
  CHECK(json::parse((*opts)["body"].get<std::string>())["app"] == "a b\"/c");
  CHECK((*opts)["headers"]["X-App"] == "a b\"/c");
}

TEST_CASE("one run at a time per target, then a cooldown that says when it ran and who ran it") {
  FakeClock clock;
  Fixture f(clock, ":memory:");
  f.say(kAlice, "run restart-app app=shop-api");
  REQUIRE(f.actions().size() == 1);
  clock.advance(30s);
  CHECK(contains(f.say(kBob, "run restart-app app=shop-api"),
                 "`restart-app` app=shop-api is already running (started 30s ago by <@U0ALICE>)"));
  // Another target is not held back.
  f.say(kBob, "run restart-app app=billing");
  REQUIRE(f.actions().size() == 2);
  f.finish(f.actions()[0], true);
  clock.advance(3min);
  const auto refused = f.say(kBob, "run restart-app app=shop-api");
  CHECK(contains(refused, "`restart-app` app=shop-api ran 3m30s ago by <@U0ALICE> (it succeeded); cooldown 10m, next at " +
                              format_rfc3339(clock.system_now() - 3min - 30s + 10min)));
  CHECK(f.actions().size() == 2);
  clock.advance(7min);
  f.say(kBob, "run restart-app app=shop-api");
  CHECK(f.actions().size() == 3);
}

TEST_CASE("a rate limit counts runs per target within its window") {
  FakeClock clock;
  Fixture f(clock, ":memory:");
  for (int i = 0; i < 2; ++i) {
    f.say(kAlice, "run deploy app=shop-api");
    REQUIRE(f.actions().size() == static_cast<std::size_t>(i + 1));
    f.finish(f.actions().back(), i == 0);
    clock.advance(10min);
  }
  CHECK(contains(f.say(kAlice, "run deploy app=shop-api"),
                 "ran 2 times in the last 1h (rate limit 2 per 1h); next at " +
                     format_rfc3339(clock.system_now() - 20min + 1h)));
  clock.advance(40min);
  f.say(kAlice, "run deploy app=shop-api");
  CHECK(f.actions().size() == 3);
}

TEST_CASE("guardrails hold across a restart of the engine") {
  FakeClock clock;
  TempDb db;
  {
    Fixture f(clock, db.path);
    f.say(kAlice, "run restart-app app=shop-api");
    REQUIRE(f.actions().size() == 1);
  }
  clock.advance(1min);
  Fixture again(clock, db.path);
  CHECK(contains(again.say(kBob, "run restart-app app=shop-api"), "is already running (started 1m ago by <@U0ALICE>)"));
}

TEST_CASE("the kill switch refuses every action and a dry run records no run") {
  FakeClock clock;
  Fixture f(clock, ":memory:");
  f.chat->set_actions_enabled(false);
  CHECK(contains(f.say(kAlice, "run deploy app=shop-api"), "Actions are switched off (`[actions] enabled = false`"));
  CHECK(f.actions().empty());
  f.chat->set_actions_enabled(true);
  CHECK(contains(f.say(kAlice, "run hook app=x"), "Dry run of `hook` app=x"));
  CHECK(contains(f.say(kAlice, "run hook app=x"), "Dry run of `hook` app=x"));  // no cooldown, no "running"
  REQUIRE(f.actions().size() == 2);
  CHECK(f.actions()[0].payload["dry_run"] == true);
  CHECK(f.store->action_runs("hook", "app=x", clock.system_now() - 1h)->empty());
}

TEST_CASE("an action.finished result resolves its alert through resolve_when and is stored with its attributes") {
  FakeClock clock;
  Fixture f(clock, ":memory:");
  bus::Event down;
  down.id = "h1";
  down.source = "test";
  down.kind = "health";
  down.time = down.received_at = clock.system_now();
  down.attrs = {{"app", "shop-api"}, {"up", false}};
  f.take(f.engine->ingest({down}));
  REQUIRE(f.store->open_alerts()->size() == 1);
  f.say(kAlice, "run restart-app app=shop-api");
  REQUIRE(f.actions().size() == 1);
  f.finish(f.actions()[0], false);  // a failed restart resolves nothing
  CHECK(f.store->open_alerts()->size() == 1);
  clock.advance(11min);
  f.say(kAlice, "run restart-app app=shop-api");
  REQUIRE(f.actions().size() == 2);
  f.finish(f.actions()[1], true);
  CHECK(f.store->open_alerts()->empty());
  auto e = f.store->find_event("action.finished:" + f.actions()[1].id);
  REQUIRE(e);
  REQUIRE(e->has_value());
  CHECK((*e)->attrs["app"] == "shop-api");
  CHECK((*e)->attrs["status"] == "ok");
  CHECK((*e)->attrs["exit_code"] == 0);
  CHECK((*e)->attrs["requested_by"] == kAlice);
  CHECK((*e)->attrs["target"] == "app=shop-api");
}
