// The alert engine on a FakeClock: firing, updating in place, every resolution path, new
// occurrences, acknowledgement, silences, inhibition, escalation, repeat, the outbox, restart.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "vigie/actions/kinds.h"
#include "vigie/rules/engine.h"

using namespace vigie;
using namespace vigie::rules;
using namespace std::chrono_literals;

namespace {

struct Harness {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  FakeClock clock;
  std::string path;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<Engine> engine;
  std::vector<store::Job> jobs;          // every job emitted, in order
  std::vector<bus::Event> transitions;   // every alert.* / silence.* event
  static inline int seq = 0;  // shared by every harness: ids stay unique across a restart

  explicit Harness(const std::string& rules_text, std::string db = ":memory:") : path(std::move(db)) {
    auto s = store::Store::open(path);
    REQUIRE(s);
    store = std::move(*s);
    start(rules_text);
  }

  void start(const std::string& rules_text) {
    config::KindCatalog kinds;
    actions::register_builtin_actions(kinds);
    RuleLoadContext ctx;
    ctx.action_kinds = &kinds;
    ctx.roles = {"oncall"};
    config::Diagnostics d;
    auto set = load_rule_texts({{"rules.toml", rules_text}}, ctx, d);
    INFO(d.render_text());
    REQUIRE(set);
    engine = std::make_unique<Engine>(*store, clock, logging.logger("engine"), EngineOptions{"#ops", 30s, 3});
    engine->set_output_sink([this](EngineOutput out) { take(std::move(out)); });
    engine->set_rules(set);
    REQUIRE(engine->restore());
  }

  void take(EngineOutput out) {
    REQUIRE(out.ok);
    for (auto& j : out.jobs) jobs.push_back(std::move(j));
    for (auto& e : out.events) {
      if (e.source == "vigie") transitions.push_back(std::move(e));
    }
  }

  void send(std::string kind, nlohmann::json attrs, std::optional<std::string> id = {}) {
    bus::Event e;
    e.id = id.value_or("e" + std::to_string(++seq));
    e.source = "test";
    e.kind = std::move(kind);
    e.time = clock.system_now();
    e.received_at = clock.system_now();
    e.attrs = std::move(attrs);
    take(engine->ingest({e}));
  }

  std::vector<store::Alert> open_alerts() { return *store->open_alerts(); }
  std::size_t count_jobs(const std::string& type) {
    return static_cast<std::size_t>(std::count_if(jobs.begin(), jobs.end(), [&](const store::Job& j) {
      return j.payload.value("type", "") == type;
    }));
  }
  std::size_t count_transitions(const std::string& kind) {
    return static_cast<std::size_t>(std::count_if(transitions.begin(), transitions.end(),
                                                  [&](const bus::Event& e) { return e.kind == kind; }));
  }
};

const std::string kBurst = R"(
[[rule]]
name = "burst"
when = 'kind == "sentry.issue" and level == "error"'
count = { at_least = 3, within = "10m" }
group_by = ["project"]
notify = ["#ops"]
summary = "{{count}} errors in {{labels.project}}: {{title}}"
)";

nlohmann::json err(std::string project = "shop-api") {
  return {{"level", "error"}, {"project", std::move(project)}, {"title", "KeyError"}};
}

}  // namespace

TEST_CASE("a count rule fires once on the Nth event and posts one message") {
  Harness h(kBurst);
  h.send("sentry.issue", err());
  h.clock.advance(1min);
  h.send("sentry.issue", err());
  CHECK(h.open_alerts().empty());
  h.clock.advance(1min);
  h.send("sentry.issue", err());
  auto open = h.open_alerts();
  REQUIRE(open.size() == 1);
  CHECK(open[0].rule == "burst");
  CHECK(open[0].fingerprint == "burst{project=\"shop-api\"}");
  CHECK(open[0].labels == nlohmann::json{{"project", "shop-api"}});
  CHECK(open[0].count == 3);
  REQUIRE(h.count_jobs("post") == 1);
  const auto& post = h.jobs[0];
  CHECK(post.payload["channels"] == nlohmann::json::array({"#ops"}));
  CHECK(post.payload["rule"]["summary"] == "3 errors in shop-api: KeyError");
  CHECK(h.count_transitions("alert.fired") == 1);
  // The job is in the outbox, committed with the alert.
  auto outbox = *h.store->unfinished_jobs();
  REQUIRE(outbox.size() == 1);
  CHECK(outbox[0].id == post.id);
}

TEST_CASE("re-firing updates the same alert: never a second alert or a second post") {
  Harness h(kBurst);
  for (int i = 0; i < 3; ++i) h.send("sentry.issue", err());
  for (int i = 0; i < 10; ++i) {
    h.clock.advance(5s);
    h.send("sentry.issue", err());
  }
  auto open = h.open_alerts();
  REQUIRE(open.size() == 1);
  CHECK(open[0].count == 13);
  CHECK(h.count_jobs("post") == 1);
  // Updates are coalesced: at most one per 30 s of messages, the rest folded into the next.
  CHECK(h.count_jobs("update") <= 2);
  h.clock.advance(1min);
  CHECK(h.jobs.back().payload["alert"]["count"] == 13);
}

TEST_CASE("groups are separate alerts") {
  Harness h(kBurst);
  for (int i = 0; i < 3; ++i) h.send("sentry.issue", err("shop-api"));
  for (int i = 0; i < 3; ++i) h.send("sentry.issue", err("billing"));
  CHECK(h.open_alerts().size() == 2);
}

TEST_CASE("the window clearing resolves, firing again is a new occurrence linked to the last") {
  Harness h(kBurst);
  for (int i = 0; i < 3; ++i) h.send("sentry.issue", err());
  const auto first = h.open_alerts().at(0);
  h.clock.advance(10min);
  CHECK(h.open_alerts().size() == 1);
  h.clock.advance(1ms);  // the oldest event leaves the window
  CHECK(h.open_alerts().empty());
  CHECK(h.count_transitions("alert.resolved") == 1);
  CHECK(h.count_jobs("resolved") == 1);  // the posted message is updated
  for (int i = 0; i < 3; ++i) h.send("sentry.issue", err());
  auto again = h.open_alerts();
  REQUIRE(again.size() == 1);
  CHECK(again[0].id != first.id);
  CHECK(again[0].occurrence == 2);
  CHECK(again[0].previous_id == first.id);
}

TEST_CASE("resolve_when resolves its group's alert") {
  Harness h(R"(
[[rule]]
name = "violation"
when = 'kind == "newrelic.violation" and not (closed_at exists)'
group_by = ["violation_id"]
resolve_when = 'kind == "newrelic.violation" and closed_at exists'
)");
  h.send("newrelic.violation", {{"violation_id", "7"}});
  h.send("newrelic.violation", {{"violation_id", "8"}});
  CHECK(h.open_alerts().size() == 2);
  h.send("newrelic.violation", {{"violation_id", "7"}, {"closed_at", 1700000000000}});
  auto open = h.open_alerts();
  REQUIRE(open.size() == 1);
  CHECK(open[0].labels["violation_id"] == "8");
}

TEST_CASE("resolve_after resolves after a quiet period") {
  Harness h(R"(
[[rule]]
name = "oom"
when = 'kind == "papertrail.log" and message contains "Out of memory"'
group_by = ["hostname"]
resolve_after = "30m"
)");
  h.send("papertrail.log", {{"hostname", "web-1"}, {"message", "Out of memory: Killed process"}});
  h.clock.advance(20min);
  h.send("papertrail.log", {{"hostname", "web-1"}, {"message", "Out of memory: Killed process"}});
  h.clock.advance(29min);
  CHECK(h.open_alerts().size() == 1);
  h.clock.advance(1min);
  CHECK(h.open_alerts().empty());
}

TEST_CASE("a for rule fires after the span and resolves when the events stop") {
  Harness h(R"(
[[rule]]
name = "error-rate"
when = 'kind == "newrelic.app_health" and error_rate > 0.05'
for = "5m"
max_gap = "2m"
group_by = ["app"]
)");
  for (int m = 0; m <= 4; ++m) {
    h.send("newrelic.app_health", {{"app", "shop-api"}, {"error_rate", 0.07}});
    h.clock.advance(1min);
  }
  CHECK(h.open_alerts().empty());
  h.send("newrelic.app_health", {{"app", "shop-api"}, {"error_rate", 0.08}});  // at 5 min
  CHECK(h.open_alerts().size() == 1);
  h.clock.advance(2min);
  CHECK(h.open_alerts().size() == 1);
  h.clock.advance(1ms);
  CHECK(h.open_alerts().empty());
}

TEST_CASE("absent_for fires when the heartbeat is missing and resolves when it returns") {
  Harness h(R"(
[[rule]]
name = "backup-missing"
when = 'kind == "papertrail.log" and program == "backup" and message contains "finished"'
absent_for = "25h"
)");
  h.clock.advance(24h);
  h.send("papertrail.log", {{"program", "backup"}, {"message", "backup finished"}});
  h.clock.advance(25h - 1ms);
  CHECK(h.open_alerts().empty());
  h.clock.advance(1ms);
  REQUIRE(h.open_alerts().size() == 1);
  CHECK(h.count_jobs("post") == 1);
  h.send("papertrail.log", {{"program", "backup"}, {"message", "backup finished"}});
  CHECK(h.open_alerts().empty());
}

TEST_CASE("acknowledging stops escalation, unacknowledged alerts escalate once, on time") {
  const std::string rules = kBurst + R"(escalate = { after = "15m", notify = ["#ops-escalation"], mention = ["@oncall"] }
repeat = "1h"
)";
  SECTION("escalates after 15 minutes, once, then repeats hourly") {
    Harness h(rules);
    for (int i = 0; i < 3; ++i) h.send("sentry.issue", err());
    // Errors keep coming, so the alert keeps firing.
    for (int i = 0; i < 7; ++i) {
      h.clock.advance(2min);
      h.send("sentry.issue", err());
    }
    h.clock.advance(1min - 1ms);
    CHECK(h.count_jobs("escalate") == 0);
    h.clock.advance(1ms);  // 15 minutes after firing
    REQUIRE(h.count_jobs("escalate") == 1);
    const auto& esc = *std::find_if(h.jobs.begin(), h.jobs.end(), [](auto& j) { return j.payload["type"] == "escalate"; });
    CHECK(esc.payload["channels"] == nlohmann::json::array({"#ops-escalation"}));
    CHECK(esc.payload["mention"] == nlohmann::json::array({"@oncall"}));
    // keep the condition holding so the alert stays open
    for (int i = 0; i < 35; ++i) {
      h.clock.advance(2min);
      h.send("sentry.issue", err());
    }
    CHECK(h.open_alerts().size() == 1);
    CHECK(h.count_jobs("escalate") == 1);
    CHECK(h.count_jobs("repeat") >= 1);
  }
  SECTION("an acknowledged alert neither escalates nor repeats") {
    Harness h(rules);
    for (int i = 0; i < 3; ++i) h.send("sentry.issue", err());
    const auto id = h.open_alerts().at(0).id;
    auto acked = h.engine->acknowledge(id, "U024BE7LH");
    INFO(acked.error);
    h.take(std::move(acked));
    auto a = *h.store->find_alert(id);
    CHECK(a->state == "acknowledged");
    CHECK(a->acked_by == "U024BE7LH");
    CHECK(h.count_transitions("alert.acked") == 1);
    CHECK(h.jobs.back().payload["alert"]["acked_by"] == "U024BE7LH");
    for (int i = 0; i < 40; ++i) {
      h.clock.advance(2min);
      h.send("sentry.issue", err());
    }
    REQUIRE(h.open_alerts().size() == 1);
    CHECK(h.count_jobs("escalate") == 0);
    CHECK(h.count_jobs("repeat") == 0);
    h.take(h.engine->resolve(id, "U024BE7LH"));
    CHECK(h.open_alerts().empty());
    CHECK((*h.store->find_alert(id))->data["resolved_by"] == "U024BE7LH");
  }
}

TEST_CASE("silences: no post while silenced, the message still updated on resolve, announced") {
  Harness h(kBurst);
  store::Silence s;
  s.id = "sil-1";
  s.matchers = {"rule=\"burst\"", "project=~\"shop-.*\""};
  s.ends = h.clock.system_now() + 1h;
  s.author = "U1";
  s.comment = "deploying";
  h.take(h.engine->add_silence(s));
  CHECK(h.count_transitions("silence.created") == 1);
  for (int i = 0; i < 3; ++i) h.send("sentry.issue", err());
  auto open = h.open_alerts();
  REQUIRE(open.size() == 1);
  CHECK(open[0].silenced);
  CHECK(h.count_jobs("post") == 0);
  // Another project is not silenced.
  for (int i = 0; i < 3; ++i) h.send("sentry.issue", err("billing"));
  CHECK(h.count_jobs("post") == 1);
  // The silence ends while the alert still fires: it is posted then.
  for (int i = 0; i < 12; ++i) {
    h.clock.advance(5min);
    h.send("sentry.issue", err());
  }
  CHECK(h.count_transitions("silence.expired") == 1);
  CHECK(h.count_jobs("post") == 2);
}

TEST_CASE("a silence created on a posted alert updates its message, expire_on_resolve ends it") {
  Harness h(kBurst);
  for (int i = 0; i < 3; ++i) h.send("sentry.issue", err());
  REQUIRE(h.count_jobs("post") == 1);
  store::Silence s;
  s.id = "sil-2";
  s.matchers = {"rule=\"burst\""};
  s.ends = h.clock.system_now() + 4h;
  s.expire_on_resolve = true;
  h.take(h.engine->add_silence(s));
  CHECK(h.count_transitions("alert.silenced") == 1);
  CHECK(h.jobs.back().payload["alert"]["silenced"] == true);
  h.clock.advance(11min);  // the window clears
  CHECK(h.open_alerts().empty());
  CHECK(h.count_jobs("resolved") == 1);  // silenced, but its message is updated
  CHECK(h.store->active_silences(h.clock.system_now())->empty());
}

TEST_CASE("a malformed silence is refused and nothing is stored") {
  Harness h(kBurst);
  store::Silence s;
  s.id = "bad";
  s.matchers = {"rule~\"x\""};
  s.ends = h.clock.system_now() + 1h;
  auto out = h.engine->add_silence(s);
  CHECK_FALSE(out.ok);
  CHECK(out.error.find("needs =, !=, =~ or !~") != std::string::npos);
  CHECK_FALSE(h.store->find_silence("bad")->has_value());
}

TEST_CASE("inhibition holds notifications back while the other alert fires, and lifts after") {
  Harness h(R"(
[[rule]]
name = "host-down"
when = 'kind == "newrelic.app_health" and reporting == false'
group_by = ["host"]
resolve_when = 'kind == "newrelic.app_health" and reporting == true'

[[rule]]
name = "app-errors"
when = 'kind == "sentry.issue"'
group_by = ["host", "project"]
inhibited_by = { rule = "host-down", equal = ["host"] }
)");
  h.send("newrelic.app_health", {{"host", "web-1"}, {"reporting", false}});
  REQUIRE(h.count_jobs("post") == 1);
  h.send("sentry.issue", {{"host", "web-1"}, {"project", "shop-api"}});
  h.send("sentry.issue", {{"host", "web-2"}, {"project", "shop-api"}});
  auto open = h.open_alerts();
  REQUIRE(open.size() == 3);
  const auto inhibited = std::count_if(open.begin(), open.end(), [](auto& a) { return a.inhibited; });
  CHECK(inhibited == 1);
  CHECK(h.count_jobs("post") == 2);  // host-down and the web-2 alert
  h.send("newrelic.app_health", {{"host", "web-1"}, {"reporting", true}});
  CHECK(h.count_transitions("alert.uninhibited") == 1);
  CHECK(h.count_jobs("post") == 3);  // released
}

TEST_CASE("a worker's result marks the job and records the Slack message") {
  Harness h(kBurst);
  for (int i = 0; i < 3; ++i) h.send("sentry.issue", err());
  const auto& post = h.jobs.at(0);
  auto out = h.engine->job_finished(post.id, true, {{"alert_id", post.alert_id}, {"channel", "C024BE91L"}, {"ts", "1700000000.000100"}});
  CHECK(out.ok);
  CHECK((*h.store->find_job(post.id))->state == "done");
  CHECK((*h.store->slack_message(post.alert_id))->ts == "1700000000.000100");
}

TEST_CASE("a second engine on the same database continues where the first stopped") {
  const auto dir = std::filesystem::temp_directory_path() / ("vigie-engine-restart-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "v.db").string();
  const std::string rules = kBurst + R"(escalate = { after = "15m", notify = ["#esc"] }
)";
  TimePoint now;
  std::int64_t alert_id = 0;
  {
    Harness first(rules, db);
    first.send("sentry.issue", err("billing"));
    first.clock.advance(1min);
    first.send("sentry.issue", err("billing"));  // 2 of 3: window state only
    for (int i = 0; i < 3; ++i) first.send("sentry.issue", err("shop-api"));
    alert_id = first.open_alerts().at(0).id;
    first.clock.advance(5min);
    now = first.clock.system_now();
  }
  Harness second(rules, db);
  // The new process's clock continues from the same wall time.
  second.clock.jump_system(now - second.clock.system_now());
  second.engine->set_rules(second.engine->rules());
  REQUIRE(second.engine->restore());
  auto open = second.open_alerts();
  REQUIRE(open.size() == 1);
  CHECK(open[0].id == alert_id);
  // The billing window kept its two events: one more fires it.
  second.send("sentry.issue", err("billing"));
  CHECK(second.open_alerts().size() == 2);
  // The shop-api alert keeps updating the same alert, never a second post for it.
  second.send("sentry.issue", err("shop-api"));
  CHECK(second.count_jobs("post") == 1);  // billing's only
  CHECK((*second.store->find_alert(alert_id))->count == 4);
  // Its escalation was not forgotten: due 15 min after it fired, 10 min from now.
  for (int i = 0; i < 5; ++i) {
    second.clock.advance(2min);
    second.send("sentry.issue", err("shop-api"));
  }
  CHECK((*second.store->find_alert(alert_id))->state == "firing");
  CHECK(second.count_jobs("escalate") >= 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("idle groups are forgotten: memory does not grow with distinct groups over time") {
  Harness h(kBurst);
  for (int i = 0; i < 500; ++i) h.send("sentry.issue", err("p" + std::to_string(i)));
  CHECK(h.engine->group_count() == 500);
  h.clock.advance(11min);
  CHECK(h.engine->group_count() == 0);
}

TEST_CASE("a silenced alert with repeat and escalation lets time pass (no timer spinning)") {
  Harness h(kBurst + R"(repeat = "1h"
escalate = { after = "15m" }
)");
  store::Silence s;
  s.id = "quiet";
  s.matchers = {"rule=\"burst\""};
  s.ends = h.clock.system_now() + 48h;
  h.take(h.engine->add_silence(s));
  for (int i = 0; i < 3; ++i) h.send("sentry.issue", err());
  for (int i = 0; i < 300; ++i) {  // 10 hours of errors every 2 minutes
    h.clock.advance(2min);
    h.send("sentry.issue", err());
  }
  CHECK(h.open_alerts().size() == 1);
  CHECK(h.count_jobs("post") == 0);
  CHECK(h.count_jobs("repeat") == 0);
  CHECK(h.count_transitions("alert.escalated") == 1);
}
