// Rule loading in passes, as Falco's loader does: read (TOML → tables validated against the
// option tables, one file at a time) → collect (names, duplicates across files, references) →
// compile (expressions, windows, templates, patterns) → lint (warnings). Every problem goes to
// one Diagnostics; nothing throws to the caller.
#include <algorithm>
#include <set>

#include "vigie/config/messages.h"
#include "vigie/config/toml_tree.h"
#include "vigie/core/text.h"
#include "vigie/rules/rule_messages.h"
#include "vigie/rules/rule_set.h"

namespace vigie::rules {

using config::Diagnostics;
using config::fmt_message;
using config::OptionValues;
using config::SourcePos;
using config::TomlNode;

// ---------------------------------------------------------------------------------------------
// Pass 1: read. Each table of each file, validated against its option table.

// Not anonymous: RuleLoader (a friend of RuleSet, so with external linkage) holds these.
namespace loader_detail {

struct RawItem {
  std::string file;
  SourcePos pos;  // the [[table]] header
  std::string name;
  SourcePos name_pos;
  OptionValues values;
  const TomlNode* table = nullptr;
};

struct RawFile {
  std::string file;
  std::shared_ptr<const TomlNode> root;
  std::vector<RawItem> rules, actions, commands, macros, lists;
};

constexpr std::array<std::string_view, 5> kTables{"rule", "action", "command", "macro", "list"};

bool valid_name(std::string_view n) {
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

std::string where_of(std::string_view table, const std::string& name) {
  return "[[" + std::string(table) + "]]" + (name.empty() ? "" : " '" + name + "'");
}

void read_items(const TomlNode& array, std::string_view table, const std::string& file,
                const RuleLoadContext& context, std::vector<RawItem>& out, Diagnostics& diags) {
  for (const auto& item : array.items()) {
    if (!item->is_table()) {
      diags.error(item->pos(), kNotArrayOfTables.code,
                  fmt_message(kNotArrayOfTables, table, table));
      continue;
    }
    RawItem raw;
    raw.file = file;
    raw.pos = item->pos();
    raw.table = item.get();
    if (const TomlNode* n = item->get("name"); n && n->is_string()) {
      raw.name = n->string();
      raw.name_pos = n->pos();
    }
    const std::string where = where_of(table, raw.name);
    if (table == "rule") {
      raw.values = config::validate_options(*item, rule_options(), where, diags);
    } else if (table == "command") {
      raw.values = config::validate_options(*item, command_options(), where, diags);
    } else if (table == "macro") {
      raw.values = config::validate_options(*item, macro_options(), where, diags);
    } else if (table == "list") {
      raw.values = config::validate_options(*item, list_options(), where, diags);
    } else {
      // [[action]]: the common keys plus the options of its kind.
      const TomlNode* type = item->get("type");
      const config::KindInfo* kind = nullptr;
      if (type && type->is_string() && context.action_kinds) {
        kind = context.action_kinds->find(type->string());
        if (!kind) {
          std::vector<std::string> notes;
          const auto types = context.action_kinds->types();
          const std::string guess = closest_match(type->string(), types);
          if (!guess.empty()) notes.push_back(fmt_message(config::kNoteDidYouMean, guess));
          notes.push_back(fmt_message(config::kNoteValidKinds, join(types)));
          diags.error(type->pos(), kUnknownActionType.code,
                      fmt_message(kUnknownActionType, type->string()), std::move(notes));
        }
      }
      std::vector<config::OptionSpec> specs(action_common_options().options.begin(),
                                            action_common_options().options.end());
      if (kind) specs.insert(specs.end(), kind->options->options.begin(), kind->options->options.end());
      const config::OptionTable combined{"action", "", specs};
      if (kind || !type || !type->is_string()) {
        raw.values = config::validate_options(*item, combined, where, diags);
        if (kind && !kind->runnable) {
          diags.warning(type->pos(), kKindNotRunnable.code,
                        fmt_message(kKindNotRunnable, type->string()));
        }
        if (kind && kind->check) {
          for (const auto& p : kind->check(raw.values)) {
            diags.error(raw.values.pos(p.option), kBadActionOption.code,
                        fmt_message(kBadActionOption, p.message));
          }
        }
      } else {
        // Unknown type: check the common keys only; the kind's own keys cannot be judged.
        std::vector<std::string_view> others;
        for (const auto& e : item->entries()) {
          bool common = false;
          for (const auto& s : action_common_options().options) common = common || s.name == e.key;
          if (!common) others.push_back(e.key);
        }
        raw.values = config::validate_options(*item, action_common_options(), where, diags, others);
      }
    }
    if (raw.values.has("name") && raw.name.empty()) {
      diags.error(raw.name_pos.line ? raw.name_pos : raw.pos, kEmptyName.code,
                  std::string(kEmptyName.text));
    } else if (!raw.name.empty() && !valid_name(raw.name)) {
      diags.error(raw.name_pos, kBadName.code, fmt_message(kBadName, raw.name));
    }
    out.push_back(std::move(raw));
  }
}

std::optional<RawFile> read_file(const std::string& file, std::shared_ptr<const TomlNode> root,
                                 const RuleLoadContext& context, Diagnostics& diags) {
  if (!root) return std::nullopt;
  RawFile raw;
  raw.file = file;
  raw.root = root;
  for (const auto& entry : root->entries()) {
    std::vector<RawItem>* out = nullptr;
    if (entry.key == "rule") out = &raw.rules;
    if (entry.key == "action") out = &raw.actions;
    if (entry.key == "command") out = &raw.commands;
    if (entry.key == "macro") out = &raw.macros;
    if (entry.key == "list") out = &raw.lists;
    if (out == nullptr) {
      std::vector<std::string> notes;
      const std::string guess = closest_match(entry.key, kTables);
      if (!guess.empty()) notes.push_back(fmt_message(config::kNoteDidYouMean, guess));
      diags.error(entry.key_pos, kUnknownTable.code, fmt_message(kUnknownTable, entry.key),
                  std::move(notes));
      continue;
    }
    if (!entry.value->is_array()) {
      diags.error(entry.key_pos, kNotArrayOfTables.code,
                  fmt_message(kNotArrayOfTables, entry.key, entry.key));
      continue;
    }
    read_items(*entry.value, entry.key, file, context, *out, diags);
  }
  return raw;
}

// ---------------------------------------------------------------------------------------------
// Pass 2: collect. Names unique across files; references resolved.

struct Collected {
  std::map<std::string, const RawItem*> rules, actions, macros, lists;
  std::vector<const RawItem*> rule_order, action_order, command_order;
};

void collect_names(const std::vector<RawItem>& items, std::string_view what,
                   std::map<std::string, const RawItem*>& names, std::vector<const RawItem*>* order,
                   Diagnostics& diags) {
  for (const auto& item : items) {
    if (item.name.empty()) continue;
    auto [it, inserted] = names.emplace(item.name, &item);
    if (!inserted) {
      diags.error(item.name_pos, kDuplicate.code, fmt_message(kDuplicate, what, item.name),
                  {fmt_message(kNoteFirstDefined, config::format_pos(it->second->name_pos))});
      continue;
    }
    if (order) order->push_back(&item);
  }
}

template <typename Known>
void check_refs(const OptionValues& values, std::string_view key, const Known& known,
                const Message& message, std::string_view where, Diagnostics& diags,
                const TomlNode* table) {
  const TomlNode* list = table ? table->get(key) : nullptr;
  if (!list || !list->is_array()) return;
  std::vector<std::string> names;
  for (const auto& k : known) {
    if constexpr (std::is_same_v<std::decay_t<decltype(k)>, std::string>) {
      names.push_back(k);
    } else {
      names.push_back(k.first);
    }
  }
  for (const auto& item : list->items()) {
    if (!item->is_string()) continue;
    if (std::find(names.begin(), names.end(), item->string()) != names.end()) continue;
    std::vector<std::string> notes;
    const std::string guess = closest_match(item->string(), names);
    if (!guess.empty()) notes.push_back(fmt_message(config::kNoteDidYouMean, guess));
    if (&message == &kUnknownRole) {
      diags.error(item->pos(), message.code, fmt_message(message, item->string()), std::move(notes));
    } else {
      diags.error(item->pos(), message.code, fmt_message(message, item->string(), where),
                  std::move(notes));
    }
  }
  (void)values;
}

}  // namespace loader_detail

using namespace loader_detail;

// ---------------------------------------------------------------------------------------------
// Pass 3: compile. Expressions, windows, templates, patterns; the rule set is built here.

class RuleLoader {
 public:
  RuleLoader(const RuleLoadContext& context, Diagnostics& diags) : context_(context), diags_(diags) {}

  RuleSetPtr load(std::vector<std::pair<std::string, std::shared_ptr<const TomlNode>>> roots);

 private:
  void compile_rule(const RawItem& raw, Rule& rule);
  void compile_action(const RawItem& raw, ActionDef& action);
  void compile_command(const RawItem& raw, CommandDef& command);
  std::optional<Condition> compile_condition(const RawItem& raw, std::string_view key);
  std::optional<Template> compile_template(const RawItem& raw, std::string_view key,
                                           const TemplateScope& scope, Escape escape);
  void check_params(const ActionDef& action, const std::vector<std::string>& provided,
                    const std::string& provider, const SourcePos& pos);
  void lint(const RuleSet& set);

  const RuleLoadContext& context_;
  Diagnostics& diags_;
  std::vector<RawFile> files_;
  Collected names_;
  ConditionEnv env_;
  std::set<std::string> used_actions_;
};

std::optional<Condition> RuleLoader::compile_condition(const RawItem& raw, std::string_view key) {
  const TomlNode* node = raw.table->get(key);
  if (!node || !node->is_string()) return std::nullopt;
  if (node->string().find_first_not_of(" \t\r\n") == std::string::npos) {
    diags_.error(node->pos(), kEmptyCondition.code, fmt_message(kEmptyCondition, key));
    return std::nullopt;
  }
  return Condition::compile(node->string(), node->pos(), env_, diags_);
}

std::optional<Template> RuleLoader::compile_template(const RawItem& raw, std::string_view key,
                                                     const TemplateScope& scope, Escape escape) {
  const TomlNode* node = raw.table->get(key);
  if (!node || !node->is_string()) return Template{};
  return Template::compile(node->string(), scope, node->pos(), diags_, escape);
}

void RuleLoader::compile_rule(const RawItem& raw, Rule& rule) {
  const OptionValues& v = raw.values;
  rule.name = raw.name;
  rule.file = raw.file;
  rule.pos = raw.pos;
  rule.description = v.string("description");
  rule.group_by = v.strings("group_by");
  rule.severity = v.string("severity", "warning");
  rule.notify = v.strings("notify");
  rule.runbook = v.string("runbook");
  rule.offer = v.strings("offer");
  rule.thread = v.string("thread", "all");
  rule.enabled = v.boolean("enabled", true);
  if (v.has("repeat")) rule.repeat = v.duration("repeat");
  if (v.has("resolve_after")) rule.resolve_after = v.duration("resolve_after");

  if (auto when = compile_condition(raw, "when")) rule.when = std::move(*when);
  if (raw.table->get("resolve_when")) rule.resolve_when = compile_condition(raw, "resolve_when");

  if (auto labels = v.node("labels")) {
    for (const auto& e : labels->entries()) {
      if (!e.value->is_string()) {
        diags_.error(e.value->pos(), kLabelValue.code, fmt_message(kLabelValue, e.key));
        continue;
      }
      rule.labels[e.key] = e.value->string();
    }
  }

  // Window: at most one clause.
  std::vector<std::string> clauses;
  for (const char* k : {"count", "for", "absent_for", "spike"}) {
    if (raw.table->get(k)) clauses.emplace_back(k);
  }
  if (clauses.size() > 1) {
    diags_.error(raw.table->find(clauses[1])->key_pos, kWindowConflict.code,
                 fmt_message(kWindowConflict, rule.name, join(clauses)));
  }
  if (raw.table->get("max_gap") && !raw.table->get("for")) {
    diags_.error(raw.table->find("max_gap")->key_pos, kMaxGapWithoutFor.code,
                 std::string(kMaxGapWithoutFor.text));
  }
  const std::string where = where_of("rule", rule.name);
  if (auto count = v.node("count")) {
    auto c = config::validate_options(*count, count_options(), where + " count", diags_);
    if (c.has("at_least") && c.has("within")) {
      if (c.duration("within") <= Duration{0}) {
        diags_.error(c.pos("within"), kNotPositive.code, fmt_message(kNotPositive, "count.within"));
      }
      if (c.integer("at_least") == 1) {
        diags_.warning(c.pos("at_least"), kCountOfOne.code, std::string(kCountOfOne.text));
      }
      rule.window = RuleWindow::count(c.integer("at_least"), c.duration("within"));
    }
  } else if (v.has("for")) {
    const Duration d = v.duration("for");
    const Duration gap = v.has("max_gap") ? v.duration("max_gap") : d;
    if (d <= Duration{0}) diags_.error(v.pos("for"), kNotPositive.code, fmt_message(kNotPositive, "for"));
    if (gap <= Duration{0}) diags_.error(v.pos("max_gap"), kNotPositive.code, fmt_message(kNotPositive, "max_gap"));
    rule.window = RuleWindow::holds_for(d, gap);
  } else if (v.has("absent_for")) {
    if (v.duration("absent_for") <= Duration{0}) {
      diags_.error(v.pos("absent_for"), kNotPositive.code, fmt_message(kNotPositive, "absent_for"));
    }
    rule.window = RuleWindow::absent_for(v.duration("absent_for"));
  } else if (auto spike = v.node("spike")) {
    auto s = config::validate_options(*spike, spike_options(), where + " spike", diags_);
    if (s.has("ratio") && s.has("within")) {
      if (s.floating("ratio") <= 0) diags_.error(s.pos("ratio"), kNotPositive.code, fmt_message(kNotPositive, "spike.ratio"));
      if (s.duration("within") <= Duration{0}) diags_.error(s.pos("within"), kNotPositive.code, fmt_message(kNotPositive, "spike.within"));
      rule.window = RuleWindow::spike(s.floating("ratio"), s.duration("within"), s.integer("min_count", 1));
    }
  }

  if (auto esc = v.node("escalate")) {
    auto e = config::validate_options(*esc, escalate_options(), where + " escalate", diags_);
    if (e.has("after")) rule.escalate = EscalateDef{e.duration("after"), e.strings("notify"), e.strings("mention")};
  }
  if (auto inh = v.node("inhibited_by")) {
    auto i = config::validate_options(*inh, inhibited_by_options(), where + " inhibited_by", diags_);
    if (i.has("rule")) {
      InhibitDef def{i.string("rule"), i.strings("equal")};
      if (def.rule == rule.name) {
        diags_.error(i.pos("rule"), kSelfInhibit.code, fmt_message(kSelfInhibit, rule.name));
      } else if (!names_.rules.count(def.rule)) {
        std::vector<std::string> all;
        for (const auto& [n, _] : names_.rules) all.push_back(n);
        std::vector<std::string> notes;
        const std::string guess = closest_match(def.rule, all);
        if (!guess.empty()) notes.push_back(fmt_message(config::kNoteDidYouMean, guess));
        diags_.error(i.pos("rule"), kUnknownRule.code, fmt_message(kUnknownRule, def.rule), std::move(notes));
      }
      const auto labels = rule.label_names();
      for (const auto& l : def.equal) {
        if (std::find(labels.begin(), labels.end(), l) == labels.end()) {
          diags_.error(i.pos("equal"), kInhibitEqualLabel.code, fmt_message(kInhibitEqualLabel, l, rule.name));
        }
      }
      rule.inhibited_by = std::move(def);
    }
  }

  TemplateScope scope;
  scope.builtins = alert_template_builtins();
  scope.labels = rule.label_names();
  if (auto t = compile_template(raw, "summary", scope, Escape::slack)) rule.summary = std::move(*t);
  if (auto t = compile_template(raw, "details", scope, Escape::slack)) rule.details = std::move(*t);
}

void RuleLoader::compile_action(const RawItem& raw, ActionDef& action) {
  const OptionValues& v = raw.values;
  action.name = raw.name;
  action.type = v.string("type");
  action.description = v.string("description");
  action.file = raw.file;
  action.pos = raw.pos;
  action.allow = v.strings("allow");
  action.confirm = v.boolean("confirm");
  action.approvals = v.integer("approvals");
  action.approval_timeout = v.duration("approval_timeout");
  if (v.has("cooldown")) action.cooldown = v.duration("cooldown");
  action.timeout = v.duration("timeout");
  action.dry_run = v.boolean("dry_run");
  action.options = v;
  if (auto rl = v.node("rate_limit")) {
    auto r = config::validate_options(*rl, rate_limit_options(), where_of("action", action.name) + " rate_limit", diags_);
    if (r.has("max") && r.has("within")) action.rate_limit = RateLimit{r.integer("max"), r.duration("within")};
  }
  // Declared parameter types.
  if (auto params = v.node("params")) {
    for (const auto& e : params->entries()) {
      if (!e.value->is_string()) {
        diags_.error(e.value->pos(), "wrong-type", "parameter type of '" + e.key + "' must be a string such as \"word\"");
        continue;
      }
      auto spec = ParamSpec::parse(e.value->string());
      if (auto* err = std::get_if<std::string>(&spec)) {
        diags_.error(e.value->pos(), "bad-value", *err);
        continue;
      }
      action.param_specs.emplace(e.key, std::get<ParamSpec>(std::move(spec)));
    }
  }
  // Parameters: any string option (or argv element, or value of a table such as headers) of the
  // kind holding {{name}}.
  TemplateScope scope;
  scope.allow_attrs = true;  // any name is a parameter; check_params verifies who provides it
  scope.allow_labels_namespace = false;
  const config::KindInfo* kind = context_.action_kinds ? context_.action_kinds->find(action.type) : nullptr;
  if (!kind) return;
  for (const auto& spec : kind->options->options) {
    const TomlNode* node = raw.table->get(spec.name);
    if (!node) continue;
    std::vector<std::pair<std::string, const TomlNode*>> strings;  // template key, string
    if (node->is_string()) strings.emplace_back(std::string(spec.name), node);
    if (node->is_array()) {
      for (std::size_t i = 0; i < node->items().size(); ++i) {
        const auto& item = node->items()[i];
        if (item->is_string()) strings.emplace_back(std::string(spec.name) + "[" + std::to_string(i) + "]", item.get());
      }
    }
    if (node->is_table()) {
      for (const auto& e : node->entries()) {
        if (e.value->is_string()) strings.emplace_back(std::string(spec.name) + "." + e.key, e.value.get());
      }
    }
    for (const auto& [key, s] : strings) {
      if (s->string().find("{{") == std::string::npos) continue;
      auto t = Template::compile(s->string(), scope, s->pos(), diags_, Escape::none);
      if (!t) continue;
      for (const auto& var : t->variables()) {
        if (std::find(action.params.begin(), action.params.end(), var) == action.params.end()) {
          action.params.push_back(var);
        }
      }
      action.templates.emplace(key, std::move(*t));
    }
  }
}

void RuleLoader::check_params(const ActionDef& action, const std::vector<std::string>& provided,
                              const std::string& provider, const SourcePos& pos) {
  for (const auto& p : action.params) {
    if (std::find(provided.begin(), provided.end(), p) != provided.end()) continue;
    diags_.error(pos, kMissingParam.code, fmt_message(kMissingParam, action.name, p, provider));
  }
}

void RuleLoader::compile_command(const RawItem& raw, CommandDef& command) {
  const OptionValues& v = raw.values;
  command.action = v.string("action");
  command.allow = v.strings("allow");
  command.help = v.string("help");
  command.file = raw.file;
  command.pos = raw.pos;
  const TomlNode* pattern = raw.table->get("pattern");
  if (!pattern || !pattern->is_string()) return;
  auto parsed = CommandPattern::parse(pattern->string());
  if (auto* err = std::get_if<std::pair<std::string, std::size_t>>(&parsed)) {
    diags_.error(config::locate_in_string(diags_, pattern->pos(), err->second), kBadPattern.code,
                 fmt_message(kBadPattern, err->first));
    return;
  }
  command.pattern = std::get<CommandPattern>(std::move(parsed));
}

RuleSetPtr RuleLoader::load(std::vector<std::pair<std::string, std::shared_ptr<const TomlNode>>> roots) {
  const std::size_t errors_before = diags_.error_count();
  auto set = std::make_shared<RuleSet>();

  // Pass 1: read, one file at a time.
  for (auto& [file, root] : roots) {
    if (auto raw = read_file(file, root, context_, diags_)) files_.push_back(std::move(*raw));
  }

  // Pass 2: collect names across files, then resolve references.
  std::map<std::string, const RawItem*> commands_by_pattern;
  for (const auto& f : files_) {
    collect_names(f.macros, "macro", names_.macros, nullptr, diags_);
    collect_names(f.lists, "list", names_.lists, nullptr, diags_);
    collect_names(f.rules, "rule", names_.rules, &names_.rule_order, diags_);
    collect_names(f.actions, "action", names_.actions, &names_.action_order, diags_);
    for (const auto& c : f.commands) {
      const std::string pattern = c.values.string("pattern");
      auto [it, inserted] = commands_by_pattern.emplace(pattern, &c);
      if (!inserted && !pattern.empty()) {
        diags_.error(c.values.pos("pattern"), kDuplicatePattern.code,
                     fmt_message(kDuplicatePattern, pattern),
                     {fmt_message(kNoteFirstDefined, config::format_pos(it->second->values.pos("pattern")))});
        continue;
      }
      names_.command_order.push_back(&c);
    }
  }
  std::vector<std::string> roles(context_.roles.begin(), context_.roles.end());
  for (const auto& f : files_) {
    for (const auto& r : f.rules) {
      check_refs(r.values, "offer", names_.actions, kUnknownAction, "offer", diags_, r.table);
    }
    for (const auto& a : f.actions) {
      if (context_.check_roles) check_refs(a.values, "allow", roles, kUnknownRole, "allow", diags_, a.table);
    }
    for (const auto& c : f.commands) {
      if (context_.check_roles) check_refs(c.values, "allow", roles, kUnknownRole, "allow", diags_, c.table);
      const TomlNode* action = c.table->get("action");
      if (action && action->is_string() && !names_.actions.count(action->string())) {
        std::vector<std::string> all;
        for (const auto& [n, _] : names_.actions) all.push_back(n);
        std::vector<std::string> notes;
        const std::string guess = closest_match(action->string(), all);
        if (!guess.empty()) notes.push_back(fmt_message(config::kNoteDidYouMean, guess));
        diags_.error(action->pos(), kUnknownAction.code,
                     fmt_message(kUnknownAction, action->string(), "action"), std::move(notes));
      }
    }
  }

  // Macros and lists are what expressions may reference.
  for (const auto& [name, item] : names_.macros) {
    const TomlNode* when = item->table->get("when");
    if (when && when->is_string()) env_.macros.emplace(name, ConditionEnv::Macro{when->string(), when->pos()});
  }
  for (const auto& [name, item] : names_.lists) env_.lists.emplace(name, item->values.strings("items"));

  // Pass 3: compile.
  for (const RawItem* raw : names_.action_order) {
    ActionDef a;
    compile_action(*raw, a);
    set->actions_.push_back(std::move(a));
  }
  for (const RawItem* raw : names_.rule_order) {
    Rule r;
    compile_rule(*raw, r);
    for (const auto& offered : r.offer) {
      if (const ActionDef* a = set->find_action(offered)) {
        used_actions_.insert(offered);
        check_params(*a, r.label_names(), "rule '" + r.name + "'", raw->values.pos("offer"));
      }
    }
    set->rules_.push_back(std::move(r));
  }
  for (const RawItem* raw : names_.command_order) {
    CommandDef c;
    compile_command(*raw, c);
    if (const ActionDef* a = set->find_action(c.action)) {
      used_actions_.insert(c.action);
      if (!c.pattern.parts().empty()) {
        check_params(*a, c.pattern.placeholder_names(), "command '" + c.pattern.text() + "'",
                     raw->values.pos("pattern"));
      }
      // An undeclared parameter filled by a typed placeholder takes the placeholder's type
      // ({why:text} accepts several words); a declared one keeps its own.
      auto& action = set->actions_[static_cast<std::size_t>(a - set->actions_.data())];
      for (const auto& part : c.pattern.parts()) {
        if (part.type == PatternPart::Type::literal || action.param_specs.count(part.text)) continue;
        std::string type = "word";
        if (part.type == PatternPart::Type::integer) type = "int";
        if (part.type == PatternPart::Type::duration) type = "duration";
        if (part.type == PatternPart::Type::text) type = "text";
        if (part.type == PatternPart::Type::choice) {
          type = "choice(";
          for (std::size_t i = 0; i < part.choices.size(); ++i) type += (i ? "|" : "") + part.choices[i];
          type += ")";
        }
        auto spec = ParamSpec::parse(type);
        if (auto* ok = std::get_if<ParamSpec>(&spec)) action.param_specs.emplace(part.text, std::move(*ok));
      }
    }
    set->commands_.push_back(std::move(c));
  }
  for (const auto& f : files_) {
    set->files_.push_back(FileSummary{f.file, f.rules.size(), f.actions.size(), f.commands.size(),
                                      f.macros.size(), f.lists.size()});
  }

  // Pass 4: lint.
  lint(*set);

  if (diags_.error_count() > errors_before) return nullptr;
  std::vector<std::vector<IndexKey>> keys;
  keys.reserve(set->rules_.size());
  for (const auto& r : set->rules_) {
    keys.push_back(r.when.index_keys());
    set->longest_window_ = std::max({set->longest_window_, r.window.history(),
                                     r.resolve_after.value_or(Duration{0})});
  }
  set->index_.build(keys);
  return set;
}

void RuleLoader::lint(const RuleSet& set) {
  for (const RawItem* raw : names_.action_order) {
    if (!used_actions_.count(raw->name)) {
      // `run <action>` from chat can still use it: a warning, not an error.
      diags_.warning(raw->name_pos, kUnusedAction.code, fmt_message(kUnusedAction, raw->name));
    }
  }
  for (const auto& [name, item] : names_.macros) {
    if (!env_.used_macros.count(name)) diags_.warning(item->name_pos, kUnusedMacro.code, fmt_message(kUnusedMacro, name));
  }
  for (const auto& [name, item] : names_.lists) {
    if (!env_.used_lists.count(name)) diags_.warning(item->name_pos, kUnusedList.code, fmt_message(kUnusedList, name));
  }
  for (std::size_t i = 0; i < set.rules().size(); ++i) {
    const Rule& r = set.rules()[i];
    const auto keys = r.when.index_keys();
    // Alertmanager alerts re-sent with the same startsAt are duplicates: they never reach the rule.
    const bool alertmanager_only = std::any_of(keys.begin(), keys.end(), [](const auto& k) {
      return k.path.text() == "kind" && !k.values.empty() &&
             std::all_of(k.values.begin(), k.values.end(),
                         [](const std::string& v) { return v == "alertmanager.alert"; });
    });
    if (alertmanager_only && r.resolve_after) {
      diags_.warning(names_.rule_order[i]->values.pos("resolve_after"), kResolveAfterResent.code,
                     fmt_message(kResolveAfterResent, r.name));
    }
    // Two equalities on one field with no value in common: `kind == "a" and kind == "b"`.
    for (std::size_t a = 0; a < keys.size(); ++a) {
      for (std::size_t b = a + 1; b < keys.size(); ++b) {
        if (!(keys[a].path == keys[b].path)) continue;
        bool common = false;
        for (const auto& x : keys[a].values) {
          common = common || std::find(keys[b].values.begin(), keys[b].values.end(), x) != keys[b].values.end();
        }
        if (!common) {
          diags_.warning(names_.rule_order[i]->values.pos("when"), kNeverMatches.code,
                         fmt_message(kNeverMatches, r.name, keys[a].path.text(),
                                     join(keys[a].values), join(keys[b].values)));
        }
      }
    }
  }
}

std::vector<std::string> Rule::label_names() const {
  std::vector<std::string> out = group_by;
  for (const auto& [k, _] : labels) {
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  }
  return out;
}

const Rule* RuleSet::find_rule(std::string_view name) const {
  for (const auto& r : rules_) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const ParamSpec& ActionDef::param_spec(const std::string& param) const {
  static const ParamSpec kWord = std::get<ParamSpec>(ParamSpec::parse("word"));
  auto it = param_specs.find(param);
  return it == param_specs.end() ? kWord : it->second;
}

const ActionDef* RuleSet::find_action(std::string_view name) const {
  for (const auto& a : actions_) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Duration RuleSet::longest_window() const { return longest_window_; }

RuleSetPtr load_rule_set(const std::vector<std::string>& files, const RuleLoadContext& context,
                         Diagnostics& diags) {
  std::vector<std::pair<std::string, std::shared_ptr<const TomlNode>>> roots;
  for (const auto& f : files) roots.emplace_back(f, config::parse_toml_file(f, diags));
  return RuleLoader(context, diags).load(std::move(roots));
}

RuleSetPtr load_rule_texts(const std::vector<std::pair<std::string, std::string>>& files,
                           const RuleLoadContext& context, Diagnostics& diags) {
  std::vector<std::pair<std::string, std::shared_ptr<const TomlNode>>> roots;
  for (const auto& [name, text] : files) roots.emplace_back(name, config::parse_toml(text, name, diags));
  return RuleLoader(context, diags).load(std::move(roots));
}

RuleSetPtr RuleSetHolder::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

bool RuleSetHolder::swap(RuleSetPtr next) {
  if (!next) return false;
  std::lock_guard lock(mutex_);
  current_ = std::move(next);
  return true;
}

}  // namespace vigie::rules
