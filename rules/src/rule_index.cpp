// Rule index construction and lookup.
#include "vigie/rules/rule_index.h"

#include <algorithm>

namespace vigie::rules {

void RuleIndex::build(const std::vector<std::vector<IndexKey>>& keys) {
  slots_.clear();
  unindexed_.clear();
  rule_count_ = keys.size();
  // First pass: how many rules share each `field == value`. Filing a rule under a value many rules
  // share (`kind == "alertmanager.alert"` in a thousand per-host rules) would make every such
  // event a candidate for all of them; the value the fewest rules share keeps candidates few.
  struct Tally {
    bus::FieldPath path;
    std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> rules_per_value;
  };
  std::vector<Tally> tallies;
  auto tally_of = [&](const bus::FieldPath& path) -> Tally& {
    auto t = std::find_if(tallies.begin(), tallies.end(),
                          [&](const Tally& x) { return x.path == path; });
    if (t != tallies.end()) return *t;
    tallies.push_back(Tally{path, {}});
    return tallies.back();
  };
  for (const auto& preds : keys) {
    for (const auto& p : preds) {
      Tally& t = tally_of(p.path);
      for (const auto& v : p.values) ++t.rules_per_value[v];
    }
  }
  auto shared_by = [&](const IndexKey& p) {
    const Tally& t = tally_of(p.path);
    std::size_t n = 0;
    for (const auto& v : p.values) n += t.rules_per_value.find(v)->second;
    return n;
  };
  for (std::uint32_t rule = 0; rule < keys.size(); ++rule) {
    const auto& preds = keys[rule];
    if (preds.empty()) {
      unindexed_.push_back(rule);
      continue;
    }
    // The predicate whose buckets hold the fewest rules; on a tie `kind` (one field every event
    // has, so fewer fields to look up per event), then the fewest values.
    const IndexKey* best = &preds.front();
    std::size_t best_shared = shared_by(*best);
    for (const auto& p : preds) {
      const std::size_t shared = shared_by(p);
      const bool p_kind = p.path.root() == bus::FieldPath::Root::kind;
      const bool best_kind = best->path.root() == bus::FieldPath::Root::kind;
      if (shared < best_shared ||
          (shared == best_shared &&
           ((p_kind && !best_kind) ||
            (p_kind == best_kind && p.values.size() < best->values.size())))) {
        best = &p;
        best_shared = shared;
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
