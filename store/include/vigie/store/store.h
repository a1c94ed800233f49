// The store: one SQLite file (WAL, synchronous=NORMAL, busy timeout) holding events (unique id:
// the dedup), alerts, their Slack messages, the outbox of jobs, silences, the audit log and
// collector cursors. Numbered migrations bring any earlier file up to date. Errors are values;
// nothing throws out of this API. sqlite3.h stays inside store/src.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "vigie/bus/event.h"
#include "vigie/core/time.h"

namespace vigie::store {

struct StoreError {
  std::string message;  // "inserting events: database or disk is full"
  bool operator==(const StoreError&) const = default;
};

template <typename T>
using Result = tl::expected<T, StoreError>;

// The schema this build writes; PRAGMA user_version of an up-to-date file. docs/store.md lists
// what each version added.
inline constexpr int kSchemaVersion = 7;

struct OpenOptions {
  // How long a write waits for another connection's lock (another vigie process, `vigie events`
  // reading) before failing with "database is locked".
  Duration busy_timeout{5000};
  // WAL checkpoints (copying committed pages back into the database file) on a thread of the
  // store's own instead of inside the commit that crosses SQLite's 1 000-page threshold: the
  // daemon's engine thread commits every batch and its notifications wait behind a checkpoint.
  // The committing connection still checkpoints itself past kWriterCheckpointPages, so the WAL
  // stays bounded if the background thread falls behind. Off for one-shot commands.
  bool background_checkpoints = false;
};

// The background thread is woken once per kBackgroundCheckpointPages new WAL frames (and by
// Store::idle); past kWriterCheckpointPages the committing connection checkpoints itself.
inline constexpr int kBackgroundCheckpointPages = 1000;
inline constexpr int kWriterCheckpointPages = 4000;

struct CheckpointStats {
  std::int64_t background = 0;  // checkpoints the background thread ran
  std::int64_t writer = 0;      // checkpoints the committing connection ran itself
  std::int64_t requested = 0;   // commits that woke the background thread
  std::int64_t served = 0;      // of those, how many a finished background run started after
};

struct Alert {
  std::int64_t id = 0;  // 0 until stored
  std::string fingerprint;
  std::string rule;
  nlohmann::json labels = nlohmann::json::object();
  std::string state = "firing";  // firing | acknowledged | resolved
  bool silenced = false;
  bool inhibited = false;
  std::int64_t count = 0;
  TimePoint first_seen{}, last_seen{};
  std::string last_event_id;
  std::string acked_by;
  std::optional<TimePoint> acked_at, resolved_at;
  std::int64_t occurrence = 1;
  std::int64_t previous_id = 0;  // the previous occurrence of the same fingerprint, or 0
  nlohmann::json data = nlohmann::json::object();  // engine state: escalation, notify times, ...
  bool operator==(const Alert&) const = default;
};

struct SlackMessage {
  std::int64_t alert_id = 0;
  std::string channel;
  std::string ts;
  bool digest = false;  // the alert was posted inside a storm digest message
  bool operator==(const SlackMessage&) const = default;
};

struct Job {
  std::string id;
  std::string kind;  // notify | action | ...
  nlohmann::json payload = nlohmann::json::object();
  std::string state = "pending";  // pending | dispatched | done | failed
  std::int64_t attempts = 0;
  std::int64_t alert_id = 0;
  TimePoint created{}, updated{};
  nlohmann::json result = nlohmann::json::object();
  bool operator==(const Job&) const = default;
};

struct Silence {
  std::string id;
  nlohmann::json matchers = nlohmann::json::array();
  TimePoint starts{}, ends{};
  std::string author;
  std::string comment;
  bool expire_on_resolve = false;
  TimePoint created{};
  std::optional<TimePoint> expired;
  bool operator==(const Silence&) const = default;
};

struct AuditEntry {
  std::int64_t id = 0;
  TimePoint time{};
  std::string user;
  std::string channel;
  std::string action;  // command, click, approval, denial, action outcome...
  std::int64_t alert_id = 0;
  nlohmann::json args = nlohmann::json::object();
  std::string result;
  bool operator==(const AuditEntry&) const = default;
};

// A chat request that waits for people: a Confirm press by its requester, or approvals by others.
// `state` is awaiting_confirm | awaiting_approval while open, then approved | denied | expired |
// cancelled; `data` holds what to run and who asked and approved (the chat module's business).
struct ChatRequest {
  std::string id;
  std::string state;
  nlohmann::json data = nlohmann::json::object();
  TimePoint created{}, expires{}, updated{};
  bool operator==(const ChatRequest&) const = default;
};

// One run of an action on one target (its resolved parameters), for the guardrails.
struct ActionRun {
  std::string action;
  std::string target;  // "app=shop-api" (parameters sorted by name), "" without parameters
  std::string job_id;
  std::string requested_by;
  std::string state = "running";  // running, ok, failed
  TimePoint started;
  std::optional<TimePoint> finished;
  bool operator==(const ActionRun&) const = default;
};

struct AuditQuery {
  std::optional<TimePoint> since;
  std::string user;  // empty: everyone
  std::size_t limit = 1000;
};

class Store {
 public:
  // Opens (creating if needed) and migrates. ":memory:" for a private in-memory store.
  // A file newer than kSchemaVersion is refused with an error, never downgraded.
  static Result<std::unique_ptr<Store>> open(const std::string& path, const OpenOptions& options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int schema_version() const;
  std::string pragma(const std::string& name);  // for checks: journal_mode, synchronous
  // Transactions committed through this Store since it was opened (each write() and each
  // statement outside one counts once): for metrics, and for tests of group commit.
  std::int64_t commits() const;
  CheckpointStats checkpoints() const;
  // The caller has nothing to write for now: with background checkpoints, the WAL's frames since the
  // last checkpoint are copied back too, so the next commit can start the WAL over. Cheap; call it
  // whenever the writer's loop finds no work.
  void idle();

  // One transaction around `fn`: committed when fn returns true, rolled back when it returns
  // false, when any Store call made inside it failed (even if fn ignored that error), or when it
  // throws (the exception becomes an error). Nested calls join the outer transaction.
  // @return true when committed, false when rolled back by fn, an error otherwise.
  Result<bool> write(const std::function<bool()>& fn);

  // Events. One call is one transaction (group commit). For each event: true when newly stored,
  // false when an event with this id was stored before (dedup, not an error). `attrs_json`, when
  // given (one per event), is each event's attrs already encoded as the store encodes them
  // (producers do it on their own thread, off the engine's).
  Result<std::vector<bool>> insert_events(std::span<const bus::Event> events,
                                          std::span<const std::string> attrs_json = {});
  Result<std::optional<bus::Event>> find_event(const std::string& id);
  Result<std::int64_t> event_count();
  // Streams events with from <= time < to ordered by event time (ties in stored order), one row
  // in memory at a time; `fn` returns false to stop. @return events passed to fn. The engine
  // rebuilds its windows with this.
  Result<std::size_t> scan_events(TimePoint from, TimePoint to,
                                  const std::function<bool(const bus::Event&)>& fn);
  // Streams events with from <= time < to in stored order (the order the engine first saw them,
  // so a backtest replays what happened, late events included), one row in memory at a time;
  // `fn` returns false to stop. @return events passed to fn.
  Result<std::size_t> events_between(TimePoint from, TimePoint to,
                                     const std::function<bool(const bus::Event&)>& fn);
  // Events with time >= since, in stored order (loaded: for short spans; use events_between
  // for long ones).
  Result<std::vector<bus::Event>> events_since(TimePoint since);
  // Events received since `since`, newest first, optionally of one kind.
  Result<std::vector<bus::Event>> recent_events(std::optional<std::string> kind,
                                                std::optional<TimePoint> since, std::size_t limit);

  // Alerts.
  Result<std::int64_t> save_alert(Alert& alert);  // insert (id 0) or update; sets alert.id
  Result<std::optional<Alert>> find_alert(std::int64_t id);
  // The latest occurrence of a fingerprint, whatever its state.
  Result<std::optional<Alert>> latest_alert(const std::string& fingerprint);
  Result<std::vector<Alert>> alerts_in_state(std::optional<std::string> state);
  Result<std::vector<Alert>> open_alerts();  // firing or acknowledged

  Result<bool> set_slack_message(const SlackMessage& m);
  Result<std::optional<SlackMessage>> slack_message(std::int64_t alert_id);

  // Outbox.
  Result<bool> add_job(const Job& job);  // a job id already present is left as it is
  Result<std::vector<Job>> unfinished_jobs();  // pending or dispatched, oldest first
  Result<std::vector<Job>> pending_jobs();     // not dispatched yet, oldest first
  // Moves a job to `state` (dispatched | done | failed | pending). A finished (done or failed)
  // job stays as it is: a repeated or late result changes nothing and returns false, as does an
  // unknown id. Each move to dispatched counts an attempt. An unknown state is an error.
  Result<bool> mark_job(const std::string& id, const std::string& state,
                        const nlohmann::json& result, TimePoint now);
  Result<std::optional<Job>> find_job(const std::string& id);

  // Silences.
  Result<bool> save_silence(const Silence& s);  // insert or replace by id
  // Silences with starts <= at < ends and not expired, oldest first.
  Result<std::vector<Silence>> active_silences(TimePoint at);
  Result<std::vector<Silence>> all_silences();  // every stored silence, oldest first
  Result<std::optional<Silence>> find_silence(const std::string& id);
  Result<bool> expire_silence(const std::string& id, TimePoint at);  // false: unknown or expired
  Result<bool> delete_silence(const std::string& id);                 // false: unknown

  // Audit.
  Result<std::int64_t> append_audit(const AuditEntry& e);  // @return the entry's id
  Result<std::vector<AuditEntry>> audit(const AuditQuery& q);  // newest first

  // Chat requests.
  Result<bool> save_chat_request(const ChatRequest& r);  // insert or replace by id
  Result<std::optional<ChatRequest>> find_chat_request(const std::string& id);
  Result<std::vector<ChatRequest>> open_chat_requests();  // awaiting_*, oldest first

  // Action runs (guardrails). A job id already recorded is left as it is.
  Result<bool> start_action_run(const ActionRun& run);
  Result<bool> finish_action_run(const std::string& job_id, const std::string& state, TimePoint at);  // false: unknown
  // The runs of `action` on `target` started at or after `since`, plus any still running; newest first.
  Result<std::vector<ActionRun>> action_runs(const std::string& action, const std::string& target, TimePoint since);

  // Collector cursors.
  Result<std::optional<std::string>> cursor(const std::string& collector);
  Result<bool> set_cursor(const std::string& collector, const std::string& cursor, TimePoint now);

  // Deletes events received, jobs finished (done or failed), silences ended and Slack message
  // rows of alerts resolved before now - retention, and audit rows written before now -
  // audit_retention (the same as retention when not given). Pending and dispatched jobs and
  // alerts are kept. Events go in batches of their own transactions so ingest is never blocked
  // for long. A retention that is not positive is an error. @return rows deleted.
  Result<std::int64_t> apply_retention(TimePoint now, Duration retention,
                                       std::optional<Duration> audit_retention = std::nullopt);

  struct Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// For tests of migrations: creates a database at `path` migrated only up to `version`.
Result<bool> create_at_version(const std::string& path, int version);

}  // namespace vigie::store
