// PUB/SUB fan-out. The publisher is an XPUB socket: it reads the subscriptions, so an event no
// observer asked for is never encoded (the common case: no observer at all).
#include "vigie/bus/fanout.h"

#include <set>

#include "frames.h"
#include "vigie/bus/codec.h"

namespace vigie::bus {

struct Publisher::Impl {
  zmq::socket_t socket;
  Logger log;
  // Prefixes some subscriber wants. XPUB passes a topic's subscription up once and its
  // unsubscription when the last subscriber to it leaves (or disconnects): a set is enough.
  std::set<std::string, std::less<>> prefixes;
  Impl(BusContext& ctx, const std::string& endpoint, Logger l)
      : socket(ctx.zmq(), zmq::socket_type::xpub), log(std::move(l)) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::sndhwm, 10000);
    socket.bind(endpoint);
  }

  void read_subscriptions() {
    zmq::message_t m;
    while (socket.recv(m, zmq::recv_flags::dontwait)) {
      if (m.size() == 0) continue;
      const auto* data = static_cast<const char*>(m.data());
      std::string prefix(data + 1, m.size() - 1);
      if (data[0] == 1) {
        prefixes.insert(std::move(prefix));
      } else if (data[0] == 0) {
        prefixes.erase(prefix);
      }
    }
  }

  bool wanted(std::string_view kind) const {
    for (const auto& p : prefixes) {
      if (kind.substr(0, p.size()) == p) return true;
    }
    return false;
  }
};

Publisher::Publisher(BusContext& ctx, const std::string& endpoint, Logger log)
    : impl_(std::make_unique<Impl>(ctx, endpoint, std::move(log))) {}
Publisher::~Publisher() = default;

void Publisher::publish(const Event& event) {
  try {
    impl_->read_subscriptions();
    if (!impl_->wanted(event.kind)) return;
    const std::string body = encode_event(event);
    detail::send_frames(impl_->socket, {event.kind, body}, true);
  } catch (const zmq::error_t& e) {
    impl_->log.warn("publish failed", {{"error", e.what()}});
  }
}

bool Publisher::has_subscriber(std::string_view kind) {
  try {
    impl_->read_subscriptions();
  } catch (const zmq::error_t& e) {
    impl_->log.warn("reading subscriptions failed", {{"error", e.what()}});
  }
  return impl_->wanted(kind);
}

std::string Publisher::bound_endpoint() const {
  return impl_->socket.get(zmq::sockopt::last_endpoint);
}

struct Subscriber::Impl {
  zmq::socket_t socket;
  Impl(BusContext& ctx, const std::string& endpoint, const std::string& prefix)
      : socket(ctx.zmq(), zmq::socket_type::sub) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::subscribe, prefix);
    socket.connect(endpoint);
  }
};

Subscriber::Subscriber(BusContext& ctx, const std::string& endpoint, const std::string& prefix)
    : impl_(std::make_unique<Impl>(ctx, endpoint, prefix)) {}
Subscriber::~Subscriber() = default;

std::optional<Event> Subscriber::receive(std::chrono::milliseconds timeout) {
  try {
    zmq::pollitem_t item{static_cast<void*>(impl_->socket), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) <= 0) return std::nullopt;
    auto frames = detail::recv_frames(impl_->socket);
    if (frames.size() != 2) return std::nullopt;
    auto e = decode_event(frames[1]);
    if (!e) return std::nullopt;
    return std::move(*e);
  } catch (const zmq::error_t&) {
    return std::nullopt;
  }
}

}  // namespace vigie::bus
