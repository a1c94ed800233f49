// The store's API: event dedup and group commit, replay order and streaming, atomic writes for the
// outbox, alerts, the outbox's idempotency, silences, audit, cursors, retention.
#include <algorithm>
#include <thread>

#include "support.h"

using namespace vigie;
using namespace vigie::store;
using namespace vigie::store::test;

namespace {

Alert sample_alert(std::string fingerprint = "sentry-error-burst|shop-api") {
  Alert a;
  a.fingerprint = std::move(fingerprint);
  a.rule = "sentry-error-burst";
  a.labels = {{"project", "shop-api"}};
  a.first_seen = a.last_seen = T0;
  a.count = 5;
  a.last_event_id = "e5";
  return a;
}

Job sample_job(std::string id, std::int64_t alert_id = 0, std::string state = "pending") {
  return Job{std::move(id), "notify", {{"channel", "#ops"}}, std::move(state), 0, alert_id, T0, T0, {}};
}

// A million events take about 8 s in an optimised build and over two minutes under
// AddressSanitizer in Debug; there a tenth still shows streaming (a sort would hold ~13 MB).
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VIGIE_STORE_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(VIGIE_STORE_TEST_ASAN)
constexpr int kReplayEvents = 100'000;
#else
constexpr int kReplayEvents = 1'000'000;
#endif

std::vector<std::string> ids_of(const std::vector<bus::Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.id);
  return out;
}

}  // namespace

TEST_CASE("duplicate event ids are deduplicated, within a batch and across batches") {
  auto s = open_store(":memory:");
  std::vector<bus::Event> batch{event("a"), event("b"), event("a")};
  auto r = s->insert_events(batch);
  REQUIRE(r);
  CHECK(*r == std::vector<bool>{true, true, false});
  std::vector<bus::Event> again{event("b"), event("c")};
  CHECK(*s->insert_events(again) == std::vector<bool>{false, true});
  CHECK(*s->event_count() == 3);
  // The first copy wins; a later event with the same id does not overwrite it.
  auto changed = event("a", 1h);
  changed.attrs["project"] = "other";
  std::vector<bus::Event> third{changed};
  CHECK(*s->insert_events(third) == std::vector<bool>{false});
  CHECK(**s->find_event("a") == event("a"));
  CHECK(s->insert_events({})->empty());
}

TEST_CASE("event attrs round-trip exactly") {
  auto s = open_store(":memory:");
  auto e = event("json");
  e.attrs = nlohmann::json::parse(R"({
    "message": "caf\u00e9 \u2014 \"quoted\" \\ back\nslash", "empty": "", "null": null, "t": true,
    "u64": 18446744073709551615, "neg": -9223372036854775808, "pi": 3.141592653589793, "tenth": 0.1,
    "tiny": 5e-324, "nested": {"list": [1, [2, {"k": "v"}], {}], "obj": {}}
  })");
  e.time = from_unix_ms(-1);  // before 1970 still fits
  e.received_at = T0 + Duration{123};
  std::vector<bus::Event> batch{e};
  REQUIRE(s->insert_events(batch));
  auto back = s->find_event("json");
  REQUIRE(back);
  REQUIRE(back->has_value());
  CHECK(**back == e);
  CHECK((*back)->attrs["u64"].is_number_unsigned());
  CHECK((*back)->attrs.dump() == e.attrs.dump());
}

TEST_CASE("attrs a producer already encoded are stored as given, one per event, or else encoded here") {
  auto s = open_store(":memory:");
  auto a = event("pre-a");
  a.attrs = {{"project", "shop"}, {"n", 1}};
  auto b = event("pre-b");
  b.attrs = {{"project", "api"}};
  std::vector<bus::Event> batch{a, b};
  const std::vector<std::string> texts{a.attrs.dump(), b.attrs.dump()};
  REQUIRE(*s->insert_events(batch, texts) == std::vector<bool>{true, true});
  CHECK(**s->find_event("pre-a") == a);
  CHECK(**s->find_event("pre-b") == b);
  // A count that does not match the events is ignored, never misaligned.
  auto c = event("pre-c");
  std::vector<bus::Event> one{c};
  const std::vector<std::string> wrong{"{}", "{}"};
  REQUIRE(*s->insert_events(one, wrong) == std::vector<bool>{true});
  CHECK(**s->find_event("pre-c") == c);
}

TEST_CASE("a batch of 10 000 events commits as one transaction") {
  TempDir dir;
  const std::string path = dir.file("batch.db");
  auto s = open_store(path);
  std::vector<bus::Event> batch;
  for (int i = 0; i < 10'000; ++i) batch.push_back(event("e" + std::to_string(i), Duration{i}));
  const auto commits_before = s->commits();
  auto r = s->insert_events(batch);
  REQUIRE(r);
  CHECK(s->commits() - commits_before == 1);
  CHECK(std::count(r->begin(), r->end(), true) == 10'000);
  CHECK(*s->event_count() == 10'000);
  CHECK(Raw(path).scalar("SELECT count(*) FROM events") == "10000");  // visible to others: committed
}

TEST_CASE("a batch that fails in the middle stores none of its events") {
  TempDir dir;
  const std::string path = dir.file("poison.db");
  auto s = open_store(path);
  // Another connection makes one insert fail, the way a full disk or an I/O error would.
  Raw(path).exec(
      "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.id = 'poison' "
      "BEGIN SELECT RAISE(ABORT, 'poisoned'); END");
  std::vector<bus::Event> batch{event("ok-1"), event("ok-2"), event("poison"), event("ok-3")};
  auto r = s->insert_events(batch);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "inserting event 'poison': poisoned");
  CHECK(*s->event_count() == 0);
  // The store is still usable afterwards.
  std::vector<bus::Event> next{event("ok-1")};
  CHECK(*s->insert_events(next) == std::vector<bool>{true});
}

TEST_CASE("events_between streams in stored order, scan_events in event-time order") {
  auto s = open_store(":memory:");
  // Stored in this order; event times out of order (late arrivals, a collector catching up).
  std::vector<bus::Event> batch{event("c", 30s), event("a", 10s), event("late", 5s), event("b", 20s),
                                event("outside", 2h)};
  REQUIRE(s->insert_events(batch));
  std::vector<std::string> stored, by_time;
  auto n = s->events_between(T0, T0 + 1h, [&](const bus::Event& e) {
    stored.push_back(e.id);
    return true;
  });
  REQUIRE(n);
  CHECK(*n == 4);
  CHECK(stored == std::vector<std::string>{"c", "a", "late", "b"});
  REQUIRE(s->scan_events(T0, T0 + 1h, [&](const bus::Event& e) {
    by_time.push_back(e.id);
    return true;
  }));
  CHECK(by_time == std::vector<std::string>{"late", "a", "b", "c"});

  // The range is [from, to).
  stored.clear();
  REQUIRE(s->events_between(T0 + 10s, T0 + 30s, [&](const bus::Event& e) {
    stored.push_back(e.id);
    return true;
  }));
  CHECK(stored == std::vector<std::string>{"a", "b"});
  CHECK(*s->events_between(T0 + 3h, T0 + 4h, [](const bus::Event&) { return true; }) == 0);
  CHECK(*s->events_between(T0 + 1h, T0, [](const bus::Event&) { return true; }) == 0);

  // The callback stops the scan.
  CHECK(*s->events_between(T0, T0 + 1h, [](const bus::Event&) { return false; }) == 1);

  // A query of the same kind inside the callback does not disturb the outer one.
  std::vector<std::string> outer;
  std::size_t inner_total = 0;
  REQUIRE(s->events_between(T0, T0 + 1h, [&](const bus::Event& e) {
    outer.push_back(e.id);
    inner_total += *s->events_between(T0, T0 + 1h, [](const bus::Event&) { return true; });
    return true;
  }));
  CHECK(outer == std::vector<std::string>{"c", "a", "late", "b"});
  CHECK(inner_total == 16);

  CHECK(ids_of(*s->events_since(T0 + 20s)) == std::vector<std::string>{"c", "b", "outside"});
}

TEST_CASE("recent_events filters by kind and since, newest first, up to a limit") {
  auto s = open_store(":memory:");
  std::vector<bus::Event> batch{event("s1", 1s), event("l1", 2s, "papertrail.log"), event("s2", 3s),
                                event("s3", 4s)};
  REQUIRE(s->insert_events(batch));
  CHECK(ids_of(*s->recent_events(std::nullopt, std::nullopt, 10)) ==
        std::vector<std::string>{"s3", "s2", "l1", "s1"});
  CHECK(ids_of(*s->recent_events("sentry.issue", std::nullopt, 2)) == std::vector<std::string>{"s3", "s2"});
  CHECK(ids_of(*s->recent_events("sentry.issue", T0 + 3s, 10)) == std::vector<std::string>{"s3", "s2"});
  CHECK(s->recent_events("chat.command", std::nullopt, 10)->empty());
}

TEST_CASE("a replay of a million events streams without loading them (a tenth under ASan)") {
  TempDir dir;
  auto s = open_store(dir.file("million.db"));
  constexpr int kTotal = kReplayEvents, kBatch = 50'000;
  std::vector<bus::Event> batch;
  batch.reserve(kBatch);
  for (int i = 0; i < kTotal; ++i) {
    auto e = event("m" + std::to_string(i), Duration{i % 2 ? i : kTotal - i});  // times not in stored order
    e.attrs = {{"i", i}, {"message", "GET /api/orders 500 upstream timed out"}};
    batch.push_back(std::move(e));
    if (batch.size() == kBatch) {
      REQUIRE(s->insert_events(batch));
      batch.clear();
    }
  }
  REQUIRE(*s->event_count() == kTotal);

  sqlite3_memory_highwater(1);  // SQLite's own allocations from here on
  const auto before = sqlite3_memory_used();
  std::int64_t expected = 0;
  bool in_order = true;
  auto n = s->events_between(T0, T0 + Duration{kTotal + 1}, [&](const bus::Event& e) {
    in_order = in_order && e.attrs["i"].get<std::int64_t>() == expected++;
    return true;
  });
  REQUIRE(n);
  CHECK(*n == static_cast<std::size_t>(kTotal));
  CHECK(in_order);
  // The page cache (about 2 MB by default) and one row: nothing near the size of the data (tens of MB).
  CHECK(sqlite3_memory_highwater(0) - before < 8 * 1024 * 1024);

  // In event-time order too (the engine's window rebuild), through the time index.
  sqlite3_memory_highwater(1);
  TimePoint previous = TimePoint::min();
  bool by_time = true;
  n = s->scan_events(T0, T0 + Duration{kTotal + 1}, [&](const bus::Event& e) {
    by_time = by_time && e.time >= previous;
    previous = e.time;
    return true;
  });
  REQUIRE(n);
  CHECK(*n == static_cast<std::size_t>(kTotal));
  CHECK(by_time);
  CHECK(sqlite3_memory_highwater(0) - before < 8 * 1024 * 1024);
}

TEST_CASE("an alert, its events and its jobs are written atomically") {
  TempDir dir;
  const std::string path = dir.file("atomic.db");
  auto s = open_store(path);
  Alert a = sample_alert();

  SECTION("fn returning false rolls everything back") {
    auto r = s->write([&] {
      std::vector<bus::Event> fired{event("alert.fired:1", 0s, "alert.fired")};
      CHECK(s->save_alert(a));
      CHECK(s->insert_events(fired));
      CHECK(s->add_job(sample_job("job-1", a.id)));
      return false;  // e.g. a later step of the engine failed
    });
    REQUIRE(r);
    CHECK_FALSE(*r);
  }
  SECTION("a failed call inside rolls everything back even when fn ignores it") {
    auto r = s->write([&] {
      CHECK(s->save_alert(a));
      CHECK_FALSE(s->add_job(sample_job("job-1", a.id, "exploded")));  // unknown state: refused
      return true;
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("rolled back") != std::string::npos);
  }
  SECTION("SQLite failing in the middle rolls everything back") {
    Raw(path).exec(
        "CREATE TRIGGER poison BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
    std::string seen;
    auto r = s->write([&] {
      if (!s->save_alert(a)) return false;
      auto job = s->add_job(sample_job("job-1", a.id));
      if (!job) seen = job.error().message;
      return job.has_value();
    });
    REQUIRE(r);
    CHECK_FALSE(*r);
    CHECK(seen == "adding a job: disk on fire");
    Raw(path).exec("DROP TRIGGER poison");
  }
  SECTION("an exception inside becomes an error and rolls back") {
    auto r = s->write([&]() -> bool {
      CHECK(s->save_alert(a));
      // A nested write joins the outer transaction and is rolled back with it.
      (void)s->write([&]() -> bool {
        CHECK(s->add_job(sample_job("job-1", a.id)));
        throw std::runtime_error("template exploded");
      });
      return true;
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "writing a transaction: rolled back after an exception: template exploded");
  }
  CHECK(s->open_alerts()->empty());
  CHECK(s->unfinished_jobs()->empty());
  CHECK(*s->event_count() == 0);

  // And the store works normally afterwards: both written in one commit.
  a.id = 0;
  const auto commits_before = s->commits();
  auto ok = s->write([&] {
    std::vector<bus::Event> fired{event("alert.fired:1", 0s, "alert.fired")};
    return s->save_alert(a).has_value() && s->insert_events(fired).has_value() &&
           s->add_job(sample_job("job-1", a.id)).has_value();
  });
  REQUIRE(ok);
  CHECK(*ok);
  CHECK(s->commits() - commits_before == 1);
  auto open = s->open_alerts();
  REQUIRE(open->size() == 1);
  CHECK((*open)[0] == a);
  auto jobs = s->unfinished_jobs();
  REQUIRE(jobs->size() == 1);
  CHECK((*jobs)[0].alert_id == a.id);
  CHECK(*s->event_count() == 1);
}

TEST_CASE("alerts: update in place, latest occurrence by fingerprint, states") {
  auto s = open_store(":memory:");
  Alert a = sample_alert("f1");
  REQUIRE(s->save_alert(a));
  CHECK(a.id > 0);
  a.count = 7;
  a.state = "acknowledged";
  a.acked_by = "U024BE7LH";
  a.acked_at = T0 + 1min;
  a.silenced = true;
  a.data = {{"escalated", true}};
  REQUIRE(s->save_alert(a));
  CHECK(**s->find_alert(a.id) == a);

  // The next occurrence links to the previous one.
  a.state = "resolved";
  a.resolved_at = T0 + 5min;
  REQUIRE(s->save_alert(a));
  Alert next = a;
  next.id = 0;
  next.state = "firing";
  next.acked_by.clear();
  next.acked_at.reset();
  next.resolved_at.reset();
  next.occurrence = 2;
  next.previous_id = a.id;
  REQUIRE(s->save_alert(next));
  CHECK(**s->latest_alert("f1") == next);
  CHECK_FALSE(s->latest_alert("nope")->has_value());
  CHECK_FALSE(s->find_alert(999)->has_value());
  CHECK(s->alerts_in_state("resolved")->size() == 1);
  CHECK(s->alerts_in_state("firing")->front().id == next.id);
  CHECK(s->alerts_in_state(std::nullopt)->size() == 2);
  CHECK(s->open_alerts()->size() == 1);

  // Refused: an unknown state, an id that was never stored.
  Alert bad = sample_alert("f2");
  bad.state = "on-fire";
  auto r = s->save_alert(bad);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "saving an alert: unknown state 'on-fire'");
  Alert ghost = sample_alert("f3");
  ghost.id = 4242;
  r = s->save_alert(ghost);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "saving an alert: no alert with id 4242");

  // One Slack message per alert, replaced when reposted.
  CHECK_FALSE(s->slack_message(a.id)->has_value());
  CHECK(s->set_slack_message({a.id, "C024BE91L", "1700000000.000100"}));
  CHECK(s->set_slack_message({a.id, "C024BE91L", "1700000000.000200"}));
  CHECK(**s->slack_message(a.id) == SlackMessage{a.id, "C024BE91L", "1700000000.000200"});
  // Posted inside a storm digest: remembered, so updates become thread replies there.
  CHECK(s->set_slack_message({a.id, "C024BE91L", "1700000000.000300", true}));
  CHECK((*s->slack_message(a.id))->digest);
}

TEST_CASE("outbox: a job is added once, and a finished job cannot be reopened") {
  auto s = open_store(":memory:");
  Job j{"job-7", "action", {{"action", "restart-shop-api"}}, "pending", 0, 0, T0, T0, {}};
  CHECK(*s->add_job(j));
  CHECK_FALSE(*s->add_job(j));  // the same job written again (a replayed transition): kept once
  CHECK(**s->find_job("job-7") == j);
  CHECK(s->pending_jobs()->size() == 1);

  CHECK(*s->mark_job("job-7", "dispatched", {}, T0 + 1s));
  CHECK(s->pending_jobs()->empty());
  CHECK(s->unfinished_jobs()->size() == 1);  // dispatched, not finished: re-dispatched after a crash
  CHECK((*s->find_job("job-7"))->attempts == 1);
  CHECK(*s->mark_job("job-7", "dispatched", {}, T0 + 2s));  // a re-dispatch counts an attempt
  CHECK((*s->find_job("job-7"))->attempts == 2);

  CHECK(*s->mark_job("job-7", "done", {{"ts", "1.2"}}, T0 + 3s));
  CHECK_FALSE(*s->mark_job("job-7", "done", {{"ts", "9.9"}}, T0 + 4s));    // the same result twice
  CHECK_FALSE(*s->mark_job("job-7", "failed", {{"error", "late"}}, T0 + 5s));  // a late loser
  CHECK_FALSE(*s->mark_job("job-7", "dispatched", {}, T0 + 6s));
  auto found = **s->find_job("job-7");
  CHECK(found.state == "done");
  CHECK(found.result == nlohmann::json{{"ts", "1.2"}});
  CHECK(found.updated == T0 + 3s);
  CHECK(found.attempts == 2);
  CHECK(s->unfinished_jobs()->empty());

  // Failed is final too.
  REQUIRE(s->add_job(sample_job("job-8")));
  CHECK(*s->mark_job("job-8", "failed", {{"error", "timeout"}}, T0));
  CHECK_FALSE(*s->mark_job("job-8", "done", {}, T0 + 1s));
  CHECK((*s->find_job("job-8"))->state == "failed");

  CHECK_FALSE(*s->mark_job("no-such-job", "done", {}, T0));
  auto bad = s->mark_job("job-8", "finished", {}, T0);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "updating job job-8: unknown state 'finished'");

  // Oldest first, so a restart re-dispatches in the order the work was decided.
  REQUIRE(s->add_job(Job{"z-early", "notify", {}, "pending", 0, 0, T0 - 1h, T0 - 1h, {}}));
  REQUIRE(s->add_job(Job{"a-late", "notify", {}, "pending", 0, 0, T0 + 1h, T0 + 1h, {}}));
  std::vector<std::string> order;
  const auto pending = s->pending_jobs();  // kept: a range-for over *temporary would dangle
  REQUIRE(pending);
  for (const auto& job : *pending) order.push_back(job.id);
  CHECK(order == std::vector<std::string>{"z-early", "a-late"});
}

TEST_CASE("chat requests round-trip, only open ones are listed, settled ones go with retention") {
  auto s = open_store(":memory:");
  ChatRequest open{"req-1", "awaiting_approval", {{"action", "reboot"}, {"approvers", {"U2"}}}, T0, T0 + 15min, T0};
  ChatRequest done{"req-2", "approved", {{"action", "restart"}}, T0, T0 + 15min, T0};
  REQUIRE(s->save_chat_request(open));
  REQUIRE(s->save_chat_request(done));
  CHECK(*s->find_chat_request("req-1") == std::optional<ChatRequest>(open));
  CHECK(*s->open_chat_requests() == std::vector<ChatRequest>{open});
  open.state = "expired";
  open.updated = T0 + 15min;
  REQUIRE(s->save_chat_request(open));  // replaced by id
  CHECK(s->open_chat_requests()->empty());
  CHECK((*s->find_chat_request("req-1"))->state == "expired");
  CHECK_FALSE(*s->find_chat_request("nope"));
  REQUIRE(s->apply_retention(T0 + 15min + 14 * 24h + 1s, 14 * 24h));
  CHECK_FALSE(*s->find_chat_request("req-1"));
  CHECK_FALSE(*s->find_chat_request("req-2"));
}

TEST_CASE("silences: active in their period until expired, listed, deleted") {
  auto s = open_store(":memory:");
  Silence sil{"s1", nlohmann::json::array({"rule=\"burst\""}), T0, T0 + 1h, "U1", "deploying", true, T0, {}};
  REQUIRE(s->save_silence(sil));
  CHECK(s->active_silences(T0 - 1s)->empty());  // not started
  CHECK(*s->active_silences(T0) == std::vector<Silence>{sil});
  CHECK(s->active_silences(T0 + 30min)->size() == 1);
  CHECK(s->active_silences(T0 + 1h)->empty());  // ended
  sil.comment = "deploying v2";
  REQUIRE(s->save_silence(sil));  // replaced by id
  CHECK(s->all_silences()->size() == 1);
  CHECK((*s->find_silence("s1"))->comment == "deploying v2");

  CHECK(*s->expire_silence("s1", T0 + 10min));
  CHECK_FALSE(*s->expire_silence("s1", T0 + 20min));  // already expired: the first time stays
  CHECK(s->active_silences(T0 + 30min)->empty());
  CHECK((*s->find_silence("s1"))->expired == T0 + 10min);
  CHECK(s->all_silences()->size() == 1);  // still listed, for the record

  CHECK(*s->delete_silence("s1"));
  CHECK_FALSE(*s->delete_silence("s1"));
  CHECK_FALSE(s->find_silence("s1")->has_value());
  CHECK(s->all_silences()->empty());
}

TEST_CASE("audit entries newest first by user since and limit, and collector cursors") {
  auto s = open_store(":memory:");
  AuditEntry first{0, T0, "U1", "C1", "ack", 3, {{"id", 3}}, "ok"};
  auto id = s->append_audit(first);
  REQUIRE(id);
  first.id = *id;
  REQUIRE(s->append_audit({0, T0 + 1min, "U2", "C1", "run", 0, {{"action", "restart"}}, "denied"}));
  REQUIRE(s->append_audit({0, T0 + 2min, "U1", "C2", "silence", 3, {{"for", "1h"}}, "ok"}));
  auto all = *s->audit({});
  REQUIRE(all.size() == 3);
  CHECK(all[0].action == "silence");
  CHECK(all[2] == first);
  auto u2 = *s->audit({std::nullopt, "U2", 10});
  REQUIRE(u2.size() == 1);
  CHECK(u2[0].result == "denied");
  CHECK(s->audit({T0 + 30s, "", 10})->size() == 2);
  CHECK(s->audit({T0 + 30s, "U1", 10})->size() == 1);
  CHECK(s->audit({std::nullopt, "", 1})->front().action == "silence");

  CHECK_FALSE((*s->cursor("papertrail")).has_value());
  REQUIRE(s->set_cursor("papertrail", "9007199254740993", T0));  // above 2^53: kept as text
  CHECK(**s->cursor("papertrail") == "9007199254740993");
  REQUIRE(s->set_cursor("papertrail", "9007199254740999", T0 + 1min));
  CHECK(**s->cursor("papertrail") == "9007199254740999");
}

TEST_CASE("retention deletes what is older than the period and keeps the rest") {
  TempDir dir;
  auto s = open_store(dir.file("retention.db"));
  // More old events than one deletion batch.
  std::vector<bus::Event> batch;
  for (int i = 0; i < 25'000; ++i) batch.push_back(event("old-" + std::to_string(i), Duration{i}));
  batch.push_back(event("new", 20 * 24h));
  REQUIRE(s->insert_events(batch));
  REQUIRE(s->add_job(sample_job("done-old", 0, "done")));
  REQUIRE(s->add_job(sample_job("failed-old", 0, "failed")));
  REQUIRE(s->add_job(sample_job("pending-old")));
  REQUIRE(s->add_job(sample_job("dispatched-old", 0, "dispatched")));
  REQUIRE(s->add_job(Job{"done-new", "notify", {}, "done", 1, 0, T0 + 20 * 24h, T0 + 20 * 24h, {}}));
  REQUIRE(s->append_audit({0, T0, "U1", "C", "ack", 0, {}, "ok"}));
  REQUIRE(s->append_audit({0, T0 + 20 * 24h, "U1", "C", "ack", 0, {}, "ok"}));
  Alert resolved = sample_alert("old");
  resolved.state = "resolved";
  resolved.resolved_at = T0;
  Alert firing = sample_alert("still-firing");
  REQUIRE(s->save_alert(resolved));
  REQUIRE(s->save_alert(firing));
  REQUIRE(s->set_slack_message({resolved.id, "C", "1.1"}));
  REQUIRE(s->set_slack_message({firing.id, "C", "1.2"}));
  REQUIRE(s->save_silence({"ended", nlohmann::json::array(), T0, T0 + 1h, "U", "", false, T0, {}}));
  REQUIRE(s->save_silence({"long", nlohmann::json::array(), T0, T0 + 60 * 24h, "U", "", false, T0, {}}));

  auto deleted = s->apply_retention(T0 + 21 * 24h, 14 * 24h);
  REQUIRE(deleted);
  // 25 000 events, 2 finished jobs, 1 audit row, 1 Slack message, 1 silence.
  CHECK(*deleted == 25'005);
  CHECK(*s->event_count() == 1);
  CHECK(s->find_event("new")->has_value());
  CHECK_FALSE(s->find_job("done-old")->has_value());
  CHECK_FALSE(s->find_job("failed-old")->has_value());
  CHECK(s->find_job("pending-old")->has_value());  // unfinished work is never dropped
  CHECK(s->find_job("dispatched-old")->has_value());
  CHECK(s->find_job("done-new")->has_value());
  CHECK(s->audit({})->size() == 1);
  CHECK(s->find_alert(resolved.id)->has_value());  // alerts are kept: occurrence history
  CHECK_FALSE(s->slack_message(resolved.id)->has_value());
  CHECK(s->slack_message(firing.id)->has_value());
  CHECK(s->all_silences()->size() == 1);

  CHECK(*s->apply_retention(T0 + 21 * 24h, 14 * 24h) == 0);  // nothing left to delete
  auto bad = s->apply_retention(T0, Duration{0});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "applying retention: the retention must be positive, not 0s");
  CHECK_FALSE(s->apply_retention(T0, 14 * 24h, Duration{0}));
}

TEST_CASE("audit rows follow their own retention, longer than the events'") {
  auto s = open_store(":memory:");
  REQUIRE(s->insert_events(std::vector<bus::Event>{event("e-old", Duration{0})}));
  REQUIRE(s->append_audit({0, T0, "U1", "C", "run", 0, {}, "ok"}));               // 30 days old
  REQUIRE(s->append_audit({0, T0 - 70 * 24h, "U1", "C", "run", 0, {}, "ok"}));    // 100 days old
  // Events kept 14 days, audit rows 90 days.
  auto deleted = s->apply_retention(T0 + 30 * 24h, 14 * 24h, 90 * 24h);
  REQUIRE(deleted);
  CHECK(*deleted == 2);  // the event and the 100-day-old audit row
  CHECK_FALSE(s->find_event("e-old")->has_value());
  auto left = *s->audit({});
  REQUIRE(left.size() == 1);
  CHECK(left[0].time == T0);
}

namespace {

std::int64_t wal_pages(const std::string& db_path) {
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(db_path + "-wal", ec);
  return ec ? 0 : static_cast<std::int64_t>(bytes / (4096 + 24));  // a frame: its header and a page
}

// One commit of 100 events with 2 KB of text each: about 120 pages of WAL (rows and indexes).
void commit_big_batch(Store& s, int& seq) {
  std::vector<bus::Event> batch;
  for (int i = 0; i < 100; ++i) {
    auto e = event("cp" + std::to_string(seq), Duration{seq});
    e.attrs["text"] = std::string(2000, static_cast<char>('a' + seq % 26));
    ++seq;
    batch.push_back(std::move(e));
  }
  REQUIRE(s.insert_events(batch));
}

// A store file opened as the daemon opens it, and the WAL's largest size seen by its commits.
struct BackgroundCheckpointStore {
  explicit BackgroundCheckpointStore(const char* name) : path(dir.file(name)), s(open_store(path, options())) {}
  static OpenOptions options() {
    OpenOptions o;
    o.background_checkpoints = true;
    return o;
  }
  void commit() {
    commit_big_batch(*s, seq);
    largest_wal = std::max(largest_wal, wal_pages(path));
  }
  TempDir dir;
  std::string path;
  std::unique_ptr<Store> s;
  int seq = 0;
  std::int64_t largest_wal = 0;
};

}  // namespace

TEST_CASE("background checkpoints: the WAL is copied back off the committing thread and restarts") {
  BackgroundCheckpointStore b("checkpoints.db");
  auto& s = b.s;
  for (int round = 0; round < 4; ++round) {
    // ~1 400 pages: past the 1 000 that wake the thread
    for (int commit = 0; commit < 12; ++commit) b.commit();
    // What the daemon's loop does when it finds no work: a checkpoint that starts after the last
    // commit copies every frame, so the next commit starts the WAL over. Waiting for a thread,
    // not a time window (bounded at 20 s).
    s->idle();
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (s->checkpoints().served < s->checkpoints().requested &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    REQUIRE(s->checkpoints().requested > 0);
    REQUIRE(s->checkpoints().served == s->checkpoints().requested);
  }
  CHECK(s->checkpoints().writer == 0);  // never needed: the WAL stayed under kWriterCheckpointPages
  // Without checkpoints the WAL would hold every frame written (4 x 1 400 pages).
  CHECK(b.largest_wal < 2000);
  CHECK(*s->event_count() == 4'800);
  CHECK(Raw(b.path).scalar("SELECT count(*) FROM events") == "4800");
}

TEST_CASE("background checkpoints: under commits without pause the writer bounds the WAL itself") {
  BackgroundCheckpointStore b("busy.db");
  // A PASSIVE checkpoint running beside back-to-back commits never catches the last frame, so the
  // WAL cannot start over by itself: past kWriterCheckpointPages the writer copies the rest.
  for (int commit = 0; commit < 100; ++commit) {  // ~12 000 pages
    b.commit();
  }
  CHECK(b.largest_wal < kWriterCheckpointPages + 300);
  CHECK(b.s->checkpoints().writer >= 1);
  CHECK(*b.s->event_count() == 10'000);
}

TEST_CASE("without background checkpoints no checkpoint thread runs") {
  TempDir dir;
  auto s = open_store(dir.file("plain.db"));
  REQUIRE(s->insert_events(std::vector<bus::Event>{event("p1")}));
  CHECK(s->checkpoints().background == 0);
  CHECK(s->checkpoints().writer == 0);
}
