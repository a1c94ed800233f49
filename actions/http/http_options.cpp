// type = "http": option table.
#include <array>

#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {
using config::OptionSpec;
using config::OptionType;
constexpr std::array<std::string_view, 5> kMethods{"GET", "POST", "PUT", "PATCH", "DELETE"};
constexpr std::array<OptionSpec, 7> kOptions{{
    {"method", OptionType::enumeration, "POST", false, "HTTP method", kMethods},
    {"url", OptionType::string, "", true, "URL template ({{param}} placeholders are URL-encoded)"},
    {"headers", OptionType::table, "", false, "Header name = value template"},
    {"body", OptionType::string, "", false, "JSON body template"},
    {"expect_status", OptionType::string_list, "", false,
     "Statuses that count as success, e.g. [\"200\", \"202\"]; default: any 2xx"},
    {"auth", OptionType::secret, "", false, "Value of the Authorization header"},
    {"secret_headers", OptionType::table, "", false,
     "Header name = \"env:VAR\" or \"file:/path\": values read on the worker, masked everywhere"},
}};
constexpr config::OptionTable kTable{"http", "HTTP request", kOptions};
}  // namespace
const config::OptionTable& http_options() { return kTable; }
}  // namespace vigie::actions
