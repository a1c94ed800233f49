// PUB/SUB fan-out.
#include "vigie/bus/fanout.h"

#include "frames.h"
#include "vigie/bus/codec.h"

namespace vigie::bus {

struct Publisher::Impl {
  zmq::socket_t socket;
  Logger log;
  Impl(BusContext& ctx, const std::string& endpoint, Logger l)
      : socket(ctx.zmq(), zmq::socket_type::pub), log(std::move(l)) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::sndhwm, 10000);
    socket.bind(endpoint);
  }
};

Publisher::Publisher(BusContext& ctx, const std::string& endpoint, Logger log)
    : impl_(std::make_unique<Impl>(ctx, endpoint, std::move(log))) {}
Publisher::~Publisher() = default;

void Publisher::publish(const Event& event) {
  try {
    const std::string body = encode_event(event);
    detail::send_frames(impl_->socket, {event.kind, body}, true);
  } catch (const zmq::error_t& e) {
    impl_->log.warn("publish failed", {{"error", e.what()}});
  }
}

std::string Publisher::bound_endpoint() const { return impl_->socket.get(zmq::sockopt::last_endpoint); }

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
