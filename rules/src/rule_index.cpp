// Rule index construction and lookup.
#include "vigie/rules/rule_index.h"

#include <algorithm>

namespace vigie::rules {

void RuleIndex::build(const std::vector<std::vector<IndexKey>>& keys) {
  slots_.clear();
  unindexed_.clear();
  rule_count_ = keys.size();
  for (std::uint32_t rule = 0; rule < keys.size(); ++rule) {
    const auto& preds = keys[rule];
    if (preds.empty()) {
      unindexed_.push_back(rule);
      continue;
    }
    // `kind` is the most selective field in practice; otherwise the predicate with the fewest
    // values files the rule under the fewest buckets.
    const IndexKey* best = &preds.front();
    for (const auto& p : preds) {
      const bool p_kind = p.path.root() == bus::FieldPath::Root::kind;
      const bool best_kind = best->path.root() == bus::FieldPath::Root::kind;
      if ((p_kind && !best_kind) || (p_kind == best_kind && p.values.size() < best->values.size())) {
        best = &p;
      }
    }
    auto slot = std::find_if(slots_.begin(), slots_.end(),
                             [&](const Slot& s) { return s.path == best->path; });
    if (slot == slots_.end()) {
      slots_.push_back(Slot{best->path, {}});
      slot = slots_.end() - 1;
    }
    for (const auto& v : best->values) {
      auto& list = slot->by_value[v];
      if (list.empty() || list.back() != rule) list.push_back(rule);
    }
  }
}

void RuleIndex::candidates(const bus::Event& event, std::vector<std::uint32_t>& out) const {
  out.clear();
  std::size_t sources = 0;
  for (const auto& slot : slots_) {
    const bus::FieldValue v = slot.path.lookup(event);
    if (v.type != bus::FieldValue::Type::string) continue;
    auto it = slot.by_value.find(v.string);
    if (it == slot.by_value.end()) continue;
    out.insert(out.end(), it->second.begin(), it->second.end());
    ++sources;
  }
  if (!unindexed_.empty()) {
    out.insert(out.end(), unindexed_.begin(), unindexed_.end());
    ++sources;
  }
  // Each list is ascending and a rule sits in one slot only: merging is needed only when
  // several lists contributed.
  if (sources > 1) std::sort(out.begin(), out.end());
}

}  // namespace vigie::rules
