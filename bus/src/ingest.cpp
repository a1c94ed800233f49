// Acked ingest: IngestClient (DEALER, own I/O thread, bounded window) and IngestServer (ROUTER,
// polled by the engine loop). No exception leaves the client thread: ZeroMQ errors are logged
// and turn the affected batches into `unavailable` results.
//
// Over inproc:// (one process, the default) a batch and its ack travel as the decoded values, not
// as JSON: inproc hands a message from thread to thread without copying it, so the message is a
// heap object (LocalBatch, LocalAck) that ZeroMQ frees when the message is closed — delivered or
// dropped. A server bound to anything else never reads such a frame.
#include "vigie/bus/ingest.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "frames.h"
#include "vigie/bus/codec.h"
#include "vigie/core/text.h"
#include "waker.h"

namespace vigie::bus {

std::string_view ingest_status_name(IngestStatus s) {
  switch (s) {
    case IngestStatus::stored:
      return "stored";
    case IngestStatus::duplicate:
      return "duplicate";
    case IngestStatus::rejected:
      return "rejected";
    case IngestStatus::overloaded:
      return "overloaded";
    case IngestStatus::timeout:
      return "timeout";
    case IngestStatus::unavailable:
      return "unavailable";
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

constexpr std::string_view kLocalIngest = "ingest-local";
constexpr std::string_view kLocalAck = "ack-local";

struct LocalBatch {
  static constexpr std::uint64_t kMagic = 0x7669676965626174;  // "vigiebat"
  std::uint64_t magic = kMagic;
  const LocalBatch* self = this;  // a copied buffer would not point at itself: refused
  std::uint64_t seq = 0;
  std::vector<Event> events;
  std::vector<std::string> attrs_json;  // one per event, encoded on the producer's thread
};

struct LocalAck {
  static constexpr std::uint64_t kMagic = 0x766967696561636b;  // "vigieack"
  std::uint64_t magic = kMagic;
  const LocalAck* self = this;
  std::uint64_t seq = 0;
  std::vector<IngestResult> results;
};

template <class T>
zmq::message_t to_message(std::unique_ptr<T> value) {
  T* raw = value.release();
  return zmq::message_t(
      raw, sizeof(T), [](void*, void* hint) { delete static_cast<T*>(hint); }, raw);
}

// The object a local frame carries, or null when the frame is not one (wrong size or marks).
template <class T>
T* from_message(zmq::message_t& m) {
  if (m.size() != sizeof(T)) return nullptr;
  auto* p = static_cast<T*>(m.data());
  if (p->magic != T::kMagic || p->self != p) return nullptr;
  return p;
}

bool sends_local(const std::string& endpoint) { return endpoint.rfind("inproc://", 0) == 0; }

// Strings an upstream sent as invalid UTF-8 are replaced, as the JSON codec does on the wire, so
// the engine sees the same event over inproc:// and tcp://.
bool valid_utf8_text(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = (c & 0xE0) == 0xC0   ? 2
                          : (c & 0xF0) == 0xE0 ? 3
                          : (c & 0xF8) == 0xF0 ? 4
                                               : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

bool valid_utf8_json(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::string:
      return valid_utf8_text(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::array:
      return std::all_of(j.begin(), j.end(),
                         [](const nlohmann::json& v) { return valid_utf8_json(v); });
    case nlohmann::json::value_t::object:
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!valid_utf8_text(it.key()) || !valid_utf8_json(it.value())) return false;
      }
      return true;
    default:
      return true;
  }
}

void sanitize_utf8(Event& e) {
  if (valid_utf8_text(e.id) && valid_utf8_text(e.source) && valid_utf8_text(e.kind) &&
      valid_utf8_json(e.attrs))
    return;
  if (auto clean = decode_event(encode_event(e))) e = std::move(*clean);
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
    std::string body;                     // the JSON batch, over tcp://
    std::vector<Event> events;            // the batch itself, over inproc://
    std::vector<std::string> attrs_json;  // and each one's attrs as the store writes them
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
  std::uint64_t next_seq = 1;                // guarded by mutex
  const bool local;

  Impl(BusContext& ctx, Options o, Clock& c, Logger l)
      : options(std::move(o)),
        clock(c),
        log(std::move(l)),
        socket(ctx.zmq(), zmq::socket_type::dealer),
        local(sends_local(options.endpoint)) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::routing_id,
               options.name + "-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
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
        std::vector<zmq::message_t> parts;
        if (!zmq::recv_multipart(socket, std::back_inserter(parts), zmq::recv_flags::dontwait))
          break;
        if (local && parts.size() == 2 && parts[0].to_string_view() == kLocalAck) {
          if (auto* ack = from_message<LocalAck>(parts[1])) {
            on_results(ack->seq, std::move(ack->results));
            continue;
          }
        }
        std::vector<std::string> frames;
        for (auto& p : parts) frames.emplace_back(p.to_string());
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
      if (!(local ? send_local(p)
                  : detail::send_frames(socket, {"ingest", p.body}, /*dontwait=*/true))) {
        p.done(all_with(p.ids, IngestStatus::overloaded, "engine not accepting"));
        continue;
      }
      const auto seq = p.seq;
      sent.emplace(seq, std::move(p));
      in_flight = sent.size();
    }
  }

  bool send_local(Pending& p) {
    auto batch = std::make_unique<LocalBatch>();
    batch->seq = p.seq;
    batch->events = std::move(p.events);
    batch->attrs_json = std::move(p.attrs_json);
    if (!socket.send(zmq::buffer(kLocalIngest),
                     zmq::send_flags::sndmore | zmq::send_flags::dontwait))
      return false;
    return socket.send(to_message(std::move(batch)), zmq::send_flags::dontwait).has_value();
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
    std::vector<IngestResult> results;
    for (const auto& r : body.value("results", nlohmann::json::array())) {
      IngestResult res;
      res.id = r.value("id", "");
      res.status = parse_status(r.value("status", "")).value_or(IngestStatus::rejected);
      res.reason = r.value("reason", "");
      results.push_back(std::move(res));
    }
    on_results(body["seq"].get<std::uint64_t>(), std::move(results));
  }

  void on_results(std::uint64_t seq, std::vector<IngestResult> results) {
    auto it = sent.find(seq);
    if (it == sent.end()) return;  // acked after its timeout: the producer already gave up
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
        it->second.done(
            all_with(it->second.ids, IngestStatus::timeout, "no ack from the engine in time"));
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
  p.ids.reserve(events.size());
  nlohmann::json list = nlohmann::json::array();
  for (auto& e : events) {
    p.ids.push_back(e.id);
    if (impl_->local) {
      sanitize_utf8(e);
      p.attrs_json.push_back(
          e.attrs.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
      list.push_back(event_to_json(e));
    }
  }
  if (impl_->local) p.events = std::move(events);
  bool accepted = false;
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->stopping && impl_->queue.size() < impl_->options.queue) {
      p.seq = impl_->next_seq++;
      if (!impl_->local) {
        p.body =
            nlohmann::json{{"v", kBusVersion}, {"seq", p.seq}, {"events", std::move(list)}}.dump(
                -1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
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
  submit(std::move(events),
         [&promise](std::vector<IngestResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

std::size_t IngestClient::in_flight() const { return impl_->in_flight; }
bool IngestClient::engine_answering() const { return impl_->engine_answering; }

void IngestClient::stop() { impl_->stop(); }

struct IngestServer::Impl {
  zmq::socket_t socket;
  Logger log;
  const bool local;  // bound to inproc://: local frames come from this process only
  Impl(BusContext& ctx, const std::string& endpoint, Logger l)
      : socket(ctx.zmq(), zmq::socket_type::router),
        log(std::move(l)),
        local(sends_local(endpoint)) {
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
    std::vector<zmq::message_t> parts;
    try {
      if (!zmq::recv_multipart(impl_->socket, std::back_inserter(parts), zmq::recv_flags::dontwait))
        break;
    } catch (const zmq::error_t& e) {
      impl_->log.error("ingest receive failed", {{"error", e.what()}});
      break;
    }
    if (parts.empty()) break;
    if (impl_->local && parts.size() == 3 && parts[1].to_string_view() == kLocalIngest) {
      auto* local = from_message<LocalBatch>(parts[2]);
      if (!local) {
        impl_->log.warn("malformed local ingest batch");
        continue;
      }
      IngestBatch batch;
      batch.peer = parts[0].to_string();
      batch.seq = local->seq;
      batch.local = true;
      batch.events.reserve(local->events.size());
      const bool encoded = local->attrs_json.size() == local->events.size();
      for (std::size_t i = 0; i < local->events.size(); ++i) {
        auto& e = local->events[i];
        if (e.id.empty() || e.kind.empty()) {
          batch.invalid.push_back(
              {e.id, IngestStatus::rejected,
               e.id.empty() ? "event field 'id' is empty" : "event field 'kind' is empty"});
        } else {
          batch.events.push_back(std::move(e));
          if (encoded) batch.attrs_json.push_back(std::move(local->attrs_json[i]));
        }
      }
      count += batch.events.size() + batch.invalid.size();
      out.push_back(std::move(batch));
      continue;
    }
    std::vector<std::string> frames;
    frames.reserve(parts.size());
    for (auto& p : parts) frames.emplace_back(p.to_string());
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
        const std::string id = e.is_object() && e.contains("id") && e["id"].is_string()
                                   ? e["id"].get<std::string>()
                                   : "";
        batch.invalid.push_back({id, IngestStatus::rejected, event.error().message});
      }
    }
    count += batch.events.size() + batch.invalid.size();
    out.push_back(std::move(batch));
  }
  return out;
}

void IngestServer::ack(const IngestBatch& batch, const std::vector<IngestResult>& results) {
  if (batch.local) {
    auto ack = std::make_unique<LocalAck>();
    ack->seq = batch.seq;
    ack->results.reserve(results.size() + batch.invalid.size());
    ack->results.insert(ack->results.end(), results.begin(), results.end());
    ack->results.insert(ack->results.end(), batch.invalid.begin(), batch.invalid.end());
    try {
      impl_->socket.send(zmq::buffer(batch.peer),
                         zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      impl_->socket.send(zmq::buffer(kLocalAck),
                         zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      impl_->socket.send(to_message(std::move(ack)), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      impl_->log.warn("ingest ack not delivered", {{"error", e.what()}});
    }
    return;
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto* group : {&results, &batch.invalid}) {
    for (const auto& r : *group) {
      list.push_back(
          {{"id", r.id}, {"status", ingest_status_name(r.status)}, {"reason", r.reason}});
    }
  }
  const std::string body =
      nlohmann::json{{"v", kBusVersion}, {"seq", batch.seq}, {"results", list}}.dump(
          -1, ' ', false, nlohmann::json::error_handler_t::replace);
  try {
    detail::send_frames(impl_->socket, {batch.peer, "ack", body}, /*dontwait=*/true);
  } catch (const zmq::error_t& e) {
    // The producer is gone; it will time out and its sender retry (dedup makes that safe).
    impl_->log.warn("ingest ack not delivered", {{"error", e.what()}});
  }
}

}  // namespace vigie::bus
