// Backtest replay: events in time order, batched between engine deadlines so the result matches
// event-by-event processing while a million events take seconds, not minutes.
#include "vigie/rules/backtest.h"

#include <sstream>

#include "vigie/rules/engine.h"

namespace vigie::rules {
namespace {
constexpr std::size_t kBatch = 512;
// A batch is processed at the time of its last event: keep its span short so alert times and
// deadlines between its events are off by at most this much.
constexpr Duration kMaxBatchSpan{1000};
}

BacktestReport run_backtest(store::Store& source, const RuleSetPtr& rules, TimePoint from, TimePoint to,
                            const std::string& default_channel) {
  BacktestReport report;
  report.from = from;
  report.to = to;
  if (!rules) {
    report.error = "no rule set";
    return report;
  }
  for (const auto& r : rules->rules()) report.rules[r.name];
  auto scratch = store::Store::open(":memory:");
  if (!scratch) {
    report.error = scratch.error().message;
    return report;
  }
  std::ostringstream quiet;
  Logging logging(LogLevel::off, std::make_shared<SecretRegistry>(), quiet);
  FakeClock clock(from);
  EngineOptions options;
  options.default_channel = default_channel;
  options.store_events = false;
  Engine engine(**scratch, clock, logging.logger("backtest"), options);

  auto account = [&](EngineOutput out) {
    if (!out.ok && report.error.empty()) report.error = out.error;
    for (const auto& e : out.events) {
      if (e.kind == "alert.fired") ++report.rules[e.attrs.value("rule", "")].fired;
      if (e.kind == "alert.resolved") ++report.rules[e.attrs.value("rule", "")].resolved;
    }
    for (const auto& j : out.jobs) {
      const std::string rule = j.payload.contains("alert") ? j.payload["alert"].value("rule", "") : j.payload.value("rule", "");
      auto& s = report.rules[rule];
      const std::string type = j.payload.value("type", "");
      if (j.kind == "action") ++s.actions;
      else if (type == "post") ++s.posts;
      else if (type == "update" || type == "resolved") ++s.updates;
      else if (type == "escalate") ++s.escalations;
      else if (type == "repeat") ++s.repeats;
    }
  };
  engine.set_output_sink(account);
  engine.set_rules(rules);

  std::vector<bus::Event> batch;
  batch.reserve(kBatch);
  TimePoint batch_start{};
  auto flush = [&] {
    if (batch.empty()) return;
    report.events += static_cast<std::int64_t>(batch.size());
    account(engine.ingest(std::move(batch)));
    batch.clear();
  };
  auto scanned = source.scan_events(from, to, [&](const bus::Event& e) {
    if (e.source == "vigie") return true;  // past transitions are outputs, not inputs
    const TimePoint t = std::max(e.time, clock.system_now());
    const auto deadline = engine.next_deadline();
    if (!batch.empty() &&
        (batch.size() >= kBatch || t - batch_start > kMaxBatchSpan || (deadline && *deadline <= t))) {
      flush();
    }
    if (t > clock.system_now()) clock.advance(t - clock.system_now());
    if (batch.empty()) batch_start = t;
    batch.push_back(e);
    return true;
  });
  flush();
  if (!scanned) {
    report.error = scanned.error().message;
    return report;
  }
  if (to > clock.system_now()) clock.advance(to - clock.system_now());
  if (auto open = (*scratch)->open_alerts()) {
    for (const auto& a : *open) ++report.rules[a.rule].still_open;
  }
  return report;
}

std::string backtest_table(const BacktestReport& r) {
  std::ostringstream out;
  out << "backtest " << format_rfc3339(r.from) << " .. " << format_rfc3339(r.to) << ": " << r.events
      << " events\n";
  out << "| rule | fired | resolved | open at end | posts | updates | escalations | repeats | actions |\n";
  out << "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& [name, s] : r.rules) {
    out << "| " << name << " | " << s.fired << " | " << s.resolved << " | " << s.still_open << " | " << s.posts
        << " | " << s.updates << " | " << s.escalations << " | " << s.repeats << " | " << s.actions << " |\n";
  }
  return out.str();
}

nlohmann::json backtest_json(const BacktestReport& r) {
  nlohmann::json rules = nlohmann::json::object();
  for (const auto& [name, s] : r.rules) {
    rules[name] = {{"fired", s.fired},     {"resolved", s.resolved},       {"still_open", s.still_open},
                   {"posts", s.posts},     {"updates", s.updates},         {"escalations", s.escalations},
                   {"repeats", s.repeats}, {"actions", s.actions}};
  }
  return {{"from", format_rfc3339(r.from)}, {"to", format_rfc3339(r.to)}, {"events", r.events},
          {"rules", rules}, {"error", r.error}};
}

}  // namespace vigie::rules
