// type = "slack.post": option table.
#include <array>

#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {
using config::OptionSpec;
using config::OptionType;
constexpr std::array<OptionSpec, 2> kOptions{{
    {"channel", OptionType::string, "", true, "Channel name or id"},
    {"text", OptionType::string, "", true, "Message template"},
}};
constexpr config::OptionTable kTable{"slack.post", "Post to Slack", kOptions};
}  // namespace
const config::OptionTable& slack_post_options() { return kTable; }
}  // namespace vigie::actions
