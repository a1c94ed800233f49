// Rackspace: the provider's and the action's option tables (api-notes section 7).
#include <array>

#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {
using config::OptionSpec;
using config::OptionType;
constexpr std::array<std::string_view, 2> kRebootTypes{"SOFT", "HARD"};
constexpr std::array<OptionSpec, 4> kProvider{{
    {"identity_url", OptionType::url, "https://identity.api.rackspacecloud.com/v2.0", false,
     "Identity (token) endpoint"},
    {"username", OptionType::string, "", true, "Account user name"},
    {"api_key", OptionType::secret, "", true, "API key"},
    {"region", OptionType::string, "", true, "Region of the compute endpoint, e.g. DFW"},
}};
constexpr std::array<OptionSpec, 3> kReboot{{
    {"server_id", OptionType::string, "", true, "Server id (a {{param}} template)"},
    {"reboot_type", OptionType::enumeration, "SOFT", false, "SOFT or HARD", kRebootTypes},
    {"provider", OptionType::string, "rackspace", false, "[providers.<name>] to use"},
}};
constexpr config::OptionTable kProviderTable{"rackspace", "Rackspace provider", kProvider};
constexpr config::OptionTable kRebootTable{"rackspace.reboot", "Reboot a server", kReboot};
}  // namespace
const config::OptionTable& rackspace_provider_options() { return kProviderTable; }
const config::OptionTable& rackspace_reboot_options() { return kRebootTable; }
}  // namespace vigie::actions
