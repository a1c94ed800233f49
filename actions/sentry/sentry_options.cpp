// Sentry: the provider's and the actions' option tables (api-notes section 2.3).
#include <array>

#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {
using config::OptionSpec;
using config::OptionType;
constexpr std::array<OptionSpec, 3> kProvider{{
    {"base_url", OptionType::url, "https://sentry.io", false,
     "Sentry host (self-hosted or a region host such as https://de.sentry.io)"},
    {"token", OptionType::secret, "", true, "Auth token (Bearer) with the event:write scope"},
    {"organization", OptionType::string, "", false, "Organization slug the actions use by default"},
}};
constexpr std::array<OptionSpec, 3> kResolve{{
    {"issue_id", OptionType::string, "", true,
     "Issue id (a {{param}} template, e.g. {{issue_id}})"},
    {"organization", OptionType::string, "", false, "Organization slug; empty: the provider's"},
    {"provider", OptionType::string, "sentry", false, "[providers.<name>] to use"},
}};
constexpr std::array<OptionSpec, 4> kIgnore{{
    {"issue_id", OptionType::string, "", true,
     "Issue id (a {{param}} template, e.g. {{issue_id}})"},
    {"organization", OptionType::string, "", false, "Organization slug; empty: the provider's"},
    {"ignore_duration", OptionType::duration, "", false,
     "Ignore for this long (statusDetails.ignoreDuration, in minutes); empty: until it escalates"},
    {"provider", OptionType::string, "sentry", false, "[providers.<name>] to use"},
}};
constexpr config::OptionTable kProviderTable{"sentry", "Sentry API credentials", kProvider};
constexpr config::OptionTable kResolveTable{"sentry.resolve", "Resolve a Sentry issue", kResolve};
constexpr config::OptionTable kIgnoreTable{"sentry.ignore", "Ignore a Sentry issue", kIgnore};
}  // namespace
const config::OptionTable& sentry_provider_options() { return kProviderTable; }
const config::OptionTable& sentry_resolve_options() { return kResolveTable; }
const config::OptionTable& sentry_ignore_options() { return kIgnoreTable; }
}  // namespace vigie::actions
