// Docker: the provider's and the action's option tables (api-notes section 8).
#include <array>

#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {
using config::OptionSpec;
using config::OptionType;
constexpr std::array<OptionSpec, 1> kProvider{{
    {"socket", OptionType::string, "/var/run/docker.sock", false, "Engine API unix socket"},
}};
constexpr std::array<OptionSpec, 3> kRestart{{
    {"container", OptionType::string, "", true, "Container name or id (a {{param}} template)"},
    {"stop_timeout", OptionType::integer, "10", false, "Seconds before SIGKILL (the API's t)",
     {}, 0, 3600},
    {"provider", OptionType::string, "docker", false, "[providers.<name>] to use"},
}};
constexpr config::OptionTable kProviderTable{"docker", "Docker provider", kProvider};
constexpr config::OptionTable kRestartTable{"docker.restart", "Restart a container", kRestart};
}  // namespace
const config::OptionTable& docker_provider_options() { return kProviderTable; }
const config::OptionTable& docker_restart_options() { return kRestartTable; }
}  // namespace vigie::actions
