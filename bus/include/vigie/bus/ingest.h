// Acked event ingest. Producers call IngestClient::submit from any thread; the engine owns an
// IngestServer inside its event loop and acks each batch after its commit. A producer never sees
// success for an event the engine has not stored.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vigie/bus/event.h"
#include "vigie/bus/transport.h"
#include "vigie/core/clock.h"
#include "vigie/core/log.h"

namespace vigie::bus {

enum class IngestStatus {
  stored,      // committed now
  duplicate,   // an event with this id was stored before: acked, not processed again
  rejected,    // the engine refused it (the reason says why); retrying will not help
  overloaded,  // the producer's window is full: retry later (HTTP 503)
  timeout,     // no ack in time (engine down or slow): retry later (HTTP 503)
  unavailable  // the store failed to commit: retry later (HTTP 503)
};
std::string_view ingest_status_name(IngestStatus s);

struct IngestResult {
  std::string id;
  IngestStatus status = IngestStatus::stored;
  std::string reason;
};

using IngestCallback = std::function<void(std::vector<IngestResult>)>;

class IngestClient {
 public:
  struct Options {
    std::string endpoint;
    std::size_t window = 64;     // batches sent and not yet acked
    std::size_t queue = 4096;    // batches waiting for the window; beyond: overloaded
    Duration ack_timeout{10'000};
    std::string name = "producer";
  };
  IngestClient(BusContext& ctx, Options options, Clock& clock, Logger log);
  ~IngestClient();
  IngestClient(const IngestClient&) = delete;
  IngestClient& operator=(const IngestClient&) = delete;

  // Sends `events` as one batch. `done` runs exactly once, on the client's I/O thread, with one
  // result per event in order. Thread-safe.
  void submit(std::vector<Event> events, IngestCallback done);
  // Blocks until the batch is acked or fails; for collectors and tests.
  std::vector<IngestResult> submit_and_wait(std::vector<Event> events);

  std::size_t in_flight() const;
  // False once a batch went unacked past ack_timeout, until an ack arrives again: the engine is
  // down or unreachable (a collector process's health check).
  bool engine_answering() const;
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// One batch as the engine receives it.
struct IngestBatch {
  std::string peer;  // ROUTER identity of the producer
  std::uint64_t seq = 0;
  std::vector<Event> events;
  std::vector<IngestResult> invalid;  // events that failed to decode, answered as rejected
  bool local = false;                 // came over inproc:// as values: acked the same way
  // Local batches: each event's attrs as JSON, encoded by the producer off the engine's thread
  // (Store::insert_events writes them as they are). Empty otherwise.
  std::vector<std::string> attrs_json;
};

// The engine side. Not thread-safe: used from the engine's loop only.
class IngestServer {
 public:
  IngestServer(BusContext& ctx, const std::string& endpoint, Logger log);
  ~IngestServer();
  // The socket to poll (a zmq socket handle, as void*).
  void* socket_handle();
  // Reads every batch ready now, up to `max_events` events in all (group commit size).
  std::vector<IngestBatch> drain(std::size_t max_events);
  // Answers one batch: `results` for its valid events, in order (invalid ones are added).
  void ack(const IngestBatch& batch, const std::vector<IngestResult>& results);
  std::string bound_endpoint() const;  // with the real port for tcp://...:*

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::bus
