// The store: migrations from an empty file and from every earlier version, dedup, group commit,
// atomic writes, the outbox, silences, audit, cursors, retention, durability settings.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <unistd.h>

#include <filesystem>

#include "vigie/store/store.h"

using namespace vigie;
using namespace vigie::store;
using namespace std::chrono_literals;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("vigie-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const char* name) const { return (path / name).string(); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

const TimePoint T0 = from_unix_ms(1'767'225'600'000);

bus::Event event(std::string id, Duration offset = 0s, std::string kind = "sentry.issue") {
  bus::Event e;
  e.id = std::move(id);
  e.source = "sentry";
  e.kind = std::move(kind);
  e.time = T0 + offset;
  e.received_at = T0 + offset;
  e.attrs = {{"project", "shop-api"}, {"count", 3}, {"big", "18446744073709551615"}};
  return e;
}

std::unique_ptr<Store> open(const std::string& path) {
  auto s = Store::open(path);
  INFO((s ? "" : s.error().message));
  REQUIRE(s);
  return std::move(*s);
}

}  // namespace

TEST_CASE("a new file is created at the latest schema with WAL and synchronous=NORMAL") {
  TempDir dir;
  auto s = open(dir.file("v.db"));
  CHECK(s->schema_version() == kSchemaVersion);
  CHECK(s->pragma("journal_mode") == "wal");
  CHECK(s->pragma("synchronous") == "1");  // NORMAL
}

TEST_CASE("every earlier schema version migrates to the latest, keeping its rows") {
  for (int from = 1; from < kSchemaVersion; ++from) {
    INFO("from version " << from);
    TempDir dir;
    const std::string path = dir.file("old.db");
    REQUIRE(create_at_version(path, from));
    {
      // A row written by that version (events exist from version 1 on).
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
      REQUIRE(sqlite3_exec(db,
                           "INSERT INTO events (id, source, kind, time_ms, received_ms, attrs) "
                           "VALUES ('old-1', 'sentry', 'sentry.issue', 1, 1, '{\"a\":1}')",
                           nullptr, nullptr, nullptr) == SQLITE_OK);
      sqlite3_close(db);
    }
    auto s = open(path);
    CHECK(s->schema_version() == kSchemaVersion);
    auto e = s->find_event("old-1");
    REQUIRE(e);
    REQUIRE(e->has_value());
    CHECK((*e)->attrs["a"] == 1);
    // Tables of later versions work.
    CHECK(s->set_cursor("sentry-main", "c1", T0));
    CHECK(s->append_audit({0, T0, "U1", "C1", "ack", 0, {}, "ok"}));
  }
}

TEST_CASE("a database newer than this build is refused, never downgraded") {
  TempDir dir;
  const std::string path = dir.file("new.db");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  auto s = Store::open(path);
  REQUIRE_FALSE(s);
  CHECK(s.error().message.find("schema version 99, newer than this build knows") != std::string::npos);
}

TEST_CASE("duplicate event ids are deduplicated, within a batch and across batches") {
  auto s = open(":memory:");
  std::vector<bus::Event> batch{event("a"), event("b"), event("a")};
  auto r = s->insert_events(batch);
  REQUIRE(r);
  CHECK(*r == std::vector<bool>{true, true, false});
  std::vector<bus::Event> again{event("b"), event("c")};
  CHECK(*s->insert_events(again) == std::vector<bool>{false, true});
  CHECK(*s->event_count() == 3);
  auto e = s->find_event("a");
  REQUIRE(e);
  REQUIRE(e->has_value());
  CHECK(**e == event("a"));  // exact round trip, big numbers as strings intact
}

TEST_CASE("a batch of 10 000 events commits as one transaction and scans back in order") {
  TempDir dir;
  auto s = open(dir.file("batch.db"));
  std::vector<bus::Event> batch;
  for (int i = 0; i < 10'000; ++i) batch.push_back(event("e" + std::to_string(i), Duration{i}));
  auto r = s->insert_events(batch);
  REQUIRE(r);
  CHECK(std::count(r->begin(), r->end(), true) == 10'000);
  std::vector<std::string> ids;
  auto n = s->scan_events(T0 + Duration{100}, T0 + Duration{105}, [&](const bus::Event& e) {
    ids.push_back(e.id);
    return true;
  });
  CHECK(*n == 5);
  CHECK(ids == std::vector<std::string>{"e100", "e101", "e102", "e103", "e104"});
}

TEST_CASE("an alert, its events and its jobs are written atomically") {
  auto s = open(":memory:");
  Alert a;
  a.fingerprint = "sentry-error-burst|shop-api";
  a.rule = "sentry-error-burst";
  a.labels = {{"project", "shop-api"}};
  a.first_seen = a.last_seen = T0;
  a.count = 5;
  // A failure inside the transaction leaves nothing behind.
  auto failed = s->write([&] {
    CHECK(s->save_alert(a));
    CHECK(s->add_job({"job-1", "notify", {{"channel", "#ops"}}, "pending", 0, a.id, T0, T0, {}}));
    return false;  // e.g. a later step failed
  });
  REQUIRE(failed);
  CHECK_FALSE(*failed);
  CHECK(s->open_alerts()->empty());
  CHECK(s->unfinished_jobs()->empty());

  a.id = 0;
  auto ok = s->write([&] {
    return s->save_alert(a).has_value() &&
           s->add_job({"job-1", "notify", {{"channel", "#ops"}}, "pending", 0, a.id, T0, T0, {}}).has_value();
  });
  REQUIRE(ok);
  CHECK(*ok);
  auto open_alerts = s->open_alerts();
  REQUIRE(open_alerts->size() == 1);
  CHECK((*open_alerts)[0] == a);
  auto jobs = s->unfinished_jobs();
  REQUIRE(jobs->size() == 1);
  CHECK((*jobs)[0].alert_id == a.id);
}

TEST_CASE("alerts: update in place, latest occurrence by fingerprint, states") {
  auto s = open(":memory:");
  Alert a;
  a.fingerprint = "f1";
  a.rule = "r";
  a.first_seen = a.last_seen = T0;
  REQUIRE(s->save_alert(a));
  a.count = 7;
  a.state = "acknowledged";
  a.acked_by = "U024BE7LH";
  a.acked_at = T0 + 1min;
  a.data = {{"escalated", true}};
  REQUIRE(s->save_alert(a));
  CHECK(**s->find_alert(a.id) == a);
  Alert next = a;
  next.id = 0;
  next.state = "firing";
  next.occurrence = 2;
  next.previous_id = a.id;
  REQUIRE(s->save_alert(next));
  CHECK((*s->latest_alert("f1"))->occurrence == 2);
  CHECK(s->alerts_in_state("acknowledged")->size() == 1);
  CHECK(s->open_alerts()->size() == 2);
  CHECK(s->set_slack_message({a.id, "C024BE91L", "1700000000.000100"}));
  CHECK(s->set_slack_message({a.id, "C024BE91L", "1700000000.000200"}));
  CHECK((*s->slack_message(a.id))->ts == "1700000000.000200");
}

TEST_CASE("outbox: a job is added once, and a finished job cannot be reopened") {
  auto s = open(":memory:");
  Job j{"job-7", "action", {{"action", "restart-shop-api"}}, "pending", 0, 0, T0, T0, {}};
  CHECK(*s->add_job(j));
  CHECK_FALSE(*s->add_job(j));  // already there
  CHECK(*s->mark_job("job-7", "dispatched", {}, T0 + 1s));
  CHECK((*s->find_job("job-7"))->attempts == 1);
  CHECK(*s->mark_job("job-7", "done", {{"ts", "1.2"}}, T0 + 2s));
  CHECK_FALSE(*s->mark_job("job-7", "dispatched", {}, T0 + 3s));  // a late duplicate result
  auto found = *s->find_job("job-7");
  CHECK(found->state == "done");
  CHECK(found->result["ts"] == "1.2");
  CHECK(s->unfinished_jobs()->empty());
}

TEST_CASE("silences: active in their period, until expired") {
  auto s = open(":memory:");
  Silence sil{"s1", nlohmann::json::array({"rule=\"burst\""}), T0, T0 + 1h, "U1", "deploying", true, T0, {}};
  REQUIRE(s->save_silence(sil));
  CHECK(s->active_silences(T0 + 30min)->size() == 1);
  CHECK(s->active_silences(T0 + 1h)->empty());
  CHECK(*s->expire_silence("s1", T0 + 10min));
  CHECK(s->active_silences(T0 + 30min)->empty());
  CHECK((*s->find_silence("s1"))->expired == T0 + 10min);
}

TEST_CASE("audit entries and cursors") {
  auto s = open(":memory:");
  s->append_audit({0, T0, "U1", "C1", "ack", 3, {{"id", 3}}, "ok"});
  s->append_audit({0, T0 + 1min, "U2", "C1", "run", 0, {{"action", "restart"}}, "denied"});
  CHECK(s->audit({})->size() == 2);
  auto u2 = s->audit({std::nullopt, "U2", 10});
  REQUIRE(u2->size() == 1);
  CHECK((*u2)[0].result == "denied");
  CHECK(s->audit({T0 + 30s, "", 10})->size() == 1);
  CHECK_FALSE((*s->cursor("papertrail")).has_value());
  s->set_cursor("papertrail", "9007199254740993", T0);
  CHECK(**s->cursor("papertrail") == "9007199254740993");
}

TEST_CASE("retention deletes what is older than the period and keeps the rest") {
  auto s = open(":memory:");
  std::vector<bus::Event> batch{event("old", 0s), event("new", 20 * 24h)};
  s->insert_events(batch);
  s->add_job({"done-old", "notify", {}, "done", 1, 0, T0, T0, {}});
  s->add_job({"pending-old", "notify", {}, "pending", 0, 0, T0, T0, {}});
  s->append_audit({0, T0, "U1", "C", "ack", 0, {}, "ok"});
  auto deleted = s->apply_retention(T0 + 21 * 24h, 14 * 24h);
  REQUIRE(deleted);
  CHECK(*deleted == 3);
  CHECK_FALSE(s->find_event("old")->has_value());
  CHECK(s->find_event("new")->has_value());
  CHECK(s->find_job("pending-old")->has_value());  // unfinished work is never dropped
}

TEST_CASE("a reopened file keeps its data") {
  TempDir dir;
  const std::string path = dir.file("keep.db");
  {
    auto s = open(path);
    std::vector<bus::Event> batch{event("persisted")};
    s->insert_events(batch);
  }
  auto s = open(path);
  CHECK(s->find_event("persisted")->has_value());
}
