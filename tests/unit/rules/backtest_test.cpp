// Backtest: stored events through a candidate rule set, counted per rule, nothing written back.
#include <catch2/catch.hpp>

#include "vigie/actions/kinds.h"
#include "vigie/rules/backtest.h"

using namespace vigie;
using namespace vigie::rules;
using namespace std::chrono_literals;

namespace {
const TimePoint T0 = from_unix_ms(1'767'225'600'000);

RuleSetPtr load(const std::string& text) {
  config::KindCatalog kinds;
  actions::register_builtin_actions(kinds);
  RuleLoadContext ctx;
  ctx.action_kinds = &kinds;
  config::Diagnostics d;
  auto set = load_rule_texts({{"candidate.toml", text}}, ctx, d);
  INFO(d.render_text());
  REQUIRE(set);
  return set;
}

bus::Event event(int i, Duration at, std::string project) {
  bus::Event e;
  e.id = "ev" + std::to_string(i);
  e.source = "sentry";
  e.kind = "sentry.issue";
  e.time = e.received_at = T0 + at;
  e.attrs = {{"level", "error"}, {"project", std::move(project)}};
  return e;
}
}  // namespace

TEST_CASE("a backtest counts what each rule would have done, and writes nothing") {
  auto source = std::move(*store::Store::open(":memory:"));
  std::vector<bus::Event> events;
  int n = 0;
  // Two bursts for shop-api an hour apart, one lone error for billing.
  for (int burst = 0; burst < 2; ++burst) {
    for (int i = 0; i < 5; ++i) events.push_back(event(n++, burst * 1h + i * 1min, "shop-api"));
  }
  events.push_back(event(n++, 30min, "billing"));
  REQUIRE(source->insert_events(events));
  auto rules = load(R"(
[[rule]]
name = "burst"
when = 'kind == "sentry.issue" and level == "error"'
count = { at_least = 3, within = "10m" }
group_by = ["project"]

[[rule]]
name = "quiet"
when = 'kind == "papertrail.log"'
)");
  auto report = run_backtest(*source, rules, T0, T0 + 3h);
  CHECK(report.error.empty());
  CHECK(report.events == 11);
  const auto& burst = report.rules.at("burst");
  CHECK(burst.fired == 2);
  CHECK(burst.resolved == 2);
  CHECK(burst.posts == 2);
  CHECK(burst.still_open == 0);
  CHECK(report.rules.at("quiet").fired == 0);  // listed even when quiet
  // The source store is untouched: no alerts, no jobs, no transition events.
  CHECK(source->open_alerts()->empty());
  CHECK(source->alerts_in_state(std::nullopt)->empty());
  CHECK(*source->event_count() == 11);
  const std::string table = backtest_table(report);
  CHECK(table.find("| burst | 2 | 2 | 0 | 2 |") != std::string::npos);
  CHECK(backtest_json(report)["rules"]["burst"]["fired"] == 2);
}

TEST_CASE("the backtest period bounds the replay") {
  auto source = std::move(*store::Store::open(":memory:"));
  std::vector<bus::Event> events;
  for (int i = 0; i < 6; ++i) events.push_back(event(i, i * 1min, "shop-api"));
  source->insert_events(events);
  auto rules = load("[[rule]]\nname = \"any\"\nwhen = 'kind == \"sentry.issue\"'\ngroup_by = [\"id\"]\n");
  auto report = run_backtest(*source, rules, T0 + 2min, T0 + 4min);
  CHECK(report.events == 2);  // [from, to)
  CHECK(report.rules.at("any").fired == 2);
}
