// Chat commands on a real engine and store with a FakeClock: every built-in, aliases with each
// placeholder type, did-you-mean, access denials (commands and buttons), confirmation, two-person
// approval with expiry, approval state across a restart, and an audit row for each.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "vigie/actions/kinds.h"
#include "vigie/chat/commands.h"
#include "vigie/rules/engine.h"
#include "vigie/rules/rule_set.h"

using namespace vigie;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const char* kRules = R"(
[[rule]]
name = "disk-full"
description = "a disk above 90%"
when = 'kind == "disk" and used > 90'
group_by = ["host"]
severity = "critical"
summary = "disk full on {{labels.host}}"
offer = ["clean-tmp"]

[[action]]
name = "clean-tmp"
type = "exec"
argv = ["/bin/echo", "clean", "{{host}}"]
allow = ["oncall"]

[[action]]
name = "restart-app"
type = "exec"
argv = ["/bin/echo", "restart", "{{app}}"]
allow = ["oncall"]
confirm = true

[[action]]
name = "reboot"
type = "exec"
argv = ["/bin/echo", "reboot", "{{host}}"]
allow = ["oncall", "admins"]
approvals = 1
approval_timeout = "10m"

[[action]]
name = "scale"
type = "exec"
argv = ["/bin/echo", "{{app}}", "{{n}}", "{{env}}", "{{d}}", "{{why}}"]
allow = ["oncall"]

[[command]]
pattern = "restart {app:word}"
action = "restart-app"
help = "Restart an app"

[[command]]
pattern = "scale {app:word} {n:int} {env:choice(staging|production)} {d:duration} {why:text}"
action = "scale"
help = "Scale an app"
)";

const std::string kAlice = "U0ALICE";  // oncall
const std::string kBob = "U0BOB";      // oncall
const std::string kCarol = "U0CAROL";  // admins
const std::string kEve = "U0EVE";      // no role

struct Fixture {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  FakeClock clock;
  std::string path;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<rules::Engine> engine;
  std::unique_ptr<chat::ChatCommands> chat;
  rules::RuleSetPtr set;
  std::vector<store::Job> jobs;
  int seq = 0;

  explicit Fixture(std::string db = ":memory:", config::AccessConfig access = default_access()) : path(std::move(db)) {
    auto s = store::Store::open(path);
    REQUIRE(s);
    store = std::move(*s);
    config::KindCatalog kinds;
    actions::register_builtin_actions(kinds);
    rules::RuleLoadContext ctx;
    ctx.action_kinds = &kinds;
    ctx.roles = {"oncall", "admins"};
    config::Diagnostics d;
    set = rules::load_rule_texts({{"rules.toml", kRules}}, ctx, d);
    INFO(d.render_text());
    REQUIRE(set);
    engine = std::make_unique<rules::Engine>(*store, clock, logging.logger("engine"));
    engine->set_output_sink([this](rules::EngineOutput o) { take(std::move(o)); });
    engine->set_rules(set);
    REQUIRE(engine->restore());
    chat = std::make_unique<chat::ChatCommands>(*engine, *store, clock, logging.logger("chat"));
    chat->set_rules(set);
    chat->set_access(chat::Access(std::move(access)));
    chat->set_status_provider([] { return json{{"store", "ok"}, {"last reload", "none since start"}}; });
  }

  static config::AccessConfig default_access() {
    config::AccessConfig a;
    a.roles["oncall"] = {kAlice, kBob};
    a.roles["admins"] = {kCarol};
    return a;
  }

  void take(rules::EngineOutput o) {
    REQUIRE(o.ok);
    for (auto& j : o.jobs) jobs.push_back(std::move(j));
  }

  std::int64_t fire(const std::string& host) {
    bus::Event e;
    e.id = "e" + std::to_string(++seq);
    e.source = "test";
    e.kind = "disk";
    e.time = e.received_at = clock.system_now();
    e.attrs = {{"host", host}, {"used", 97}};
    take(engine->ingest({e}));
    const auto open = *store->open_alerts();
    for (const auto& a : open) {
      if (a.labels.value("host", "") == host) return a.id;
    }
    FAIL("no alert");
    return 0;
  }

  // Sends a command as `user`; returns the text of the replies it produced.
  std::string say(const std::string& user, const std::string& text, const std::string& via = "mention") {
    bus::Event e;
    e.id = "slack:cmd" + std::to_string(++seq);
    e.source = "slack";
    e.kind = "chat.command";
    e.time = e.received_at = clock.system_now();
    e.attrs = {{"user", user}, {"channel", "C0OPS"}, {"text", text}, {"via", via}, {"ts", "1.1"}, {"thread_ts", ""}};
    return replies_of(e);
  }

  std::string click(const std::string& user, const std::string& action_id, const std::string& value) {
    bus::Event e;
    e.id = "slack:act" + std::to_string(++seq);
    e.source = "slack";
    e.kind = "chat.action";
    e.time = e.received_at = clock.system_now();
    e.attrs = {{"user", user}, {"channel", "C0OPS"}, {"action_id", action_id}, {"value", value},
               {"response_url", "https://hooks.slack.com/actions/T/1/x"}};
    return replies_of(e);
  }

  std::string replies_of(const bus::Event& e) {
    const auto before = jobs.size();
    auto o = chat->handle(e);
    REQUIRE(o);
    take(std::move(*o));
    std::string text;
    for (auto i = before; i < jobs.size(); ++i) {
      if (jobs[i].kind == "reply") text += jobs[i].payload.value("text", "") + "\n";
    }
    return text;
  }

  std::vector<store::Job> jobs_of(const std::string& kind) {
    std::vector<store::Job> out;
    for (const auto& j : jobs) {
      if (j.kind == kind) out.push_back(j);
    }
    return out;
  }

  std::vector<store::AuditEntry> audit() { return *store->audit({std::nullopt, "", 1000}); }
  bool audited(const std::string& action, const std::string& user) {
    for (const auto& a : audit()) {
      if (a.action == action && a.user == user) return true;
    }
    return false;
  }
  std::string request_id_in_last_reply() {
    for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {
      const std::string blocks = it->payload.value("blocks", json::array()).dump();
      const auto at = blocks.find("req-");
      if (at != std::string::npos) return blocks.substr(at, blocks.find('"', at) - at);
    }
    return "";
  }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("help lists only what the asker may run, with examples, and aliases they may use") {
  Fixture f;
  const auto alice = f.say(kAlice, "help");
  CHECK(contains(alice, "`ack <alert-id>`"));
  CHECK(contains(alice, "e.g. `ack 12`"));
  CHECK(contains(alice, "`run <action> [key=value ...]`"));
  CHECK(contains(alice, "`restart <app>` — Restart an app"));
  const auto eve = f.say(kEve, "help");
  CHECK(contains(eve, "`alerts`"));  // read-only: open to everyone
  CHECK_FALSE(contains(eve, "`ack <alert-id>`"));
  CHECK_FALSE(contains(eve, "`run <action>"));
  CHECK_FALSE(contains(eve, "restart <app>"));
  // A DM is answered with a plain message, a slash command through its response_url.
  CHECK_FALSE(f.jobs.back().payload.contains("ephemeral"));  // ephemeral by default
  f.say(kEve, "help", "dm");
  CHECK(f.jobs.back().payload["ephemeral"] == false);
}

TEST_CASE("alerts, ack, resolve and history work from the chat and are audited") {
  Fixture f;
  const auto id = f.fire("web-1");
  REQUIRE(f.store->set_slack_message({id, "C0OPS", "1700000000.000100", false}));
  const auto list = f.say(kEve, "alerts");
  CHECK(contains(list, "#" + std::to_string(id) + " *disk-full* host=web-1 — firing"));
  CHECK(contains(list, "https://slack.com/archives/C0OPS/p1700000000000100"));

  CHECK(contains(f.say(kAlice, "ack " + std::to_string(id)), "Acknowledged #" + std::to_string(id)));
  CHECK((*f.store->find_alert(id))->acked_by == kAlice);
  CHECK(contains(f.say(kAlice, "ack #" + std::to_string(id)), "already acknowledged by <@U0ALICE>"));
  CHECK(contains(f.say(kBob, "resolve " + std::to_string(id)), "Resolved #"));
  CHECK((*f.store->find_alert(id))->state == "resolved");
  const auto history = f.say(kEve, "history " + std::to_string(id));
  CHECK(contains(history, "acknowledged by <@U0ALICE>"));
  CHECK(contains(history, "<@U0BOB> resolve"));
  CHECK(f.audited("ack", kAlice));
  CHECK(f.audited("resolve", kBob));
  CHECK(f.audited("command", kEve));

  CHECK(contains(f.say(kAlice, "ack abc"), "expects an alert id"));
  CHECK(contains(f.say(kAlice, "ack 9999"), "There is no alert #9999"));
  CHECK(contains(f.say(kAlice, "ack"), "Usage: `ack <alert-id>`"));
}

TEST_CASE("silence by rule, by alert id and by matchers, with a comment in quotes, then silences and unsilence") {
  Fixture f;
  const auto id = f.fire("web-1");
  auto reply = f.say(kAlice, "silence disk-full 2h \"swapping the disk\"");
  CHECK(contains(reply, "Silenced `rule=\"disk-full\"` for 2h"));
  auto active = *f.store->active_silences(f.clock.system_now());
  REQUIRE(active.size() == 1);
  CHECK(active[0].comment == "swapping the disk");
  CHECK(active[0].author == kAlice);
  CHECK(active[0].ends - active[0].starts == 2h);
  CHECK((*f.store->find_alert(id))->silenced);

  f.clock.advance(1s);  // silences list oldest first
  f.say(kAlice, "silence " + std::to_string(id) + " 30m");
  f.clock.advance(1s);
  f.say(kBob, "silence host=~\"db-.*\" 1h");
  active = *f.store->active_silences(f.clock.system_now());
  REQUIRE(active.size() == 3);
  CHECK(active[1].matchers == json::array({"rule=\"disk-full\"", "host=\"web-1\""}));
  CHECK(active[2].matchers == json::array({"host=~\"db-.*\""}));

  const auto list = f.say(kEve, "silences");
  CHECK(contains(list, active[0].id));
  CHECK(contains(f.say(kAlice, "unsilence " + active[0].id), "ended"));
  CHECK(f.store->active_silences(f.clock.system_now())->size() == 2);
  CHECK(contains(f.say(kAlice, "unsilence nope"), "No active silence `nope`"));
  CHECK(contains(f.say(kAlice, "silence disk-ful 2h"), "Did you mean `disk-full`?"));
  CHECK(contains(f.say(kAlice, "silence disk-full"), "for how long"));
  CHECK(f.audited("silence", kAlice));
  CHECK(f.audited("unsilence", kAlice));
}

TEST_CASE("rules, status, status of a host, and whoami answer read-only questions") {
  Fixture f;
  f.fire("web-1");
  CHECK(contains(f.say(kEve, "rules"), "*disk-full* (critical) — a disk above 90%"));
  const auto status = f.say(kEve, "status");
  CHECK(contains(status, "store: ok"));
  CHECK(contains(status, "open alerts: 1"));
  const auto host = f.say(kEve, "status web-1");
  CHECK(contains(host, "disk-full — firing"));
  CHECK(contains(host, "disk: 1 in the last hour"));
  CHECK(contains(f.say(kEve, "status nowhere"), "no open alerts"));
  CHECK(contains(f.say(kCarol, "whoami"), "your roles here: admins"));
  CHECK(contains(f.say(kEve, "whoami"), "your roles here: none"));
}

TEST_CASE("unknown commands get a did-you-mean, bad arguments say what was expected, open quotes are caught") {
  Fixture f;
  CHECK(contains(f.say(kAlice, "silnce disk-full 1h"), "I don't know `silnce`. Did you mean `silence`?"));
  CHECK(contains(f.say(kAlice, "restat shop"), "Did you mean `restart`?"));
  CHECK(contains(f.say(kAlice, "scale shop many production 1h because"), "expected"));
  CHECK(contains(f.say(kAlice, "silence \"disk-full 2h"), "A quote is left open"));
  CHECK(contains(f.say(kAlice, "run clean-tmpp host=a"), "Did you mean `clean-tmp`?"));
  CHECK(contains(f.say(kAlice, "run clean-tmp hots=a"), "Did you mean `host`?"));
  CHECK(contains(f.say(kAlice, "run clean-tmp"), "needs host=…"));
}

TEST_CASE("an alias with every placeholder type runs its action with the typed values") {
  Fixture f;
  f.say(kAlice, "scale shop-api 3 production 10m \"traffic spike\" tonight");
  const auto actions = f.jobs_of("action");
  REQUIRE(actions.size() == 1);
  const auto params = actions[0].payload["params"];
  CHECK(params["app"] == "shop-api");
  CHECK(params["n"] == "3");
  CHECK(params["env"] == "production");
  CHECK(params["d"] == "10m");
  CHECK(params["why"] == "traffic spike tonight");
  CHECK(actions[0].payload["requested_by"] == kAlice);
  CHECK(f.audited("run", kAlice));
  CHECK(contains(f.say(kAlice, "scale shop-api 3 qa 10m x"), "one of staging, production"));
}

TEST_CASE("a denial names the roles that may do it, for commands and for buttons, and is audited") {
  Fixture f;
  const auto id = f.fire("web-1");
  const auto run = f.say(kEve, "run clean-tmp host=web-1");
  CHECK(contains(run, "You may not run `clean-tmp`: it needs the role oncall (you have: none)"));
  CHECK(f.jobs_of("action").empty());
  CHECK(contains(f.say(kEve, "ack " + std::to_string(id)), "You may not use `ack`"));
  CHECK((*f.store->find_alert(id))->state == "firing");

  // A click by someone not allowed does nothing but reply to them alone.
  const auto before = f.jobs.size();
  const auto click = f.click(kEve, "vigie_ack", std::to_string(id));
  CHECK(contains(click, "You may not press that button"));
  CHECK((*f.store->find_alert(id))->state == "firing");
  REQUIRE(f.jobs.size() == before + 1);
  CHECK(f.jobs.back().payload.contains("response_url"));  // ephemeral, to the clicker
  CHECK(f.audited("denied", kEve));

  // Allowed: the click acknowledges.
  f.click(kBob, "vigie_ack", std::to_string(id));
  CHECK((*f.store->find_alert(id))->acked_by == kBob);
}

TEST_CASE("read-only commands can be narrowed to roles with [access] read") {
  auto access = Fixture::default_access();
  access.read = {"admins"};
  Fixture f(":memory:", access);
  CHECK(contains(f.say(kEve, "alerts"), "You may not use `alerts`: it needs the role admins"));
  CHECK(contains(f.say(kCarol, "alerts"), "No open alerts"));
}

TEST_CASE("an offered action's button runs it with the alert's labels, in the alert's thread") {
  Fixture f;
  const auto id = f.fire("web-7");
  REQUIRE(f.store->set_slack_message({id, "C0OPS", "1700000000.000200", false}));
  f.click(kAlice, "vigie_run:clean-tmp", std::to_string(id));
  const auto actions = f.jobs_of("action");
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].payload["params"]["host"] == "web-7");
  CHECK(actions[0].alert_id == id);
  CHECK(actions[0].payload["reply_to"]["thread_ts"] == "1700000000.000200");
  const auto running = f.jobs_of("reply").back();
  CHECK(running.payload["thread_ts"] == "1700000000.000200");
  CHECK(contains(running.payload["text"].get<std::string>(), "Running `clean-tmp` host=web-7"));

  // Its outcome comes back to the same thread, output capped, and is audited.
  std::string output;
  for (int i = 0; i < 40; ++i) output += "line " + std::to_string(i) + "\n";
  f.take(f.chat->action_finished(actions[0].id, true, {{"output", output}}, ""));
  const auto done = f.jobs_of("reply").back();
  CHECK(done.payload["thread_ts"] == "1700000000.000200");
  CHECK(contains(done.payload["text"].get<std::string>(), "`clean-tmp` host=web-7 finished"));
  CHECK(contains(done.payload["text"].get<std::string>(), "… 10 more lines"));
  CHECK(f.audited("action_result", kAlice));
}

TEST_CASE(
    "an action's output and failure reason reach Slack escaped: no mention, link or code-block "
    "escape") {
  Fixture f;
  const auto id = f.fire("web-7");
  f.click(kAlice, "vigie_run:clean-tmp", std::to_string(id));
  auto actions = f.jobs_of("action");
  REQUIRE(actions.size() == 1);
  f.take(f.chat->action_finished(
      actions[0].id, true,
      {{"output", "ok <!channel> <@U0BOB>\r\n```\n<http://evil.example|x> & more"}}, ""));
  const std::string done = f.jobs_of("reply").back().payload["text"].get<std::string>();
  CHECK_FALSE(contains(done, "<!channel>"));
  CHECK_FALSE(contains(done, "<@U0BOB>"));
  CHECK_FALSE(contains(done, "<http://evil"));
  CHECK(contains(
      done, "ok &lt;!channel&gt; &lt;@U0BOB&gt;\n'''\n&lt;http://evil.example|x&gt; &amp; more"));
  f.take(f.chat->action_finished(actions[0].id, false, json::object(),
                                 "Heroku answered 500: <!here> down"));
  const std::string failed = f.jobs_of("reply").back().payload["text"].get<std::string>();
  CHECK(contains(failed, "failed: Heroku answered 500: &lt;!here&gt; down"));
}

TEST_CASE("capped_code_block escapes what it shows and cannot be closed from inside") {
  CHECK(chat::capped_code_block("a <!channel>\n```b & c\r\n", 5) ==
        "```\na &lt;!channel&gt;\n'''b &amp; c\n```");
  CHECK(chat::code_escape("<@U1>") == "&lt;@U1&gt;");
}

TEST_CASE("confirm = true asks the requester to press Confirm, nobody else can, and Cancel drops it") {
  Fixture f;
  const auto ask = f.say(kAlice, "restart shop-api");
  CHECK(contains(ask, "Press Confirm"));
  CHECK(f.jobs_of("action").empty());
  const auto req = f.request_id_in_last_reply();
  REQUIRE_FALSE(req.empty());
  CHECK(contains(f.click(kBob, "vigie_confirm", req), "Only <@U0ALICE> can confirm this"));
  CHECK(f.jobs_of("action").empty());
  f.click(kAlice, "vigie_confirm", req);
  REQUIRE(f.jobs_of("action").size() == 1);
  CHECK(f.jobs_of("action")[0].payload["params"]["app"] == "shop-api");
  CHECK(contains(f.click(kAlice, "vigie_confirm", req), "already approved"));
  CHECK(f.jobs_of("action").size() == 1);
  CHECK(f.audited("confirmed", kAlice));

  f.say(kAlice, "restart billing");
  const auto second = f.request_id_in_last_reply();
  f.click(kAlice, "vigie_cancel", second);
  CHECK(f.jobs_of("action").size() == 1);
  CHECK((*f.store->find_chat_request(second))->state == "cancelled");
}

TEST_CASE("two-person approval: the requester cannot approve, another allowed user can, others are refused") {
  Fixture f;
  const auto ask = f.say(kAlice, "run reboot host=db-1");
  CHECK(contains(ask, "asks to run `reboot` host=db-1. It needs 1 approval from another oncall or admins"));
  const auto approval_post = f.jobs_of("reply").back();
  CHECK(approval_post.payload["ephemeral"] == false);  // everyone in the channel sees it
  const auto req = f.request_id_in_last_reply();
  REQUIRE_FALSE(req.empty());

  CHECK(contains(f.click(kAlice, "vigie_approve", req), "someone else must approve it"));
  CHECK(contains(f.click(kEve, "vigie_approve", req), "You may not approve this request"));
  CHECK(f.jobs_of("action").empty());
  f.click(kCarol, "vigie_approve", req);
  const auto actions = f.jobs_of("action");
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].payload["approved_by"] == json::array({kCarol}));
  CHECK(actions[0].payload["requested_by"] == kAlice);
  CHECK(f.audited("approval_requested", kAlice));
  CHECK(f.audited("approved", kCarol));
  CHECK(f.audited("denied", kEve));

  // A denial is announced and nothing runs.
  f.say(kAlice, "run reboot host=db-2");
  const auto other = f.request_id_in_last_reply();
  const auto denied = f.click(kBob, "vigie_deny", other);
  CHECK(contains(denied, "<@U0BOB> denied `reboot` host=db-2"));
  CHECK(f.jobs_of("action").size() == 1);
}

TEST_CASE("an approval request expires after its timeout on the injected clock, announced, and cannot be approved after") {
  Fixture f;
  f.say(kAlice, "run reboot host=db-1");
  const auto req = f.request_id_in_last_reply();
  f.clock.advance(9min);
  f.take(f.chat->tick());
  CHECK((*f.store->find_chat_request(req))->state == "awaiting_approval");
  CHECK(f.chat->next_deadline() == f.clock.system_now() + 1min);
  f.clock.advance(1min);
  f.take(f.chat->tick());
  CHECK((*f.store->find_chat_request(req))->state == "expired");
  CHECK(contains(f.jobs_of("reply").back().payload["text"].get<std::string>(), "expired: no approval in time"));
  CHECK(contains(f.click(kCarol, "vigie_approve", req), "already expired"));
  CHECK(f.jobs_of("action").empty());
  CHECK(f.audited("expired", kAlice));
}

TEST_CASE("a pending approval survives an engine restart and can be approved after it") {
  const auto db = (std::filesystem::temp_directory_path() / ("vigie-chat-" + std::to_string(::getpid()) + ".db")).string();
  std::filesystem::remove(db);
  std::string req;
  {
    Fixture f(db);
    f.say(kAlice, "run reboot host=db-1");
    req = f.request_id_in_last_reply();
    REQUIRE_FALSE(req.empty());
  }
  {
    Fixture f(db);
    f.click(kBob, "vigie_approve", req);
    REQUIRE(f.jobs_of("action").size() == 1);
    CHECK(f.jobs_of("action")[0].payload["params"]["host"] == "db-1");
  }
  std::filesystem::remove(db);
  std::filesystem::remove(db + "-wal");
  std::filesystem::remove(db + "-shm");
}

TEST_CASE("logs queues one bounded search job for a worker with where to reply, and is audited") {
  Fixture f;
  const auto before = f.jobs.size();
  CHECK(f.say(kEve, "logs \"connection refused\" worker 2h").empty());  // the worker answers, not the engine
  REQUIRE(f.jobs.size() == before + 1);
  const auto job = f.jobs.back();
  CHECK(job.kind == "logs");
  const auto& p = job.payload;
  CHECK(p["query"] == "\"connection refused\" worker");  // a quoted phrase stays a phrase
  CHECK(p["since"] == "2h");
  CHECK(p["max_time_ms"] == to_unix_ms(f.clock.system_now()));
  CHECK(p["min_time_ms"] == to_unix_ms(f.clock.system_now() - 2h));
  CHECK(p["limit"] == 100);
  CHECK(p["max_lines"] == 30);
  CHECK(p["reply_to"] == json{{"user", kEve}, {"channel", "C0OPS"}});
  CHECK(f.audited("logs", kEve));

  // Without a since: the last hour; a lone duration is the query itself.
  f.say(kEve, "logs 500");
  CHECK(f.jobs.back().payload["query"] == "500");
  CHECK(f.jobs.back().payload["since"] == "1h");

  SECTION("a bad request gets usage, not a search") {
    const auto n = f.jobs_of("logs").size();
    CHECK(contains(f.say(kEve, "logs"), "Usage: `logs <query> [since]`"));
    CHECK(contains(f.say(kEve, "logs error 30d"), "between 1s and 7d"));
    CHECK(f.jobs_of("logs").size() == n);
  }
}

TEST_CASE("logs is a read-only command that [access] read can narrow") {
  auto access = Fixture::default_access();
  access.read = {"admins"};
  Fixture f(":memory:", access);
  CHECK(contains(f.say(kEve, "logs error"), "You may not use `logs`: it needs the role admins"));
  CHECK(f.jobs_of("logs").empty());
  f.say(kCarol, "logs error");
  CHECK(f.jobs_of("logs").size() == 1);
}

TEST_CASE("status of an app answers from what the collectors last saw and the alerts firing for it") {
  Fixture f;
  std::vector<bus::Event> seen;
  auto event = [&](std::string id, std::string kind, json attrs, Duration ago) {
    bus::Event e;
    e.id = std::move(id);
    e.source = kind.substr(0, kind.find('.'));
    e.kind = std::move(kind);
    e.time = e.received_at = f.clock.system_now() - ago;
    e.attrs = std::move(attrs);
    seen.push_back(std::move(e));
  };
  event("nr1", "newrelic.app_health",
        {{"app", "shop-api"}, {"health_status", "red"}, {"response_time", 250}, {"error_rate", 0.07},
         {"throughput", 1200}},
        20min);
  event("nr2", "newrelic.app_health",
        {{"app", "shop-api"}, {"health_status", "orange"}, {"response_time", 180}, {"error_rate", 0.02},
         {"throughput", 1100}},
        5min);
  event("nr3", "newrelic.app_health", {{"app", "other-app"}, {"health_status", "green"}}, 1min);
  event("s1", "sentry.issue",
        {{"project", "shop-api"}, {"issue_id", "11"}, {"short_id", "SHOP-1"}, {"title", "KeyError: cart"},
         {"count", 40}, {"status", "unresolved"}},
        30min);
  event("s2", "sentry.issue",
        {{"project", "shop-api"}, {"issue_id", "12"}, {"short_id", "SHOP-2"}, {"title", "Timeout in checkout"},
         {"count", "7"}, {"status", "unresolved"}},
        10min);
  event("s3", "sentry.issue",
        {{"project", "shop-api"}, {"issue_id", "13"}, {"short_id", "SHOP-3"}, {"title", "Fixed thing"},
         {"count", 99}, {"status", "resolved"}},
        10min);
  event("p1", "papertrail.log",
        {{"app", "shop-api"}, {"hostname", "web-1"}, {"program", "app/web.1"}, {"level", "error"},
         {"message", "checkout failed: card declined"}},
        3min);
  event("p2", "papertrail.log",
        {{"app", "shop-api"}, {"hostname", "web-1"}, {"program", "app/web.1"}, {"level", "info"},
         {"message", "GET /health 200"}},
        2min);
  event("p3", "papertrail.log",
        {{"app", "shop-api"}, {"hostname", "web-2"}, {"program", "app/web.2"}, {"level", "error"},
         {"message", "old error"}},
        2h);
  REQUIRE(f.store->insert_events(seen));
  bus::Event disk;
  disk.id = "d1";
  disk.source = "test";
  disk.kind = "disk";
  disk.time = disk.received_at = f.clock.system_now();
  disk.attrs = {{"host", "shop-api"}, {"used", 97}};
  f.take(f.engine->ingest({disk}));

  const auto text = f.say(kEve, "status shop-api");
  INFO(text);
  CHECK(contains(text, "*shop-api*"));
  CHECK(contains(text, "disk-full — firing"));
  // The latest NewRelic report only.
  CHECK(contains(text, "NewRelic: health orange, response time (ms) 180, error rate 0.02, throughput (rpm) 1100"));
  CHECK_FALSE(contains(text, "green"));
  // Open Sentry issues with their counts, the most frequent first; resolved ones are left out.
  CHECK(contains(text, "Sentry: 2 open issues"));
  CHECK(text.find("SHOP-1 KeyError: cart ×40") < text.find("SHOP-2 Timeout in checkout ×7"));
  CHECK_FALSE(contains(text, "SHOP-3"));
  // Papertrail errors of the last hour.
  CHECK(contains(text, "Papertrail: 1 error line in the last hour (of 2 lines seen)"));
  CHECK(contains(text, "web-1 app/web.1: checkout failed: card declined"));
  CHECK_FALSE(contains(text, "old error"));

  const auto host = f.say(kEve, "status web-2");
  CHECK(contains(host, "no open alerts"));
  CHECK(contains(host, "nothing from NewRelic, Sentry or Papertrail about it lately"));
}
