// type = "exec": option table. Security model: docs/actions.md.
#include <array>

#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {
using config::OptionSpec;
using config::OptionType;
constexpr std::array<OptionSpec, 4> kOptions{{
    {"argv", OptionType::string_list, "", true,
     "Program and arguments; {{param}} placeholders fill whole elements, never a shell"},
    {"workdir", OptionType::string, "/", false, "Fixed working directory"},
    {"env", OptionType::string_list, "", false,
     "Environment variables passed through (all others are cleared)"},
    {"max_output", OptionType::integer, "65536", false,
     "Bytes of stdout+stderr kept; the rest is cut", {}, 1024, 16 << 20},
}};
constexpr config::OptionTable kTable{"exec", "Run a program", kOptions};
}  // namespace
const config::OptionTable& exec_options() { return kTable; }
}  // namespace vigie::actions
