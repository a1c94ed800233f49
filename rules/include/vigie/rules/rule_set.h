// A compiled rule set: the rules, actions, commands, macros and lists of every rule file, checked
// together and compiled once. Immutable and shared by pointer: a reload builds a new one and
// swaps it in only when it has no errors (RuleSetHolder), so a bad edit keeps the last good set.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "vigie/config/diagnostics.h"
#include "vigie/config/options.h"
#include "vigie/core/time.h"
#include "vigie/rules/action_params.h"
#include "vigie/rules/command_pattern.h"
#include "vigie/rules/condition.h"
#include "vigie/rules/rule_index.h"
#include "vigie/rules/template.h"
#include "vigie/rules/window.h"

namespace vigie::rules {

struct EscalateDef {
  Duration after{};
  std::vector<std::string> notify;
  std::vector<std::string> mention;
};

struct InhibitDef {
  std::string rule;
  std::vector<std::string> equal;
};

struct Rule {
  std::string name;
  std::string description;
  std::string file;
  config::SourcePos pos;
  Condition when;
  std::optional<Condition> resolve_when;
  RuleWindow window;
  std::vector<std::string> group_by;
  std::map<std::string, std::string> labels;  // static labels
  std::string severity = "warning";
  std::vector<std::string> notify;
  Template summary;
  Template details;
  std::string runbook;
  std::vector<std::string> offer;
  std::optional<EscalateDef> escalate;
  std::optional<Duration> repeat;
  std::optional<Duration> resolve_after;
  std::optional<InhibitDef> inhibited_by;
  std::string thread = "all";
  bool enabled = true;

  // Every label name an alert of this rule carries: group_by, then static labels.
  std::vector<std::string> label_names() const;
};

struct RateLimit {
  std::int64_t max = 0;
  Duration within{};
};

struct ActionDef {
  std::string name;
  std::string type;
  std::string description;
  std::string file;
  config::SourcePos pos;
  std::vector<std::string> allow;
  bool confirm = false;
  std::int64_t approvals = 0;
  Duration approval_timeout{};
  std::optional<Duration> cooldown;
  std::optional<RateLimit> rate_limit;
  Duration timeout{};
  bool dry_run = false;
  config::OptionValues options;               // the kind's own options, validated
  std::map<std::string, Template> templates;  // kind options holding {{params}}: "url", "argv[1]", "headers.X"
  std::vector<std::string> params;            // every parameter the templates use
  std::map<std::string, ParamSpec> param_specs;  // declared types (`params`); the others are words

  // The declared type of `param`, or a word.
  const ParamSpec& param_spec(const std::string& param) const;
};

struct CommandDef {
  CommandPattern pattern;
  std::string action;
  std::vector<std::string> allow;
  std::string help;
  std::string file;
  config::SourcePos pos;
};

struct FileSummary {
  std::string file;
  std::size_t rules = 0, actions = 0, commands = 0, macros = 0, lists = 0;
};

class RuleSet {
 public:
  const std::vector<Rule>& rules() const { return rules_; }
  const std::vector<ActionDef>& actions() const { return actions_; }
  const std::vector<CommandDef>& commands() const { return commands_; }
  const std::vector<FileSummary>& files() const { return files_; }
  const Rule* find_rule(std::string_view name) const;
  const ActionDef* find_action(std::string_view name) const;
  const RuleIndex& index() const { return index_; }
  // Longest window of any rule: how far back a restart must replay stored events.
  Duration longest_window() const;

 private:
  friend class RuleLoader;
  Duration longest_window_{0};
  std::vector<Rule> rules_;
  std::vector<ActionDef> actions_;
  std::vector<CommandDef> commands_;
  std::vector<FileSummary> files_;
  RuleIndex index_;
};

using RuleSetPtr = std::shared_ptr<const RuleSet>;

struct RuleLoadContext {
  const config::KindCatalog* action_kinds = nullptr;  // [[action]] types and their options
  std::set<std::string> roles;                        // [access.roles] names, for `allow`
  bool check_roles = true;  // false when no vigie.toml is at hand (`vigie test` without -c)
};

// Loads every file in passes (read → collect → compile → lint), collecting every problem.
// Returns the set only when there were no errors; warnings do not prevent it.
RuleSetPtr load_rule_set(const std::vector<std::string>& files, const RuleLoadContext& context,
                         config::Diagnostics& diags);

// Loads rule files given as (name, text) pairs: for tests and `vigie test`.
RuleSetPtr load_rule_texts(const std::vector<std::pair<std::string, std::string>>& files,
                           const RuleLoadContext& context, config::Diagnostics& diags);

// The running rule set. `swap` replaces it only with a set that loaded without errors.
class RuleSetHolder {
 public:
  RuleSetPtr current() const;
  // @return false (and keeps the current set) when `next` is null.
  bool swap(RuleSetPtr next);

 private:
  mutable std::mutex mutex_;
  RuleSetPtr current_;
};

// The option tables of the rule file tables, for docs and validation.
const config::OptionTable& rule_options();
const config::OptionTable& action_common_options();
const config::OptionTable& command_options();
const config::OptionTable& macro_options();
const config::OptionTable& list_options();
const config::OptionTable& count_options();
const config::OptionTable& spike_options();
const config::OptionTable& escalate_options();
const config::OptionTable& inhibited_by_options();
const config::OptionTable& rate_limit_options();

}  // namespace vigie::rules
