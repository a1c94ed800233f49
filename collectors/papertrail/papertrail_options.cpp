// [collectors.<name>] type = "papertrail": its option table (wire formats: api-notes section 3).
#include <array>

#include "vigie/collectors/kinds.h"

namespace vigie::collectors {
namespace {
using config::OptionSpec;
using config::OptionType;

constexpr std::array<OptionSpec, 10> kOptions{{
    {"base_url", OptionType::url, "https://papertrailapp.com", false, "Papertrail host"},
    {"token", OptionType::secret, "", true, "API token (X-Papertrail-Token)"},
    {"query", OptionType::string, "", false, "Search query, as in the web UI"},
    {"system_id", OptionType::string, "", false, "Restrict to one system (id or name)"},
    {"group_id", OptionType::string, "", false, "Restrict to one group (id)"},
    {"limit", OptionType::integer, "1000", false, "Events per request", {}, 1, 10000},
    {"max_pages", OptionType::integer, "10", false,
     "Requests per poll at most; a poll that stops short is followed at once by the next", {}, 1, 100},
    {"app", OptionType::string, "", false, "Value of the `app` attr of every event (e.g. the Heroku app these logs are from)"},
    {"interval", OptionType::duration, "30s", false, "Time between polls"},
    {"timeout", OptionType::duration, "20s", false, "Bound on one poll, pagination included"},
}};
constexpr config::OptionTable kTable{"papertrail", "Papertrail log search poller", kOptions};
}  // namespace

const config::OptionTable& papertrail_options() { return kTable; }

}  // namespace vigie::collectors
