// Fan-out of stored events and alert transitions to observers (`vigie tail`, the web view, other
// tools): PUB/SUB, the event kind as topic frame so a subscriber filters by prefix ("alert.").
// Delivery is best effort by design: an observer that is slow or absent never holds the engine.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "vigie/bus/event.h"
#include "vigie/bus/transport.h"
#include "vigie/core/log.h"

namespace vigie::bus {

class Publisher {
 public:
  Publisher(BusContext& ctx, const std::string& endpoint, Logger log);
  ~Publisher();
  // Sends the event if some subscriber asked for its kind; otherwise does nothing.
  void publish(const Event& event);
  // Whether some subscriber's prefix matches `kind` now (subscriptions are read first).
  bool has_subscriber(std::string_view kind);
  std::string bound_endpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Subscriber {
 public:
  // Subscribes to kinds starting with `prefix` ("" for all).
  Subscriber(BusContext& ctx, const std::string& endpoint, const std::string& prefix);
  ~Subscriber();
  // Waits up to `timeout` (real time: this is I/O) for the next event.
  std::optional<Event> receive(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::bus
