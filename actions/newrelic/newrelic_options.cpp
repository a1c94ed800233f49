// NewRelic: the provider's and the incident actions' option tables (api-notes section 1.3).
#include <array>

#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {
using config::OptionSpec;
using config::OptionType;
constexpr std::array<std::string_view, 2> kKeyHeaders{"Api-Key", "X-Api-Key"};
constexpr std::array<OptionSpec, 3> kProvider{{
    {"base_url", OptionType::url, "https://api.newrelic.com", false,
     "REST API v2 host (EU: https://api.eu.newrelic.com)"},
    {"api_key", OptionType::secret, "", true, "User key (NRAK-...) or REST API key"},
    {"key_header", OptionType::enumeration, "Api-Key", false,
     "Header carrying the key: Api-Key (user key) or X-Api-Key (REST key)", kKeyHeaders},
}};
constexpr std::array<OptionSpec, 2> kIncident{{
    {"incident_id", OptionType::string, "", true, "Incident id (a {{param}} template)"},
    {"provider", OptionType::string, "newrelic", false, "[providers.<name>] to use"},
}};
constexpr config::OptionTable kProviderTable{"newrelic", "NewRelic REST API credentials",
                                             kProvider};
constexpr config::OptionTable kAckTable{"newrelic.ack", "Acknowledge a NewRelic incident",
                                        kIncident};
constexpr config::OptionTable kCloseTable{"newrelic.close", "Close a NewRelic incident", kIncident};
}  // namespace
const config::OptionTable& newrelic_provider_options() { return kProviderTable; }
const config::OptionTable& newrelic_ack_options() { return kAckTable; }
const config::OptionTable& newrelic_close_options() { return kCloseTable; }
}  // namespace vigie::actions
