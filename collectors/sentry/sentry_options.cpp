// [collectors.<name>] type = "sentry": its option table (wire formats: api-notes section 2).
#include <array>

#include "vigie/collectors/kinds.h"

namespace vigie::collectors {
namespace {
using config::OptionSpec;
using config::OptionType;

constexpr std::array<std::string_view, 2> kEndpoints{"organization", "project"};
constexpr std::array<std::string_view, 2> kFirstPoll{"report", "baseline"};
constexpr std::array<OptionSpec, 13> kOptions{{
    {"base_url", OptionType::url, "https://sentry.io", false,
     "Sentry host; your own for self-hosted Sentry"},
    {"organization", OptionType::string, "", true, "Organization slug"},
    {"projects", OptionType::string_list, "", false,
     "Project slugs or ids; empty: all (required with endpoint = \"project\")"},
    {"query", OptionType::string, "is:unresolved", false, "Sentry search query"},
    {"endpoint", OptionType::enumeration, "organization", false,
     "organization: the org issues endpoint; project: the legacy per-project endpoint",
     kEndpoints},
    {"token", OptionType::secret, "", true, "Auth token (Bearer)"},
    {"interval", OptionType::duration, "30s", false, "Time between polls"},
    {"timeout", OptionType::duration, "20s", false, "Bound on one poll, pagination included"},
    {"stats_period", OptionType::string, "24h", false, "statsPeriod sent with the query"},
    {"start", OptionType::string, "", false,
     "RFC 3339 start of the query window (sent as start/end instead of statsPeriod)"},
    {"max_pages", OptionType::integer, "10", false,
     "Pages fetched per poll; a longer listing continues at once in the next poll", {}, 1, 1000},
    {"max_issues", OptionType::integer, "2000", false,
     "Issues whose last-seen state the cursor keeps (the least recently seen are forgotten first)", {}, 10,
     100000},
    {"first_poll", OptionType::enumeration, "report", false,
     "report: the issues of the very first listing are reported as new; baseline: only remembered",
     kFirstPoll},
}};
constexpr config::OptionTable kTable{"sentry", "Sentry issue poller", kOptions};
}  // namespace

const config::OptionTable& sentry_options() { return kTable; }

}  // namespace vigie::collectors
