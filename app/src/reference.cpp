// Generates the configuration reference from the option tables.
#include "vigie/app/reference.h"

#include "vigie/app/catalogs.h"
#include "vigie/config/config.h"
#include "vigie/rules/rule_set.h"

namespace vigie::app {
namespace {

void section(std::string& out, std::string_view heading, std::string_view description,
             const config::OptionTable& table) {
  out += "### ";
  out += heading;
  out += "\n\n";
  out += description;
  out += "\n\n";
  out += config::describe_markdown(table);
  out += '\n';
}

void kinds(std::string& out, std::string_view group_heading, std::string_view section_pattern,
           const config::KindCatalog& catalog) {
  out += "## ";
  out += group_heading;
  out += "\n\n";
  for (const auto& k : catalog.all()) {
    std::string heading = std::string(section_pattern);
    heading += " — `";
    heading += k.type;
    heading += '`';
    section(out, heading, k.description, *k.options);
  }
}

}  // namespace

std::string configuration_reference_markdown() {
  const KindCatalogs c = builtin_catalogs();
  std::string out = "## Sections of vigie.toml\n\n";
  out += "### `rules`\n\nArray of globs, relative to vigie.toml, naming the rule files.\n\n";
  section(out, "`[server]`", config::server_options().description, config::server_options());
  section(out, "`[store]`", config::store_options().description, config::store_options());
  section(out, "`[bus]`", config::bus_options().description, config::bus_options());
  section(out, "`[slack]`", config::slack_options().description, config::slack_options());
  section(out, "`[webhooks.<name>]`", config::webhook_options().description,
          config::webhook_options());
  section(out, "`[actions]`", config::actions_options().description, config::actions_options());
  out += "### `[access]`\n\n"
         "| key | type | description |\n|---|---|---|\n"
         "| `[access.roles]` `<role> = [...]` | string list | Slack user ids (`U…`, `W…`), channel ids "
         "(`#C…`: everyone speaking there) or user group handles (`@name`, not resolved yet) holding the "
         "role (docs/chatops.md) |\n"
         "| `read` | string list | Roles allowed read-only chat commands; empty: everyone |\n\n";
  section(out, "`[log]`", config::log_options().description, config::log_options());
  kinds(out, "Collector kinds (`type` of `[collectors.<name>]`)", "`[collectors.<name>]`",
        c.collectors);
  kinds(out, "Provider kinds (`[providers.<name>]`, kind from `type` or the name)",
        "`[providers.<name>]`", c.providers);
  kinds(out, "Action kinds (`type` of `[[action]]` in rule files)", "`[[action]]`", c.actions);
  return out;
}

std::string rules_reference_markdown() {
  std::string out;
  section(out, "`[[rule]]`", "A rule: a condition on events, an optional window, and what to do when it holds.",
          rules::rule_options());
  section(out, "`count = { ... }`", "Sliding count window.", rules::count_options());
  section(out, "`spike = { ... }`", "This window's count against the previous window's.", rules::spike_options());
  section(out, "`escalate = { ... }`", "Escalation of an unacknowledged alert.", rules::escalate_options());
  section(out, "`inhibited_by = { ... }`", "Holds notifications back while another rule's alert fires.",
          rules::inhibited_by_options());
  section(out, "`[[action]]` (common keys)",
          "A remediation. Besides these keys, an action takes the options of its `type` "
          "(docs/configuration.md, action kinds); string options may use `{{param}}` placeholders.",
          rules::action_common_options());
  section(out, "`rate_limit = { ... }`", "Runs allowed per target and period.", rules::rate_limit_options());
  section(out, "`[[command]]`", "A chat command alias running an action.", rules::command_options());
  section(out, "`[[macro]]`", "A named, reusable condition.", rules::macro_options());
  section(out, "`[[list]]`", "A named list of strings, for `in`.", rules::list_options());
  return out;
}

std::string splice_generated(const std::string& doc, const std::string& generated) {
  static const std::string kBegin = "<!-- generated:begin -->\n";
  static const std::string kEnd = "<!-- generated:end -->";
  const auto b = doc.find(kBegin);
  const auto e = doc.find(kEnd);
  if (b == std::string::npos || e == std::string::npos || e < b) return doc;
  return doc.substr(0, b + kBegin.size()) + generated + doc.substr(e);
}

}  // namespace vigie::app
