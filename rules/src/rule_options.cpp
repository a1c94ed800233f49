// Option tables of the rule file tables: they drive validation, docs/rules.md and did-you-mean.
#include <array>

#include "vigie/rules/rule_set.h"

namespace vigie::rules {
namespace {
using config::OptionSpec;
using config::OptionType;

constexpr std::array<std::string_view, 4> kSeverities{"critical", "error", "warning", "info"};
constexpr std::array<std::string_view, 3> kThreadModes{"all", "transitions", "none"};

constexpr std::array<OptionSpec, 23> kRule{{
    {"name", OptionType::string, "", true, "Unique name; with the group_by values it identifies an alert"},
    {"description", OptionType::string, "", false, "What the rule watches, for people"},
    {"when", OptionType::string, "", true, "Condition on each event (see docs/expressions.md)"},
    {"count", OptionType::table, "", false, "Window: { at_least = N, within = \"10m\" }"},
    {"for", OptionType::duration, "", false, "Window: the condition holds for this long"},
    {"max_gap", OptionType::duration, "", false, "With for: longest silence between matching events (default: the for duration)"},
    {"absent_for", OptionType::duration, "", false, "Window: no matching event for this long"},
    {"spike", OptionType::table, "", false, "Window: { ratio = 3, within = \"10m\", min_count = 10 }"},
    {"group_by", OptionType::string_list, "", false, "Fields whose values split alerts (one alert per distinct combination)"},
    {"labels", OptionType::table, "", false, "Static labels added to every alert of the rule"},
    {"severity", OptionType::enumeration, "warning", false, "critical, error, warning or info", kSeverities},
    {"notify", OptionType::string_list, "", false, "Slack channels to post to (default: [slack] default_channel)"},
    {"summary", OptionType::string, "", false, "Message template (mustache)"},
    {"details", OptionType::string, "", false, "Longer message template (mustache)"},
    {"runbook", OptionType::string, "", false, "Link shown on the alert"},
    {"offer", OptionType::string_list, "", false, "Actions offered as buttons on the alert"},
    {"escalate", OptionType::table, "", false, "{ after = \"15m\", notify = [...], mention = [...] } while unacknowledged"},
    {"repeat", OptionType::duration, "", false, "Re-notify a firing, unacknowledged alert this often"},
    {"resolve_when", OptionType::string, "", false, "Condition: a matching event resolves its group's alert"},
    {"resolve_after", OptionType::duration, "", false, "Resolve after this long without a matching event"},
    {"inhibited_by", OptionType::table, "", false, "{ rule = \"host-down\", equal = [\"host\"] }: held back while that alert fires"},
    {"thread", OptionType::enumeration, "all", false, "Thread replies: all, transitions or none", kThreadModes},
    {"enabled", OptionType::boolean, "true", false, "false keeps the rule loaded and checked but never fires it"},
}};
constexpr std::array<OptionSpec, 12> kAction{{
    {"name", OptionType::string, "", true, "Unique name, used by offer, [[command]] and run"},
    {"type", OptionType::string, "", true, "Action kind (see docs/configuration.md, action kinds)"},
    {"description", OptionType::string, "", false, "What it does, for help texts"},
    {"allow", OptionType::string_list, "", false, "Roles that may run it (default: nobody)"},
    {"confirm", OptionType::boolean, "false", false, "The requester must press Confirm"},
    {"approvals", OptionType::integer, "0", false, "Other allowed users who must approve", {}, 0, 5},
    {"approval_timeout", OptionType::duration, "15m", false, "An approval request expires after"},
    {"cooldown", OptionType::duration, "", false, "Refuse a second run on the same target within"},
    {"rate_limit", OptionType::table, "", false, "{ max = 3, within = \"1h\" } per target"},
    {"timeout", OptionType::duration, "1m", false, "Bound on one run"},
    {"dry_run", OptionType::boolean, "false", false, "Show the exact request or argv; run nothing"},
    {"params", OptionType::table, "", false,
     "Parameter types: name = \"word\" | \"int\" | \"duration\" | \"text\" | \"choice(a|b)\" | \"regex:<RE2>\" (default word)"},
}};
constexpr std::array<OptionSpec, 4> kCommand{{
    {"pattern", OptionType::string, "", true, "Words and {name:type} placeholders: word, int, duration, choice(a|b), text"},
    {"action", OptionType::string, "", true, "The [[action]] it runs; placeholders become its parameters"},
    {"allow", OptionType::string_list, "", false, "Roles that may use it (default: the action's)"},
    {"help", OptionType::string, "", false, "One line for `help`"},
}};
constexpr std::array<OptionSpec, 2> kMacro{{
    {"name", OptionType::string, "", true, "Name used in conditions"},
    {"when", OptionType::string, "", true, "Condition it stands for"},
}};
constexpr std::array<OptionSpec, 2> kList{{
    {"name", OptionType::string, "", true, "Name used after `in`"},
    {"items", OptionType::string_list, "", true, "The strings"},
}};
constexpr std::array<OptionSpec, 2> kCount{{
    {"at_least", OptionType::integer, "", true, "Events needed", {}, 1, 1000000},
    {"within", OptionType::duration, "", true, "Sliding window"},
}};
constexpr std::array<OptionSpec, 3> kSpike{{
    {"ratio", OptionType::floating, "", true, "This window's count over the previous one's"},
    {"within", OptionType::duration, "", true, "Window length"},
    {"min_count", OptionType::integer, "1", false, "Fewest events in this window to fire", {}, 1, 1000000},
}};
constexpr std::array<OptionSpec, 3> kEscalate{{
    {"after", OptionType::duration, "", true, "Unacknowledged for this long"},
    {"notify", OptionType::string_list, "", false, "Extra channels"},
    {"mention", OptionType::string_list, "", false, "Users or groups to mention"},
}};
constexpr std::array<OptionSpec, 2> kInhibit{{
    {"rule", OptionType::string, "", true, "Rule whose firing alert holds this one back"},
    {"equal", OptionType::string_list, "", false, "Labels that must be equal on both alerts"},
}};
constexpr std::array<OptionSpec, 2> kRateLimit{{
    {"max", OptionType::integer, "", true, "Runs allowed", {}, 1, 100000},
    {"within", OptionType::duration, "", true, "Per this period"},
}};

constexpr config::OptionTable kRuleTable{"rule", "[[rule]]", kRule};
constexpr config::OptionTable kActionTable{"action", "[[action]] common keys", kAction};
constexpr config::OptionTable kCommandTable{"command", "[[command]]", kCommand};
constexpr config::OptionTable kMacroTable{"macro", "[[macro]]", kMacro};
constexpr config::OptionTable kListTable{"list", "[[list]]", kList};
constexpr config::OptionTable kCountTable{"count", "count window", kCount};
constexpr config::OptionTable kSpikeTable{"spike", "spike window", kSpike};
constexpr config::OptionTable kEscalateTable{"escalate", "escalation", kEscalate};
constexpr config::OptionTable kInhibitTable{"inhibited_by", "inhibition", kInhibit};
constexpr config::OptionTable kRateLimitTable{"rate_limit", "rate limit", kRateLimit};
}  // namespace

const config::OptionTable& rule_options() { return kRuleTable; }
const config::OptionTable& action_common_options() { return kActionTable; }
const config::OptionTable& command_options() { return kCommandTable; }
const config::OptionTable& macro_options() { return kMacroTable; }
const config::OptionTable& list_options() { return kListTable; }
const config::OptionTable& count_options() { return kCountTable; }
const config::OptionTable& spike_options() { return kSpikeTable; }
const config::OptionTable& escalate_options() { return kEscalateTable; }
const config::OptionTable& inhibited_by_options() { return kInhibitTable; }
const config::OptionTable& rate_limit_options() { return kRateLimitTable; }

}  // namespace vigie::rules
