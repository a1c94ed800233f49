// Numbered schema migrations, each applied in its own transaction and recorded in user_version.
// Append new steps; never edit a released one (files in the field are at every version).
#include "migrations.h"

#include <array>

namespace vigie::store::detail {
namespace {

constexpr std::array<const char*, kSchemaVersion> kMigrations{
    // 1: events, deduplicated by their source-derived id; seq keeps the stored order for replay.
    R"(CREATE TABLE events (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         id TEXT NOT NULL UNIQUE,
         source TEXT NOT NULL,
         kind TEXT NOT NULL,
         time_ms INTEGER NOT NULL,
         received_ms INTEGER NOT NULL,
         attrs TEXT NOT NULL);
       CREATE INDEX events_time ON events(time_ms);
       CREATE INDEX events_received ON events(received_ms);
       CREATE INDEX events_kind ON events(kind, received_ms);)",
    // 2: alerts and the Slack message each one is edited in.
    R"(CREATE TABLE alerts (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         fingerprint TEXT NOT NULL,
         rule TEXT NOT NULL,
         labels TEXT NOT NULL,
         state TEXT NOT NULL,
         silenced INTEGER NOT NULL DEFAULT 0,
         inhibited INTEGER NOT NULL DEFAULT 0,
         count INTEGER NOT NULL DEFAULT 0,
         first_seen_ms INTEGER NOT NULL,
         last_seen_ms INTEGER NOT NULL,
         last_event_id TEXT NOT NULL DEFAULT '',
         acked_by TEXT NOT NULL DEFAULT '',
         acked_ms INTEGER,
         resolved_ms INTEGER,
         occurrence INTEGER NOT NULL DEFAULT 1,
         previous_id INTEGER NOT NULL DEFAULT 0,
         data TEXT NOT NULL DEFAULT '{}');
       CREATE INDEX alerts_fingerprint ON alerts(fingerprint, id);
       CREATE INDEX alerts_state ON alerts(state);
       CREATE TABLE slack_messages (
         alert_id INTEGER PRIMARY KEY,
         channel TEXT NOT NULL,
         ts TEXT NOT NULL);)",
    // 3: the outbox: jobs written with the alert change that caused them.
    R"(CREATE TABLE outbox (
         id TEXT PRIMARY KEY,
         kind TEXT NOT NULL,
         payload TEXT NOT NULL,
         state TEXT NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         alert_id INTEGER NOT NULL DEFAULT 0,
         created_ms INTEGER NOT NULL,
         updated_ms INTEGER NOT NULL,
         result TEXT NOT NULL DEFAULT '{}');
       CREATE INDEX outbox_state ON outbox(state, created_ms);)",
    // 4: silences, the audit log, collector cursors.
    R"(CREATE TABLE silences (
         id TEXT PRIMARY KEY,
         matchers TEXT NOT NULL,
         starts_ms INTEGER NOT NULL,
         ends_ms INTEGER NOT NULL,
         author TEXT NOT NULL,
         comment TEXT NOT NULL,
         expire_on_resolve INTEGER NOT NULL DEFAULT 0,
         created_ms INTEGER NOT NULL,
         expired_ms INTEGER);
       CREATE INDEX silences_ends ON silences(ends_ms);
       CREATE TABLE audit (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         time_ms INTEGER NOT NULL,
         user TEXT NOT NULL,
         channel TEXT NOT NULL,
         action TEXT NOT NULL,
         alert_id INTEGER NOT NULL DEFAULT 0,
         args TEXT NOT NULL,
         result TEXT NOT NULL);
       CREATE INDEX audit_time ON audit(time_ms);
       CREATE TABLE collector_cursors (
         name TEXT PRIMARY KEY,
         cursor TEXT NOT NULL,
         updated_ms INTEGER NOT NULL);)",
    // 5: an alert posted inside a storm digest has no message of its own: updates become replies.
    R"(ALTER TABLE slack_messages ADD COLUMN digest INTEGER NOT NULL DEFAULT 0;)",
    // 6: chat requests waiting for a confirmation or approvals (they survive a restart).
    R"(CREATE TABLE chat_requests (
         id TEXT PRIMARY KEY,
         state TEXT NOT NULL,
         data TEXT NOT NULL,
         created_ms INTEGER NOT NULL,
         expires_ms INTEGER NOT NULL,
         updated_ms INTEGER NOT NULL);
       CREATE INDEX chat_requests_state ON chat_requests(state, expires_ms);)",
    // 7: action runs per action and target, for the guardrails (cooldown, rate limit, one at a time).
    R"(CREATE TABLE action_runs (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         action TEXT NOT NULL,
         target TEXT NOT NULL,
         job_id TEXT NOT NULL UNIQUE,
         requested_by TEXT NOT NULL,
         state TEXT NOT NULL,
         started_ms INTEGER NOT NULL,
         finished_ms INTEGER);
       CREATE INDEX action_runs_target ON action_runs(action, target, started_ms);)",
};

}  // namespace

Result<int> user_version(Database& db) {
  auto st = db.prepare("PRAGMA user_version", "reading the schema version");
  if (!st) return tl::unexpected(st.error());
  if (st->step() != SQLITE_ROW) return tl::unexpected(StoreError{"reading the schema version: " + db.error()});
  return static_cast<int>(st->integer(0));
}

StoreError too_new(int version) {
  return StoreError{"the database has schema version " + std::to_string(version) +
                    ", newer than this build knows (" + std::to_string(kSchemaVersion) +
                    "): use a newer vigie, never an older one on a newer file"};
}

Result<bool> migrate(Database& db, int target) {
  if (target < 0 || target > kSchemaVersion) {
    return tl::unexpected(StoreError{"migrating the store: no schema version " + std::to_string(target)});
  }
  // Refuse a too-new file before writing anything to it.
  auto current = user_version(db);
  if (!current) return tl::unexpected(current.error());
  if (*current > kSchemaVersion) return tl::unexpected(too_new(*current));
  for (int v = *current + 1; v <= target; ++v) {
    const std::string what = "migrating the store to schema version " + std::to_string(v);
    // BEGIN IMMEDIATE takes the write lock; the version is read again under it, so two processes
    // opening the same old file at once apply each step once (the second one finds it done).
    if (auto ok = db.exec("BEGIN IMMEDIATE", what); !ok) return tl::unexpected(ok.error());
    auto now = user_version(db);
    if (!now) {
      db.rollback();
      return tl::unexpected(now.error());
    }
    if (*now > kSchemaVersion) {
      db.rollback();
      return tl::unexpected(too_new(*now));
    }
    if (*now >= v) {
      db.rollback();  // someone else applied it meanwhile
      v = *now;
      continue;
    }
    auto ok = db.exec(std::string(kMigrations[static_cast<std::size_t>(v - 1)]) +
                          ";PRAGMA user_version = " + std::to_string(v) + ";COMMIT;",
                      what);
    if (!ok) {
      db.rollback();
      return tl::unexpected(ok.error());
    }
  }
  return true;
}

}  // namespace vigie::store::detail
