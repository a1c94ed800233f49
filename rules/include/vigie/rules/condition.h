// Conditions: the small language of `when` and `resolve_when` (docs/expressions.md).
// Parsed by hand (recursive descent) into a typed tree at load, with every error at its exact
// column inside the TOML string; compiled into a flat node array that evaluates without heap
// allocation: field lookups are views, regexes are RE2 (linear time, compiled once), sets are
// sorted vectors searched by string_view. A missing (or null) field makes its comparison false.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/bus/event.h"
#include "vigie/config/diagnostics.h"
#include "vigie/rules/rule_index.h"

namespace re2 {
class RE2;
}

namespace vigie::rules {

// What conditions may reference by name: [[macro]]s (each with the position of its `when`
// string, so errors inside a macro point there) and [[list]]s. Records what was used.
struct ConditionEnv {
  struct Macro {
    std::string text;
    config::SourcePos pos;  // of the TOML string value
  };
  std::map<std::string, Macro, std::less<>> macros;
  std::map<std::string, std::vector<std::string>, std::less<>> lists;
  mutable std::set<std::string, std::less<>> used_macros;
  mutable std::set<std::string, std::less<>> used_lists;
};

class Condition {
 public:
  Condition();
  ~Condition();
  Condition(const Condition&);
  Condition& operator=(const Condition&);
  Condition(Condition&&) noexcept;
  Condition& operator=(Condition&&) noexcept;

  // Compiles `text`, the decoded content of the TOML string at `value_pos` (positions of errors
  // are computed from the file text registered in `diags`). Returns nothing on error.
  static std::optional<Condition> compile(std::string_view text, const config::SourcePos& value_pos,
                                          const ConditionEnv& env, config::Diagnostics& diags);

  // True when the event satisfies the condition. Thread-safe; never allocates, never throws.
  // A default-constructed Condition matches nothing.
  bool matches(const bus::Event& event) const;

  // The equality predicates of the top-level conjunction (macros expanded), for the rule index:
  // `path == "s"` and `path in [strings]`.
  std::vector<IndexKey> index_keys() const;
  const std::string& text() const { return text_; }

  struct Program;

 private:
  std::string text_;
  std::shared_ptr<const Program> program_;
};

}  // namespace vigie::rules
