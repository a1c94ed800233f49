// [collectors.<name>] type = "newrelic": its option table (wire formats: api-notes section 1).
#include <array>

#include "vigie/collectors/kinds.h"

namespace vigie::collectors {
namespace {
using config::OptionSpec;
using config::OptionType;

constexpr std::array<std::string_view, 2> kKeyHeaders{"Api-Key", "X-Api-Key"};
constexpr std::array<OptionSpec, 11> kOptions{{
    {"base_url", OptionType::url, "https://api.newrelic.com", false,
     "REST v2 base; https://api.eu.newrelic.com for EU accounts"},
    {"graphql_url", OptionType::url, "", false,
     "NerdGraph endpoint for NRQL queries; default: base_url + /graphql (EU: https://api.eu.newrelic.com/graphql)"},
    {"api_key", OptionType::secret, "", true, "User key (NRAK-...) or REST API key"},
    {"key_header", OptionType::enumeration, "Api-Key", false,
     "Header carrying the key: Api-Key (user keys) or X-Api-Key (legacy REST keys)", kKeyHeaders},
    {"account_id", OptionType::integer, "", false, "Account id, required for NRQL queries"},
    {"interval", OptionType::duration, "1m", false, "Time between polls"},
    {"timeout", OptionType::duration, "20s", false, "Bound on one poll, pagination included"},
    {"violations", OptionType::boolean, "true", false, "Poll alerts_violations.json"},
    {"applications", OptionType::boolean, "true", false,
     "Poll applications.json for health and summary numbers"},
    {"query", OptionType::table_list, "", false,
     "NRQL queries: [[collectors.<name>.query]] with name, nrql, every"},
    {"max_pages", OptionType::integer, "10", false,
     "Pages of one listing fetched per poll; a longer listing goes on at the next poll", {}, 1, 1000},
}};
constexpr config::OptionTable kTable{"newrelic", "NewRelic poller", kOptions};
}  // namespace

const config::OptionTable& newrelic_options() { return kTable; }

}  // namespace vigie::collectors
