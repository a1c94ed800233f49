// Acked ingest: IngestClient (DEALER, own I/O thread, bounded window) and IngestServer (ROUTER,
// polled by the engine loop). No exception leaves the client thread: ZeroMQ errors are logged
// and turn the affected batches into `unavailable` results.
#include "vigie/bus/ingest.h"

#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "frames.h"
#include "waker.h"
#include "vigie/bus/codec.h"
#include "vigie/core/text.h"

namespace vigie::bus {

std::string_view ingest_status_name(IngestStatus s) {
  switch (s) {
    case IngestStatus::stored: return "stored";
    case IngestStatus::duplicate: return "duplicate";
    case IngestStatus::rejected: return "rejected";
    case IngestStatus::overloaded: return "overloaded";
    case IngestStatus::timeout: return "timeout";
    case IngestStatus::unavailable: return "unavailable";
  }
  return "unknown";
}

namespace {

std::optional<IngestStatus> parse_status(std::string_view s) {
  for (auto st : {IngestStatus::stored, IngestStatus::duplicate, IngestStatus::rejected,
                  IngestStatus::overloaded, IngestStatus::timeout, IngestStatus::unavailable}) {
    if (ingest_status_name(st) == s) return st;
  }
  return std::nullopt;
}

std::vector<IngestResult> all_with(const std::vector<std::string>& ids, IngestStatus status,
                                   const std::string& reason) {
  std::vector<IngestResult> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.push_back({id, status, reason});
  return out;
}

}  // namespace

struct IngestClient::Impl {
  struct Pending {
    std::uint64_t seq = 0;
    std::vector<std::string> ids;
    std::string body;
    IngestCallback done;
    SteadyPoint deadline{};
  };

  Options options;
  Clock& clock;
  Logger log;
  zmq::socket_t socket;
  detail::Waker waker;
  std::thread thread;
  std::atomic<bool> stopping{false};
  mutable std::mutex mutex;
  std::deque<Pending> queue;              // guarded by mutex
  std::map<std::uint64_t, Pending> sent;  // I/O thread only
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> engine_answering{true};  // false after a batch timed out, until the next ack
  std::uint64_t next_seq = 1;  // guarded by mutex

  Impl(BusContext& ctx, Options o, Clock& c, Logger l)
      : options(std::move(o)), clock(c), log(std::move(l)), socket(ctx.zmq(), zmq::socket_type::dealer) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::routing_id, options.name + "-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    socket.connect(options.endpoint);
    thread = std::thread([this] { run(); });
  }

  ~Impl() { stop(); }

  void stop() {
    if (stopping.exchange(true)) return;
    wake();
    if (thread.joinable()) thread.join();
    // Whatever was not acked is failed, so every callback runs once.
    std::deque<Pending> left;
    {
      std::lock_guard lock(mutex);
      left.swap(queue);
    }
    for (auto& p : left) p.done(all_with(p.ids, IngestStatus::unavailable, "bus stopped"));
    for (auto& [seq, p] : sent) p.done(all_with(p.ids, IngestStatus::unavailable, "bus stopped"));
    sent.clear();
    in_flight = 0;
  }

  void wake() { waker.wake(); }

  void run() {
    while (!stopping) {
      try {
        loop_once();
      } catch (const std::exception& e) {
        log.error("ingest client error", {{"error", e.what()}});
        fail_all_sent(std::string("bus error: ") + e.what());
      }
    }
  }

  void fail_all_sent(const std::string& reason) {
    for (auto& [seq, p] : sent) p.done(all_with(p.ids, IngestStatus::unavailable, reason));
    sent.clear();
    in_flight = 0;
  }

  void loop_once() {
    // Poll at most 50 ms so deadlines on an injected clock are checked often enough.
    zmq::pollitem_t items[] = {{static_cast<void*>(socket), 0, ZMQ_POLLIN, 0},
                               {nullptr, waker.fd(), ZMQ_POLLIN, 0}};
    zmq::poll(items, 2, std::chrono::milliseconds(50));
    if (items[1].revents & ZMQ_POLLIN) waker.drain();
    if (items[0].revents & ZMQ_POLLIN) {
      for (;;) {
        auto frames = detail::recv_frames(socket);
        if (frames.empty()) break;
        on_ack(frames);
      }
    }
    expire();
    send_queued();
  }

  void send_queued() {
    for (;;) {
      Pending p;
      {
        std::lock_guard lock(mutex);
        if (queue.empty() || sent.size() >= options.window) return;
        p = std::move(queue.front());
        queue.pop_front();
      }
      p.deadline = clock.steady_now() + options.ack_timeout;
      if (!detail::send_frames(socket, {"ingest", p.body}, /*dontwait=*/true)) {
        p.done(all_with(p.ids, IngestStatus::overloaded, "engine not accepting"));
        continue;
      }
      const auto seq = p.seq;
      sent.emplace(seq, std::move(p));
      in_flight = sent.size();
    }
  }

  void on_ack(const std::vector<std::string>& frames) {
    if (frames.size() != 2 || frames[0] != "ack") {
      log.warn("unexpected ingest frame", {{"frames", frames.size()}});
      return;
    }
    auto body = nlohmann::json::parse(frames[1], nullptr, false);
    if (body.is_discarded() || body.value("v", 0) != kBusVersion || !body.contains("seq")) {
      log.warn("malformed ingest ack");
      return;
    }
    auto it = sent.find(body["seq"].get<std::uint64_t>());
    if (it == sent.end()) return;  // acked after its timeout: the producer already gave up
    std::vector<IngestResult> results;
    for (const auto& r : body.value("results", nlohmann::json::array())) {
      IngestResult res;
      res.id = r.value("id", "");
      res.status = parse_status(r.value("status", "")).value_or(IngestStatus::rejected);
      res.reason = r.value("reason", "");
      results.push_back(std::move(res));
    }
    auto done = std::move(it->second.done);
    sent.erase(it);
    in_flight = sent.size();
    engine_answering = true;
    done(std::move(results));
  }

  void expire() {
    const auto now = clock.steady_now();
    for (auto it = sent.begin(); it != sent.end();) {
      if (it->second.deadline <= now) {
        // Before the callback: whoever it wakes (a collector's health check) sees the silence.
        engine_answering = false;
        it->second.done(all_with(it->second.ids, IngestStatus::timeout, "no ack from the engine in time"));
        it = sent.erase(it);
      } else {
        ++it;
      }
    }
    in_flight = sent.size();
  }
};

IngestClient::IngestClient(BusContext& ctx, Options options, Clock& clock, Logger log)
    : impl_(std::make_unique<Impl>(ctx, std::move(options), clock, std::move(log))) {}

IngestClient::~IngestClient() = default;

void IngestClient::submit(std::vector<Event> events, IngestCallback done) {
  Impl::Pending p;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : events) {
    p.ids.push_back(e.id);
    list.push_back(event_to_json(e));
  }
  bool accepted = false;
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->stopping && impl_->queue.size() < impl_->options.queue) {
      p.seq = impl_->next_seq++;
      p.body = nlohmann::json{{"v", kBusVersion}, {"seq", p.seq}, {"events", std::move(list)}}
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      p.done = std::move(done);
      impl_->queue.push_back(std::move(p));
      accepted = true;
    }
  }
  if (!accepted) {
    done(all_with(p.ids, IngestStatus::overloaded, "too many events waiting for the engine"));
    return;
  }
  impl_->wake();
}

std::vector<IngestResult> IngestClient::submit_and_wait(std::vector<Event> events) {
  std::promise<std::vector<IngestResult>> promise;
  auto future = promise.get_future();
  submit(std::move(events), [&promise](std::vector<IngestResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

std::size_t IngestClient::in_flight() const { return impl_->in_flight; }
bool IngestClient::engine_answering() const { return impl_->engine_answering; }

void IngestClient::stop() { impl_->stop(); }

struct IngestServer::Impl {
  zmq::socket_t socket;
  Logger log;
  Impl(BusContext& ctx, const std::string& endpoint, Logger l)
      : socket(ctx.zmq(), zmq::socket_type::router), log(std::move(l)) {
    socket.set(zmq::sockopt::linger, 0);
    socket.bind(endpoint);
  }
};

IngestServer::IngestServer(BusContext& ctx, const std::string& endpoint, Logger log)
    : impl_(std::make_unique<Impl>(ctx, endpoint, std::move(log))) {}
IngestServer::~IngestServer() = default;

void* IngestServer::socket_handle() { return static_cast<void*>(impl_->socket); }

std::string IngestServer::bound_endpoint() const {
  return impl_->socket.get(zmq::sockopt::last_endpoint);
}

std::vector<IngestBatch> IngestServer::drain(std::size_t max_events) {
  std::vector<IngestBatch> out;
  std::size_t count = 0;
  while (count < max_events) {
    std::vector<std::string> frames;
    try {
      frames = detail::recv_frames(impl_->socket);
    } catch (const zmq::error_t& e) {
      impl_->log.error("ingest receive failed", {{"error", e.what()}});
      break;
    }
    if (frames.empty()) break;
    if (frames.size() != 3 || frames[1] != "ingest") {
      impl_->log.warn("unexpected ingest message", {{"frames", frames.size()}});
      continue;
    }
    IngestBatch batch;
    batch.peer = frames[0];
    if (json_nesting_depth(frames[2]) > kMaxJsonDepth + 4) {
      impl_->log.warn("ingest batch nested too deeply: dropped");
      continue;
    }
    auto body = nlohmann::json::parse(frames[2], nullptr, false);
    if (body.is_discarded() || !body.is_object() || body.value("v", 0) != kBusVersion ||
        !body.contains("seq") || !body["seq"].is_number_unsigned() || !body.contains("events") ||
        !body["events"].is_array()) {
      impl_->log.warn("malformed ingest batch");
      continue;
    }
    batch.seq = body["seq"].get<std::uint64_t>();
    for (const auto& e : body["events"]) {
      auto event = event_from_json(e);
      if (event) {
        batch.events.push_back(std::move(*event));
      } else {
        const std::string id = e.is_object() && e.contains("id") && e["id"].is_string() ? e["id"].get<std::string>() : "";
        batch.invalid.push_back({id, IngestStatus::rejected, event.error().message});
      }
    }
    count += batch.events.size() + batch.invalid.size();
    out.push_back(std::move(batch));
  }
  return out;
}

void IngestServer::ack(const IngestBatch& batch, const std::vector<IngestResult>& results) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto* group : {&results, &batch.invalid}) {
    for (const auto& r : *group) {
      list.push_back({{"id", r.id}, {"status", ingest_status_name(r.status)}, {"reason", r.reason}});
    }
  }
  const std::string body = nlohmann::json{{"v", kBusVersion}, {"seq", batch.seq}, {"results", list}}
                               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  try {
    detail::send_frames(impl_->socket, {batch.peer, "ack", body}, /*dontwait=*/true);
  } catch (const zmq::error_t& e) {
    // The producer is gone; it will time out and its sender retry (dedup makes that safe).
    impl_->log.warn("ingest ack not delivered", {{"error", e.what()}});
  }
}

}  // namespace vigie::bus
