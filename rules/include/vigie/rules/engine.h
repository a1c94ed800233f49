// The alert engine: the stateful core. It turns stored events into alerts and alert transitions
// into jobs: windows per rule and group, the alert state machine (firing → acknowledged →
// resolved, silenced and inhibited flags), silences, inhibition, escalation, repeat. Each batch's
// events, the alert changes they cause, the transition events and the jobs are written in one
// SQLite transaction (the outbox); jobs are handed out only after it commits.
//
// Time: `now` is the injected clock's wall time. The engine keeps its deadlines (windows that
// clear, absences, escalations, repeats, resolve_after, silence ends) in one ordered map and arms
// a single clock timer at the earliest; with a FakeClock, advance() fires it.
// Threading: not thread-safe; one engine loop owns it.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <span>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <tl/expected.hpp>

#include "vigie/bus/event.h"
#include "vigie/bus/ingest.h"
#include "vigie/core/clock.h"
#include "vigie/core/log.h"
#include "vigie/rules/rule_set.h"
#include "vigie/rules/silence.h"
#include "vigie/rules/window.h"
#include "vigie/store/store.h"

namespace vigie::rules {

struct EngineOptions {
  std::string default_channel = "#alerts";  // for rules without notify
  Duration update_interval{30'000};  // at most one message update job per alert per interval
  int max_chain_depth = 3;  // alert events feeding rules feeding alerts: stop after this many
  // false for a backtest: the events come from a store already; keep only alerts and jobs.
  bool store_events = true;
  // Which stored events go into EngineOutput::events (the fan-out); unset: all. The daemon asks
  // its publisher, so events no observer subscribed to are not copied.
  std::function<bool(std::string_view kind)> fan_out;
};

// What one call produced, once committed.
struct EngineOutput {
  std::vector<bus::IngestResult> results;  // per input event: stored / duplicate / rejected
  std::vector<bus::Event> events;          // stored events and transitions, for the fan-out
  std::vector<store::Job> jobs;            // to dispatch
  bool ok = true;
  std::string error;  // when !ok: nothing was committed (the sender retries)
};

class Engine {
 public:
  Engine(store::Store& store, Clock& clock, Logger log, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Installs a rule set (at start, and on each good reload). Windows of rules whose name and
  // window are unchanged keep their state; absent_for rules without group_by are armed.
  void set_rules(RuleSetPtr rules);
  const RuleSetPtr& rules() const { return rules_; }

  // Rebuilds state after a start: open alerts from the store, windows by replaying stored events
  // newer than the longest window (without firing), deadlines, active silences.
  tl::expected<void, std::string> restore();

  // Stores a batch (dedup by id) and evaluates the new events, all in one transaction. By
  // reference: the caller keeps the events (the daemon acts on stored commands afterwards).
  // `attrs_json`: each event's attrs already encoded by its producer (Store::insert_events).
  EngineOutput ingest(const std::vector<bus::Event>& events, std::span<const std::string> attrs_json = {});

  // Time passing: processes due deadlines (normally called by the engine's own timer).
  EngineOutput tick();

  // People, from chat or the web view.
  EngineOutput acknowledge(std::int64_t alert_id, const std::string& user);
  EngineOutput resolve(std::int64_t alert_id, const std::string& user);
  // `matchers` as in silence.h; `error` is set (and nothing stored) when malformed.
  EngineOutput add_silence(store::Silence silence);
  EngineOutput expire_silence(const std::string& id, const std::string& user);

  // A worker's result: marks the job and, for a posted Slack message, remembers channel and ts.
  EngineOutput job_finished(const std::string& job_id, bool ok, const nlohmann::json& output);

  struct Stats {
    std::uint64_t rule_evaluations = 0;  // conditions evaluated (index candidates)
    std::size_t firing = 0, acknowledged = 0, silenced = 0, inhibited = 0;  // open alerts
  };
  Stats stats() const;

  std::optional<TimePoint> next_deadline() const;
  // Where the output of the engine's own timer goes (tick when a deadline passes).
  void set_output_sink(std::function<void(EngineOutput)> sink) { sink_ = std::move(sink); }
  std::size_t group_count() const { return groups_.size(); }

  // The fingerprint of a rule's alert for these labels: `rule{a="x",b="y"}`.
  static std::string fingerprint(const std::string& rule, const nlohmann::json& labels);

  struct Group;

 private:
  struct Work;
  EngineOutput commit(Work& work, const std::vector<bus::Event>* incoming);
  void evaluate(Work& work, const bus::Event& event, int depth);
  void on_match(Work& work, std::uint32_t rule_index, const bus::Event& event);
  void on_resolve_match(Work& work, std::uint32_t rule_index, const bus::Event& event);
  void fire(Work& work, Group& g, const Rule& rule, const bus::Event* event);
  void update(Work& work, Group& g, const Rule& rule, const bus::Event& event);
  void close(Work& work, Group& g, const Rule& rule, const std::string& why, const std::string& by);
  void process_due(Work& work, const std::string& fp);
  void notify(Work& work, Group& g, const Rule& rule, const std::string& type,
              std::vector<std::string> channels, nlohmann::json extra = nlohmann::json::object());
  void transition(Work& work, const store::Alert& alert, const std::string& kind,
                  nlohmann::json extra = nlohmann::json::object());
  void refresh_flags(Work& work, Group& g, const Rule& rule);
  void recheck_inhibited(Work& work, const Rule& resolved_or_fired);
  void schedule(const std::string& fp);
  void arm_timer();
  Group* group_for(const std::string& fp);
  Group& ensure_group(const Rule& rule, std::uint32_t index, const nlohmann::json& labels);
  nlohmann::json labels_of(const Rule& rule, const bus::Event& event) const;
  std::string render_summary(const Rule& rule, const store::Alert& alert, const nlohmann::json& attrs) const;

  store::Store& store_;
  Clock& clock_;
  Logger log_;
  EngineOptions options_;
  RuleSetPtr rules_;
  RuleIndex resolve_index_;                 // rules by their resolve_when conditions
  std::vector<std::uint32_t> resolve_rules_;  // resolve_index_ position -> rule index
  std::unordered_set<std::string> inhibitors_;  // names of rules some rule's inhibited_by names
  std::unordered_map<std::string, std::unique_ptr<Group>> groups_;  // by fingerprint
  std::multimap<TimePoint, std::string> deadlines_;
  std::unordered_map<std::string, TimePoint> deadline_of_;  // fp -> its entry in deadlines_
  struct ActiveSilence {
    store::Silence silence;
    std::vector<SilenceMatcher> matchers;
  };
  std::vector<ActiveSilence> silences_;
  std::optional<TimerId> timer_;
  std::optional<TimePoint> timer_at_;
  std::uint64_t event_seq_ = 0;
  std::uint64_t rule_evaluations_ = 0;
  TimePoint last_tick_{};
  std::vector<std::uint32_t> candidates_;  // reused: no allocation per event
  std::function<void(EngineOutput)> sink_;
};

}  // namespace vigie::rules
