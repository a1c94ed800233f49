// Heroku: the provider's and the actions' option tables (api-notes section 5).
#include <array>

#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {
using config::OptionSpec;
using config::OptionType;
constexpr std::array<OptionSpec, 2> kProvider{{
    {"base_url", OptionType::url, "https://api.heroku.com", false, "Platform API base"},
    {"token", OptionType::secret, "", true, "API key or OAuth token"},
}};
constexpr std::array<OptionSpec, 3> kRestart{{
    {"app", OptionType::string, "", true, "App name or id (a {{param}} template)"},
    {"dyno", OptionType::string, "", false, "Dyno to restart, e.g. web.1; empty: all dynos"},
    {"provider", OptionType::string, "heroku", false, "[providers.<name>] to use"},
}};
constexpr std::array<OptionSpec, 5> kScale{{
    {"app", OptionType::string, "", true, "App name or id"},
    {"process_type", OptionType::string, "web", false, "Formation process type"},
    {"quantity", OptionType::string, "", false, "Dyno count (a number or {{param}})"},
    {"size", OptionType::string, "", false, "Dyno size, e.g. standard-2x"},
    {"provider", OptionType::string, "heroku", false, "[providers.<name>] to use"},
}};
constexpr config::OptionTable kProviderTable{"heroku", "Heroku provider", kProvider};
constexpr config::OptionTable kRestartTable{"heroku.restart", "Restart dynos", kRestart};
constexpr config::OptionTable kScaleTable{"heroku.scale", "Scale a formation", kScale};
}  // namespace
const config::OptionTable& heroku_provider_options() { return kProviderTable; }
const config::OptionTable& heroku_restart_options() { return kRestartTable; }
const config::OptionTable& heroku_scale_options() { return kScaleTable; }
}  // namespace vigie::actions
