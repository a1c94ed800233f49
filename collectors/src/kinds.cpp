// The explicit list of collector kinds: one line per kind, giving its type, description, option
// table and factory (each defined in the kind's own folder).
#include "vigie/collectors/kinds.h"

#include "vigie/collectors/collector.h"
#include "vigie/collectors/papertrail.h"
#include "vigie/collectors/sentry.h"

namespace vigie::collectors {

CollectorFactory newrelic_factory();  // newrelic/newrelic.cpp

namespace {

struct Kind {
  std::string_view type;
  std::string_view description;
  const config::OptionTable& (*options)();
  CollectorFactory (*factory)();  // nullptr: validated in vigie.toml, not runnable yet
};

const Kind kKinds[] = {
    {"newrelic", "NewRelic alert violations, APM health and NRQL queries", &newrelic_options, &newrelic_factory},
    {"sentry", "Sentry issues of an organization's projects", &sentry_options, &sentry_factory},
    {"papertrail", "Papertrail log search", &papertrail_options, &papertrail_factory},
};

}  // namespace

void register_builtin_collectors(config::KindCatalog& catalog) {
  for (const auto& k : kKinds)
    catalog.add({k.type, k.description, &k.options(), nullptr, k.factory != nullptr});
}

CollectorFactory collector_factory(std::string_view type) {
  for (const auto& k : kKinds) {
    if (k.type == type && k.factory) return k.factory();
  }
  return nullptr;
}

}  // namespace vigie::collectors
