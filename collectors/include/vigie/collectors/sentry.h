// The Sentry issue poller ([collectors.<name>] type = "sentry"; docs/collectors.md#sentry): new
// issues and changes of count, status, level and substatus as `sentry.issue` events.
#pragma once

#include "vigie/collectors/collector.h"

namespace vigie::collectors {

// The factory listed in kinds.cpp.
CollectorFactory sentry_factory();

}  // namespace vigie::collectors
