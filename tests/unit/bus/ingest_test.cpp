// Acked ingest over the bus: acks only after the (simulated) engine commits, dedup, a bounded
// window, timeouts on the injected clock, overload, and tcp on 127.0.0.1 with an OS-chosen port.
#include <catch2/catch.hpp>

#include <zmq.hpp>

#include <atomic>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include "vigie/bus/ingest.h"

using namespace vigie;
using namespace vigie::bus;

namespace {

// Polls `pred` until true or 5 s of real time pass: synchronisation with bus threads, not a
// stand-in for time passing (that is the FakeClock's job).
template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 5000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

Event event(std::string id) {
  Event e;
  e.id = std::move(id);
  e.source = "webhook";
  e.kind = "deploy.finished";
  e.attrs = {{"app", "shop-api"}};
  return e;
}

// A stand-in engine: drains batches, "stores" ids in a set, acks. `hold` stops acking.
struct FakeEngine {
  IngestServer server;
  std::set<std::string> stored;
  std::atomic<bool> hold{false};
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> batches{0};
  std::thread thread;
  std::mutex mutex;
  FakeEngine(BusContext& ctx, const std::string& endpoint, Logger log)
      : server(ctx, endpoint, std::move(log)) {}
  void start() {
    thread = std::thread([this] {
      while (!stop) {
        zmq::pollitem_t item{server.socket_handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(10));
        if (hold) continue;
        for (auto& batch : server.drain(1000)) {
          ++batches;
          std::vector<IngestResult> results;
          std::lock_guard lock(mutex);
          for (const auto& e : batch.events) {
            const bool fresh = stored.insert(e.id).second;
            results.push_back({e.id, fresh ? IngestStatus::stored : IngestStatus::duplicate, ""});
          }
          server.ack(batch, results);
        }
      }
    });
  }
  ~FakeEngine() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
};

struct Fixture {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  BusContext ctx;
  FakeClock clock;
};

}  // namespace

TEST_CASE("a batch is acked per event after the engine stores it, duplicates are acked as such") {
  Fixture f;
  FakeEngine engine(f.ctx, "inproc://ingest-test-1", f.logging.logger("engine"));
  engine.start();
  IngestClient client(f.ctx, {"inproc://ingest-test-1"}, f.clock, f.logging.logger("producer"));
  auto r = client.submit_and_wait({event("a"), event("b")});
  REQUIRE(r.size() == 2);
  CHECK(r[0].id == "a");
  CHECK(r[0].status == IngestStatus::stored);
  CHECK(r[1].status == IngestStatus::stored);
  auto again = client.submit_and_wait({event("b"), event("c")});
  CHECK(again[0].status == IngestStatus::duplicate);
  CHECK(again[1].status == IngestStatus::stored);
  CHECK(engine.stored == std::set<std::string>{"a", "b", "c"});
}

TEST_CASE("no more than `window` batches are in flight, the rest wait, none is lost") {
  Fixture f;
  FakeEngine engine(f.ctx, "inproc://ingest-test-2", f.logging.logger("engine"));
  engine.hold = true;
  engine.start();
  IngestClient::Options o{"inproc://ingest-test-2"};
  o.window = 4;
  IngestClient client(f.ctx, o, f.clock, f.logging.logger("producer"));
  std::atomic<int> acked{0};
  for (int i = 0; i < 20; ++i) {
    client.submit({event("e" + std::to_string(i))}, [&](std::vector<IngestResult> r) {
      if (r[0].status == IngestStatus::stored) ++acked;
    });
  }
  CHECK(eventually([&] { return client.in_flight() == 4; }));
  CHECK(acked == 0);
  engine.hold = false;
  CHECK(eventually([&] { return acked == 20; }));
  CHECK(engine.stored.size() == 20);
}

TEST_CASE("without an ack before the deadline on the injected clock, the batch times out") {
  Fixture f;
  FakeEngine engine(f.ctx, "inproc://ingest-test-3", f.logging.logger("engine"));
  engine.hold = true;
  engine.start();
  IngestClient::Options o{"inproc://ingest-test-3"};
  o.ack_timeout = std::chrono::seconds(10);
  IngestClient client(f.ctx, o, f.clock, f.logging.logger("producer"));
  std::promise<std::vector<IngestResult>> done;
  client.submit({event("x")}, [&](std::vector<IngestResult> r) { done.set_value(std::move(r)); });
  CHECK(eventually([&] { return client.in_flight() == 1; }));
  f.clock.advance(std::chrono::seconds(9));
  auto fut = done.get_future();
  CHECK(fut.wait_for(std::chrono::milliseconds(200)) == std::future_status::timeout);
  f.clock.advance(std::chrono::seconds(1));
  REQUIRE(fut.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  auto r = fut.get();
  CHECK(r[0].status == IngestStatus::timeout);
  // A collector's health check reads this: the engine is not answering, until it acks again.
  CHECK_FALSE(client.engine_answering());
  engine.hold = false;
  auto again = client.submit_and_wait({event("y")});
  CHECK(again[0].status == IngestStatus::stored);
  CHECK(client.engine_answering());
}

TEST_CASE("a full queue answers overloaded at once") {
  Fixture f;
  FakeEngine engine(f.ctx, "inproc://ingest-test-4", f.logging.logger("engine"));
  engine.hold = true;
  engine.start();
  IngestClient::Options o{"inproc://ingest-test-4"};
  o.window = 1;
  o.queue = 2;
  IngestClient client(f.ctx, o, f.clock, f.logging.logger("producer"));
  std::atomic<int> overloaded{0};
  for (int i = 0; i < 10; ++i) {
    client.submit({event("o" + std::to_string(i))}, [&](std::vector<IngestResult> r) {
      if (r[0].status == IngestStatus::overloaded) ++overloaded;
    });
  }
  // 1 in flight + 2 queued at most: at least 7 refused straight away.
  CHECK(overloaded >= 7);
  client.stop();  // every other callback still runs once (unavailable)
}

TEST_CASE("ingest works over tcp on 127.0.0.1 with an OS-chosen port") {
  Fixture f;
  FakeEngine engine(f.ctx, "tcp://127.0.0.1:*", f.logging.logger("engine"));
  const std::string endpoint = engine.server.bound_endpoint();
  CHECK(endpoint.rfind("tcp://127.0.0.1:", 0) == 0);
  engine.start();
  BusContext other;  // another "process"
  IngestClient client(other, {endpoint}, f.clock, f.logging.logger("producer"));
  auto r = client.submit_and_wait({event("tcp-1")});
  CHECK(r[0].status == IngestStatus::stored);
}

TEST_CASE("an undecodable event is rejected with a reason, the rest of its batch is stored") {
  Fixture f;
  IngestServer server(f.ctx, "inproc://ingest-test-6", f.logging.logger("engine"));
  zmq::socket_t raw(f.ctx.zmq(), zmq::socket_type::dealer);
  raw.connect("inproc://ingest-test-6");
  const std::string body =
      R"({"v":1,"seq":7,"events":[{"v":1,"id":"ok","source":"s","kind":"k","time":"2026-01-01T00:00:00Z","received_at":"2026-01-01T00:00:00Z","attrs":{}},{"v":1,"id":"bad","kind":"k"}]})";
  raw.send(zmq::buffer(std::string("ingest")), zmq::send_flags::sndmore);
  raw.send(zmq::buffer(body));
  std::vector<IngestBatch> batches;
  REQUIRE(eventually([&] {
    batches = server.drain(100);
    return !batches.empty();
  }));
  REQUIRE(batches[0].events.size() == 1);
  REQUIRE(batches[0].invalid.size() == 1);
  CHECK(batches[0].invalid[0].id == "bad");
  CHECK(batches[0].invalid[0].status == IngestStatus::rejected);
  CHECK(batches[0].invalid[0].reason == "event field 'source' is missing or not a string");
}

namespace {

// A stand-in engine that keeps what it received, to compare with what was sent.
struct KeepingEngine {
  IngestServer server;
  std::vector<Event> received;
  KeepingEngine(BusContext& ctx, const std::string& endpoint, Logger log)
      : server(ctx, endpoint, std::move(log)) {}
  // Drains one batch (waiting for it), acks every valid event as stored.
  IngestBatch take() {
    std::vector<IngestBatch> batches;
    eventually([&] {
      batches = server.drain(1000);
      return !batches.empty();
    });
    REQUIRE(batches.size() == 1);
    std::vector<IngestResult> results;
    for (const auto& e : batches[0].events) {
      received.push_back(e);
      results.push_back({e.id, IngestStatus::stored, ""});
    }
    server.ack(batches[0], results);
    return std::move(batches[0]);
  }
};

// Submits `events`, lets `engine` take their batch (into `*taken`), and returns the results the
// client got for them.
std::vector<IngestResult> round_trip(IngestClient& client, KeepingEngine& engine,
                                     std::vector<Event> events, IngestBatch* taken) {
  std::promise<std::vector<IngestResult>> done;
  client.submit(std::move(events),
                [&](std::vector<IngestResult> r) { done.set_value(std::move(r)); });
  *taken = engine.take();
  auto fut = done.get_future();
  REQUIRE(fut.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  return fut.get();
}

}  // namespace

TEST_CASE(
    "over inproc a batch arrives as the events themselves, invalid UTF-8 replaced as on the wire") {
  Fixture f;
  KeepingEngine engine(f.ctx, "inproc://ingest-test-7", f.logging.logger("engine"));
  IngestClient client(f.ctx, {"inproc://ingest-test-7"}, f.clock, f.logging.logger("producer"));
  Event nested = event("nested");
  nested.time = from_unix_ms(1'700'000'000'123);
  nested.attrs = {{"labels", {{"app", "shop"}, {"n", 3}}}, {"list", {1, "two", nullptr}}};
  Event broken = event("broken");
  broken.attrs = {{"message", std::string("bad \xff byte")}};
  IngestBatch batch;
  auto r = round_trip(client, engine, {nested, broken}, &batch);
  CHECK(batch.local);
  REQUIRE(engine.received.size() == 2);
  CHECK(engine.received[0] == nested);
  CHECK(engine.received[1].attrs["message"] == "bad \xEF\xBF\xBD byte");
  // The store writes the attrs text the producer encoded.
  REQUIRE(batch.attrs_json.size() == 2);
  CHECK(batch.attrs_json[0] == nested.attrs.dump());
  CHECK(batch.attrs_json[1] == engine.received[1].attrs.dump());
  REQUIRE(r.size() == 2);
  CHECK(r[0].id == "nested");
  CHECK(r[1].status == IngestStatus::stored);
}

TEST_CASE(
    "over inproc an event without id or kind is rejected, the rest stored, results in order") {
  Fixture f;
  KeepingEngine engine(f.ctx, "inproc://ingest-test-8", f.logging.logger("engine"));
  IngestClient client(f.ctx, {"inproc://ingest-test-8"}, f.clock, f.logging.logger("producer"));
  Event no_kind = event("no-kind");
  no_kind.kind.clear();
  IngestBatch batch;
  auto r = round_trip(client, engine, {event("fine"), no_kind}, &batch);
  CHECK(batch.attrs_json.size() == batch.events.size());
  REQUIRE(r.size() == 2);
  CHECK(r[0].status == IngestStatus::stored);
  CHECK(r[1].id == "no-kind");
  CHECK(r[1].status == IngestStatus::rejected);
  CHECK(r[1].reason == "event field 'kind' is empty");
}

TEST_CASE("a server bound to tcp reads no in-process frame: a forged one is dropped") {
  Fixture f;
  IngestServer server(f.ctx, "tcp://127.0.0.1:*", f.logging.logger("engine"));
  zmq::socket_t raw(f.ctx.zmq(), zmq::socket_type::dealer);
  raw.connect(server.bound_endpoint());
  const std::string forged(40, 'x');
  raw.send(zmq::buffer(std::string("ingest-local")), zmq::send_flags::sndmore);
  raw.send(zmq::buffer(forged));
  raw.send(zmq::buffer(std::string("ingest")), zmq::send_flags::sndmore);
  raw.send(zmq::buffer(std::string(R"({"v":1,"seq":1,"events":[]})")));
  std::vector<IngestBatch> batches;
  REQUIRE(eventually([&] {
    auto got = server.drain(100);
    batches.insert(batches.end(), got.begin(), got.end());
    return !batches.empty();
  }));
  REQUIRE(batches.size() == 1);  // the JSON one only
  CHECK_FALSE(batches[0].local);
  CHECK(batches[0].seq == 1);
}
