// Option tables: each config section and each collector/action/provider kind declares its keys
// (name, type, default, required, secret, description). One table drives validation, the docs and
// `vigie kinds`, so they cannot drift apart (fluent-bit's config_map).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vigie/config/diagnostics.h"
#include "vigie/config/toml_tree.h"
#include "vigie/core/time.h"

namespace vigie {
class SecretRegistry;
}

namespace vigie::config {

enum class OptionType {
  string,
  integer,
  floating,
  boolean,
  duration,     // "30s", "10m"
  string_list,  // ["a", "b"]
  secret,       // never inline: written as <name>_env = "VAR" or <name>_file = "path"
  url,          // http:// or https://
  address,      // host:port
  enumeration,  // a string out of `choices`
  table,        // free-form sub-table, validated by its owner
  table_list,   // array of tables ([[x.y]]), validated by its owner
};

std::string_view option_type_name(OptionType t);

struct OptionSpec {
  std::string_view name;
  OptionType type = OptionType::string;
  std::string_view default_value;  // as the user would write it; empty: no default
  bool required = false;
  std::string_view description;
  std::span<const std::string_view> choices = {};  // enumeration only
  std::int64_t min = 0;                            // integer only, when min < max
  std::int64_t max = 0;
};

struct OptionTable {
  std::string_view name;  // "server", "sentry", "heroku.restart"
  std::string_view description;
  std::span<const OptionSpec> options;
};

// Where a secret comes from. Never holds the secret itself.
struct SecretRef {
  std::string env;   // environment variable name, or empty
  std::string file;  // path (resolved against the config file's folder), or empty
  SourcePos pos;
  bool operator==(const SecretRef&) const = default;
};

using OptionValue = std::variant<std::string, std::int64_t, double, bool, Duration,
                                 std::vector<std::string>, SecretRef,
                                 std::shared_ptr<const TomlNode>>;

// A table validated against its OptionTable: every declared option with a value (given or
// default) is present under its declared name.
class OptionValues {
 public:
  bool has(std::string_view name) const { return values_.count(std::string(name)) > 0; }
  const OptionValue* find(std::string_view name) const;
  SourcePos pos(std::string_view name) const;  // the value's position, or the table's

  std::string string(std::string_view name, std::string fallback = {}) const;
  std::int64_t integer(std::string_view name, std::int64_t fallback = 0) const;
  double floating(std::string_view name, double fallback = 0) const;
  bool boolean(std::string_view name, bool fallback = false) const;
  Duration duration(std::string_view name, Duration fallback = Duration{0}) const;
  std::vector<std::string> strings(std::string_view name) const;
  std::optional<SecretRef> secret(std::string_view name) const;
  std::shared_ptr<const TomlNode> node(std::string_view name) const;

  void set(std::string name, OptionValue value, SourcePos pos);
  const SourcePos& table_pos() const { return table_pos_; }
  void set_table_pos(SourcePos p) { table_pos_ = std::move(p); }

 private:
  std::map<std::string, std::pair<OptionValue, SourcePos>, std::less<>> values_;
  SourcePos table_pos_;
};

// Validates `table` (described as `where`, e.g. "[collectors.sentry-main]") against `spec`.
// Reports unknown keys (with the valid ones and a did-you-mean), wrong types, bad durations,
// missing required keys and inline secrets. `ignore` lists keys the caller handles itself
// (`type`). Secret file paths are resolved against `base_dir`.
OptionValues validate_options(const TomlNode& table, const OptionTable& spec, std::string_view where,
                              Diagnostics& diags, std::span<const std::string_view> ignore = {},
                              const std::string& base_dir = {});

// Reads a secret from its environment variable or file and registers it for redaction.
// Trailing newlines of a file are dropped. On failure adds a diagnostic with `severity`.
std::optional<std::string> resolve_secret(const SecretRef& ref, std::string_view option,
                                          SecretRegistry& secrets, Diagnostics& diags,
                                          Severity severity = Severity::error);

// Markdown reference of a table (used by docs and `vigie kinds`).
std::string describe_markdown(const OptionTable& table);

// What a kind refuses in its options beyond their types (an exec program that is not an absolute
// path, say), found before any run: `option` names the option the message is about.
struct OptionProblem {
  std::string option;
  std::string message;
};

// A catalog of kinds (collector types, action types, provider types) and their option tables.
struct KindInfo {
  std::string_view type;
  std::string_view description;
  const OptionTable* options = nullptr;
  // The kind's own checks of options as written (templates not rendered yet), so `vigie check`
  // reports what a worker would refuse at run time; nullptr when the option table says it all.
  std::vector<OptionProblem> (*check)(const OptionValues&) = nullptr;
  // False for a kind known to the config (and so validated) that this build cannot run yet.
  bool runnable = true;
};

class KindCatalog {
 public:
  // Registering a type twice is a programming error: it aborts with the name.
  void add(KindInfo info);
  const KindInfo* find(std::string_view type) const;
  std::vector<std::string_view> types() const;
  const std::vector<KindInfo>& all() const { return kinds_; }

 private:
  std::vector<KindInfo> kinds_;
};

}  // namespace vigie::config
