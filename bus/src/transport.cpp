// BusContext and the frame helpers shared by the bus sockets.
#include "vigie/bus/transport.h"

#include <zmq.hpp>

namespace vigie::bus {

BusContext::BusContext() : ctx_(std::make_unique<zmq::context_t>(1)) {}
BusContext::~BusContext() = default;
zmq::context_t& BusContext::zmq() { return *ctx_; }

}  // namespace vigie::bus
