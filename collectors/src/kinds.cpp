// The explicit list of collector kinds.
#include "vigie/collectors/kinds.h"

namespace vigie::collectors {

void register_builtin_collectors(config::KindCatalog& catalog) {
  catalog.add({"newrelic", "NewRelic alert violations, APM health and NRQL queries",
               &newrelic_options()});
  catalog.add({"sentry", "Sentry issues of an organization's projects", &sentry_options()});
  catalog.add({"papertrail", "Papertrail log search", &papertrail_options()});
}

}  // namespace vigie::collectors
