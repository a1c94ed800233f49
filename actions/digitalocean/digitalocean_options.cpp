// DigitalOcean: the provider's and the actions' option tables (api-notes section 6).
#include <array>

#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {
using config::OptionSpec;
using config::OptionType;
constexpr std::array<OptionSpec, 2> kProvider{{
    {"base_url", OptionType::url, "https://api.digitalocean.com", false, "API base"},
    {"token", OptionType::secret, "", true, "Personal access token"},
}};
constexpr std::array<OptionSpec, 4> kDroplet{{
    {"droplet_id", OptionType::string, "", true, "Droplet id (a {{param}} template)"},
    {"poll_interval", OptionType::duration, "5s", false, "Time between action status polls"},
    {"poll_timeout", OptionType::duration, "5m", false, "Give up waiting for the action after"},
    {"provider", OptionType::string, "digitalocean", false, "[providers.<name>] to use"},
}};
constexpr config::OptionTable kProviderTable{"digitalocean", "DigitalOcean provider", kProvider};
constexpr config::OptionTable kRebootTable{"digitalocean.reboot", "Reboot a droplet", kDroplet};
constexpr config::OptionTable kCycleTable{"digitalocean.power_cycle", "Power-cycle a droplet",
                                          kDroplet};
}  // namespace
const config::OptionTable& digitalocean_provider_options() { return kProviderTable; }
const config::OptionTable& digitalocean_reboot_options() { return kRebootTable; }
const config::OptionTable& digitalocean_power_cycle_options() { return kCycleTable; }
}  // namespace vigie::actions
