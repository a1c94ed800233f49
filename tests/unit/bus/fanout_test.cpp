// Fan-out: subscribers receive what is published under the prefixes they asked for.
#include <catch2/catch.hpp>

#include <sstream>

#include "vigie/bus/fanout.h"

using namespace vigie;
using namespace vigie::bus;

TEST_CASE("subscribers get events by kind prefix") {
  std::ostringstream out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), out};
  BusContext ctx;
  Publisher pub(ctx, "inproc://fanout-1", logging.logger("pub"));
  Subscriber alerts(ctx, "inproc://fanout-1", "alert.");
  Subscriber all(ctx, "inproc://fanout-1", "");
  Event e;
  e.id = "1";
  e.source = "vigie";
  // A slow joiner may miss the first messages (PUB/SUB is best effort): publish until one lands.
  bool got = false;
  for (int i = 0; i < 200 && !got; ++i) {
    e.kind = "sentry.issue";
    pub.publish(e);
    e.kind = "alert.fired";
    pub.publish(e);
    if (auto r = alerts.receive(std::chrono::milliseconds(5))) {
      CHECK(r->kind == "alert.fired");
      got = true;
    }
  }
  CHECK(got);
  bool saw_sentry = false;
  while (auto r = all.receive(std::chrono::milliseconds(20))) saw_sentry = saw_sentry || r->kind == "sentry.issue";
  CHECK(saw_sentry);
  // The alert subscriber never sees other kinds.
  while (auto r = alerts.receive(std::chrono::milliseconds(20))) CHECK(r->kind == "alert.fired");
}
