// The alert buttons applied to a real engine and store: Acknowledge records who, Resolve closes,
// Silence 1h silences exactly this alert's rule and labels for an hour; anything else is left alone.
#include <catch2/catch.hpp>

#include <sstream>

#include "vigie/actions/kinds.h"
#include "vigie/chat/buttons.h"
#include "vigie/rules/engine.h"
#include "vigie/rules/rule_set.h"

using namespace vigie;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const char* kRules = R"(
[[rule]]
name = "disk-full"
when = 'kind == "disk" and used > 90'
group_by = ["host"]
severity = "critical"
summary = "disk full on {{labels.host}}"
notify = ["#ops"]
)";

struct Fixture {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  FakeClock clock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<rules::Engine> engine;
  int seq = 0;

  Fixture() {
    auto s = store::Store::open(":memory:");
    REQUIRE(s);
    store = std::move(*s);
    config::KindCatalog kinds;
    actions::register_builtin_actions(kinds);
    rules::RuleLoadContext ctx;
    ctx.action_kinds = &kinds;
    config::Diagnostics d;
    auto set = rules::load_rule_texts({{"rules.toml", kRules}}, ctx, d);
    INFO(d.render_text());
    REQUIRE(set);
    engine = std::make_unique<rules::Engine>(*store, clock, logging.logger("engine"));
    engine->set_rules(set);
    REQUIRE(engine->restore());
  }

  std::int64_t fire(const std::string& host) {
    bus::Event e;
    e.id = "e" + std::to_string(++seq);
    e.source = "test";
    e.kind = "disk";
    e.time = e.received_at = clock.system_now();
    e.attrs = {{"host", host}, {"used", 97}};
    REQUIRE(engine->ingest({e}).ok);
    const auto open = *store->open_alerts();
    for (const auto& a : open) {
      if (a.labels.value("host", "") == host) return a.id;
    }
    FAIL("no alert for " << host);
    return 0;
  }

  bus::Event click(const std::string& action_id, const std::string& value, const std::string& user = "U0BOB") {
    bus::Event e;
    e.id = "slack:act:" + std::to_string(++seq);
    e.source = "slack";
    e.kind = "chat.action";
    e.time = e.received_at = clock.system_now();
    e.attrs = {{"user", user}, {"channel", "C0OPS"}, {"action_id", action_id}, {"value", value}};
    return e;
  }

  store::Alert alert(std::int64_t id) { return **store->find_alert(id); }
};

}  // namespace

TEST_CASE("Acknowledge from Slack acknowledges the alert in the name of who pressed it") {
  Fixture f;
  const auto id = f.fire("web-1");
  auto out = chat::apply_alert_button(*f.engine, *f.store, f.click("vigie_ack", std::to_string(id)), f.clock.system_now());
  REQUIRE(out);
  CHECK(out->ok);
  CHECK(f.alert(id).state == "acknowledged");
  CHECK(f.alert(id).acked_by == "U0BOB");
  // The message is edited to say so: an update job for the alert.
  bool update = false;
  for (const auto& j : out->jobs) update |= j.alert_id == id && j.payload.value("type", "") == "update";
  CHECK(update);
}

TEST_CASE("Resolve from Slack resolves the alert") {
  Fixture f;
  const auto id = f.fire("web-1");
  auto out = chat::apply_alert_button(*f.engine, *f.store, f.click("vigie_resolve", std::to_string(id)), f.clock.system_now());
  REQUIRE(out);
  CHECK(f.alert(id).state == "resolved");
  CHECK(f.store->open_alerts()->empty());
}

TEST_CASE("Silence 1h silences this alert's rule and labels for one hour, and nothing else") {
  Fixture f;
  const auto id = f.fire("web-1");
  const auto other = f.fire("web-2");
  auto out = chat::apply_alert_button(*f.engine, *f.store, f.click("vigie_silence_1h", std::to_string(id), "U0CAROL"),
                                      f.clock.system_now());
  REQUIRE(out);
  const auto silences = *f.store->active_silences(f.clock.system_now());
  REQUIRE(silences.size() == 1);
  const auto& s = silences[0];
  CHECK(s.author == "U0CAROL");
  CHECK(s.ends - s.starts == std::chrono::hours(1));
  CHECK(s.matchers == json::array({"rule=\"disk-full\"", "host=\"web-1\""}));
  CHECK(f.alert(id).silenced);
  CHECK_FALSE(f.alert(other).silenced);
  // An hour later the silence has ended.
  CHECK(f.store->active_silences(f.clock.system_now() + 61min)->empty());
}

TEST_CASE("buttons that are not the alert buttons, or name no alert, are left to others") {
  Fixture f;
  const auto id = f.fire("web-1");
  CHECK_FALSE(chat::apply_alert_button(*f.engine, *f.store, f.click("vigie_run:restart", std::to_string(id)), f.clock.system_now()));
  CHECK_FALSE(chat::apply_alert_button(*f.engine, *f.store, f.click("vigie_ack", "not-a-number"), f.clock.system_now()));
  CHECK_FALSE(chat::apply_alert_button(*f.engine, *f.store, f.click("vigie_silence_1h", "999999"), f.clock.system_now()));
  auto command = f.click("vigie_ack", std::to_string(id));
  command.kind = "chat.command";
  CHECK_FALSE(chat::apply_alert_button(*f.engine, *f.store, command, f.clock.system_now()));
  CHECK(f.alert(id).state == "firing");
}
