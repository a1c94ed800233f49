// The rule index: per-event cost must not grow with the number of rules in the common case.
// Each rule is filed under one equality predicate of its top-level conjunction (`kind == "x"`,
// `project in ["a","b"]`): the one whose values the fewest rules share, `kind` on a tie; an event looks up its own value for each indexed
// field (a handful of distinct fields however many rules) and gets the candidate rules, plus the
// few rules that have no such predicate. Only candidates have their full condition evaluated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vigie/bus/event.h"

namespace vigie::rules {

// `path == one of values` (a single value for ==).
struct IndexKey {
  bus::FieldPath path;
  std::vector<std::string> values;
};

class RuleIndex {
 public:
  // keys[i]: the equality predicates of rule i's top-level conjunction (possibly none).
  void build(const std::vector<std::vector<IndexKey>>& keys);

  // Fills `out` with the indices of the rules that may match, ascending. Does not allocate once
  // `out` has grown to the largest candidate count.
  void candidates(const bus::Event& event, std::vector<std::uint32_t>& out) const;

  std::size_t indexed_fields() const { return slots_.size(); }
  std::size_t unindexed_rules() const { return unindexed_.size(); }
  std::size_t rule_count() const { return rule_count_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Slot {
    bus::FieldPath path;
    std::unordered_map<std::string, std::vector<std::uint32_t>, Hash, std::equal_to<>> by_value;
  };
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> unindexed_;
  std::size_t rule_count_ = 0;
};

}  // namespace vigie::rules
