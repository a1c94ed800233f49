// The store's file: created at the latest schema with WAL and synchronous=NORMAL, migrated from an
// empty file and from every earlier schema version with its rows intact, a newer file refused,
// data kept across reopening and across a killed process, the busy timeout between connections.
#include <sys/wait.h>

#include <csignal>
#include <fstream>

#include "support.h"

using namespace vigie;
using namespace vigie::store;
using namespace vigie::store::test;

namespace {

// Rows that a build at schema version `version` could have written, in every table it had.
void write_rows_at_version(const std::string& path, int version) {
  Raw raw(path);
  if (version >= 1) {
    raw.exec(
        "INSERT INTO events (id, source, kind, time_ms, received_ms, attrs) VALUES "
        "('old-1', 'sentry', 'sentry.issue', 1767225600000, 1767225600001, '{\"a\":1,\"n\":[1,2.5,\"x\"]}'),"
        "('old-2', 'papertrail', 'papertrail.log', 1767225500000, 1767225600002, '{}')");
  }
  if (version >= 2) {
    raw.exec(
        "INSERT INTO alerts (fingerprint, rule, labels, state, count, first_seen_ms, last_seen_ms, last_event_id, "
        "acked_by, acked_ms) VALUES ('burst|shop-api', 'burst', '{\"project\":\"shop-api\"}', 'acknowledged', 5, "
        "1767225600000, 1767225660000, 'old-1', 'U024BE7LH', 1767225700000)");
    raw.exec("INSERT INTO slack_messages (alert_id, channel, ts) VALUES (1, 'C024BE91L', '1700000000.000100')");
  }
  if (version >= 3) {
    raw.exec(
        "INSERT INTO outbox (id, kind, payload, state, attempts, alert_id, created_ms, updated_ms) VALUES "
        "('job-1', 'notify', '{\"channel\":\"#ops\"}', 'dispatched', 1, 1, 1767225600000, 1767225600500)");
  }
  if (version >= 7) {
    raw.exec(
        "INSERT INTO action_runs (action, target, job_id, requested_by, state, started_ms) VALUES "
        "('restart-app', 'app=shop-api', 'action:req-1', 'U024BE7LH', 'running', 1767225600000)");
  }
}

void check_rows_from_version(Store& s, int version) {
  if (version >= 1) {
    auto e = s.find_event("old-1");
    REQUIRE(e);
    REQUIRE(e->has_value());
    CHECK((*e)->attrs == nlohmann::json{{"a", 1}, {"n", {1, 2.5, "x"}}});
    CHECK((*e)->received_at == from_unix_ms(1767225600001));
    CHECK(*s.event_count() == 2);
  }
  if (version >= 2) {
    auto a = s.latest_alert("burst|shop-api");
    REQUIRE(a);
    REQUIRE(a->has_value());
    CHECK((*a)->state == "acknowledged");
    CHECK((*a)->count == 5);
    CHECK((*a)->acked_at == from_unix_ms(1767225700000));
    CHECK((*a)->labels == nlohmann::json{{"project", "shop-api"}});
    CHECK((*s.slack_message((*a)->id))->ts == "1700000000.000100");
  }
  if (version >= 3) {
    auto j = s.find_job("job-1");
    REQUIRE(j);
    REQUIRE(j->has_value());
    CHECK((*j)->state == "dispatched");
    CHECK((*j)->payload == nlohmann::json{{"channel", "#ops"}});
  }
  if (version >= 7) {
    auto runs = s.action_runs("restart-app", "app=shop-api", from_unix_ms(1767225600000));
    REQUIRE(runs);
    REQUIRE(runs->size() == 1);
    CHECK((*runs)[0].state == "running");
    CHECK((*runs)[0].requested_by == "U024BE7LH");
  }
  // Guardrail records work at any starting version once migrated (once: the file is reopened).
  auto mine = s.action_runs("a", "t", from_unix_ms(0));
  REQUIRE(mine);
  if (!mine->empty()) return;
  REQUIRE(s.start_action_run({"a", "t", "job-" + std::to_string(version), "U1", "running", from_unix_ms(1767225601000), std::nullopt}));
  CHECK(*s.finish_action_run("job-" + std::to_string(version), "ok", from_unix_ms(1767225602000)));
  CHECK_FALSE(*s.finish_action_run("job-" + std::to_string(version), "failed", from_unix_ms(1767225603000)));
}

// The schema as SQLite stores it, without the whitespace differences of ALTER-free migrations.
std::string schema_of(const std::string& path) {
  Raw raw(path);
  return raw.column("SELECT type || ' ' || name || ' ' || tbl_name FROM sqlite_master ORDER BY name");
}

}  // namespace

TEST_CASE("a new file is created at the latest schema with WAL, synchronous=NORMAL and a busy timeout") {
  TempDir dir;
  const std::string path = dir.file("v.db");
  {
    auto s = open_store(path);
    CHECK(s->schema_version() == kSchemaVersion);
    CHECK(s->pragma("journal_mode") == "wal");
    CHECK(s->pragma("synchronous") == "1");  // 1 = NORMAL (2 would be FULL)
    CHECK(s->pragma("busy_timeout") == "5000");
  }
  CHECK(Raw(path).scalar("PRAGMA user_version") == std::to_string(kSchemaVersion));
  // WAL is a property of the file: another program opening it sees it too.
  CHECK(Raw(path).scalar("PRAGMA journal_mode") == "wal");
  auto s = open_store(path, OpenOptions{Duration{250}});
  CHECK(s->pragma("busy_timeout") == "250");
}

TEST_CASE("an existing empty file is migrated from nothing") {
  TempDir dir;
  const std::string path = dir.file("empty.db");
  std::ofstream(path).close();  // zero bytes: SQLite treats it as a new database
  auto s = open_store(path);
  CHECK(s->schema_version() == kSchemaVersion);
  CHECK(*s->event_count() == 0);
  CHECK(s->set_cursor("sentry-main", "c1", T0));
}

TEST_CASE("every earlier schema version migrates to the latest, keeping its rows") {
  TempDir dir;
  const std::string fresh = dir.file("fresh.db");
  open_store(fresh).reset();
  const std::string fresh_schema = schema_of(fresh);
  REQUIRE_FALSE(fresh_schema.empty());

  for (int from = 0; from < kSchemaVersion; ++from) {
    INFO("from version " << from);
    const std::string path = dir.file(("v" + std::to_string(from) + ".db").c_str());
    auto created = create_at_version(path, from);
    INFO((created ? std::string() : created.error().message));
    REQUIRE(created);
    REQUIRE(Raw(path).scalar("PRAGMA user_version") == std::to_string(from));
    write_rows_at_version(path, from);

    {
      auto s = open_store(path);
      CHECK(s->schema_version() == kSchemaVersion);
      check_rows_from_version(*s, from);
      // Every table of the later versions is usable.
      CHECK(s->set_cursor("sentry-main", "c1", T0));
      CHECK(s->append_audit({0, T0, "U1", "C1", "ack", 0, {}, "ok"}));
      CHECK(s->save_silence({"s1", nlohmann::json::array({"rule=burst"}), T0, T0 + 1h, "U1", "", false, T0, {}}));
      CHECK(s->add_job({"job-new", "notify", {}, "pending", 0, 0, T0, T0, {}}));
    }
    CHECK(Raw(path).scalar("PRAGMA user_version") == std::to_string(kSchemaVersion));
    // The same tables and indexes as a file created by this build.
    CHECK(schema_of(path) == fresh_schema);
    // And opening again is a no-op that keeps everything.
    auto again = open_store(path);
    check_rows_from_version(*again, from);
    CHECK(**again->cursor("sentry-main") == "c1");
  }
}

TEST_CASE("a database newer than this build is refused and left untouched") {
  TempDir dir;
  const std::string path = dir.file("new.db");
  Raw(path).exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1));
  auto s = Store::open(path);
  REQUIRE_FALSE(s);
  INFO(s.error().message);
  CHECK(s.error().message.find(path) != std::string::npos);
  CHECK(s.error().message.find("schema version " + std::to_string(kSchemaVersion + 1) +
                               ", newer than this build knows") != std::string::npos);
  Raw raw(path);
  CHECK(raw.scalar("PRAGMA user_version") == std::to_string(kSchemaVersion + 1));
  CHECK(raw.scalar("SELECT count(*) FROM sqlite_master") == "0");  // nothing created or dropped
}

TEST_CASE("a file that is not a database is a clear error naming it") {
  TempDir dir;
  const std::string path = dir.file("notes.db");
  std::ofstream(path) << "these are not the pages you are looking for, padded to a page or so. "
                      << std::string(4096, 'x');
  auto s = Store::open(path);
  REQUIRE_FALSE(s);
  INFO(s.error().message);
  CHECK(s.error().message.rfind("opening the store '" + path + "'", 0) == 0);
  CHECK(s.error().message.find("not a database") != std::string::npos);

  auto missing_dir = Store::open(dir.file("no/such/dir/vigie.db"));
  REQUIRE_FALSE(missing_dir);
  CHECK(missing_dir.error().message.rfind("opening the store '", 0) == 0);
}

TEST_CASE("a reopened file keeps its data") {
  TempDir dir;
  const std::string path = dir.file("keep.db");
  Alert a;
  a.fingerprint = "f";
  a.rule = "r";
  a.first_seen = a.last_seen = T0;
  {
    auto s = open_store(path);
    std::vector<bus::Event> batch{event("persisted")};
    REQUIRE(s->insert_events(batch));
    REQUIRE(s->save_alert(a));
    REQUIRE(s->add_job({"j", "notify", {{"x", 1}}, "pending", 0, a.id, T0, T0, {}}));
    REQUIRE(s->save_silence({"s", nlohmann::json::array({"rule=r"}), T0, T0 + 1h, "U1", "c", true, T0, {}}));
    REQUIRE(s->append_audit({0, T0, "U1", "C1", "ack", a.id, {{"id", a.id}}, "ok"}));
    REQUIRE(s->set_cursor("papertrail", "42", T0));
    REQUIRE(s->set_slack_message({a.id, "C1", "1.2"}));
  }
  auto s = open_store(path);
  CHECK(**s->find_event("persisted") == event("persisted"));
  CHECK(**s->find_alert(a.id) == a);
  CHECK((*s->find_job("j"))->payload == nlohmann::json{{"x", 1}});
  CHECK(s->active_silences(T0 + 1min)->size() == 1);
  CHECK(s->audit({})->size() == 1);
  CHECK(**s->cursor("papertrail") == "42");
  CHECK((*s->slack_message(a.id))->ts == "1.2");
}

TEST_CASE("a committed transaction survives the process being killed") {
  TempDir dir;
  const std::string path = dir.file("crash.db");
  open_store(path).reset();  // created (and migrated) before the fork
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child commits, then dies without closing anything: no checkpoint, no clean shutdown.
    auto s = Store::open(path);
    if (!s) ::_exit(2);
    std::vector<bus::Event> batch{event("before-crash-1"), event("before-crash-2")};
    if (!(*s)->insert_events(batch)) ::_exit(3);
    ::raise(SIGKILL);
    ::_exit(4);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  auto s = open_store(path);
  CHECK(*s->event_count() == 2);
  CHECK(s->find_event("before-crash-2")->has_value());
}

TEST_CASE("two connections share the file and a write waits for the lock up to the busy timeout") {
  TempDir dir;
  const std::string path = dir.file("shared.db");
  auto a = open_store(path);
  auto b = open_store(path, OpenOptions{Duration{100}});
  std::vector<bus::Event> batch{event("from-a")};
  REQUIRE(a->insert_events(batch));
  CHECK(b->find_event("from-a")->has_value());

  // While `a` holds the write lock, `b` gives up after its busy timeout with a prefixed error.
  std::optional<StoreError> error;
  auto held = a->write([&] {
    auto r = b->set_cursor("sentry-main", "c1", T0);
    if (!r) error = r.error();
    return a->set_cursor("sentry-main", "from-a", T0).has_value();
  });
  REQUIRE(held);
  CHECK(*held);
  REQUIRE(error);
  CHECK(error->message.rfind("saving a cursor: ", 0) == 0);
  CHECK(error->message.find("locked") != std::string::npos);
  // Once the lock is released the other connection writes again.
  CHECK(b->set_cursor("sentry-main", "from-b", T0 + 1s));
  CHECK(**a->cursor("sentry-main") == "from-b");
}
