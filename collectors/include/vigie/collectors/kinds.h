// The collector kinds Vigie knows, by their `type` string: one explicit list in kinds.cpp, one
// line per kind (no self-registering statics: static libraries drop them).
#pragma once

#include "vigie/config/options.h"

namespace vigie::collectors {

// Adds every built-in collector kind with its option table to `catalog`.
void register_builtin_collectors(config::KindCatalog& catalog);

// Each kind's option table, defined in the kind's own folder (and, once it can run, its
// factory: `CollectorFactory <kind>_factory();` in collector.h terms, listed in kinds.cpp).
const config::OptionTable& newrelic_options();
const config::OptionTable& sentry_options();
const config::OptionTable& papertrail_options();

}  // namespace vigie::collectors
