// Rule evaluation cost against the number of rules (the index must keep it flat), and the time
// `vigie check` needs to load and compile a large rule set.
//
// Usage: bench_rules [--runs N] [--events N]
// Each rule set has N rules: N-2 of the common shape `kind == "k<i>" and project == "p<i % 50>"
// and count > 3`, plus 2 rules the index cannot file (`level == "fatal" or level == "panic"`).
// Events cycle through kinds k0..k7, which exist in every set: each event has the same 3
// candidate rules whatever N is, so any growth with N is the index's own cost.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "vigie/actions/kinds.h"
#include "vigie/rules/rule_set.h"

using namespace vigie;
using Clock = std::chrono::steady_clock;

namespace {

std::string rules_text(int n) {
  std::string out;
  out.reserve(static_cast<std::size_t>(n) * 160);
  for (int i = 0; i < n; ++i) {
    out += "[[rule]]\nname = \"r" + std::to_string(i) + "\"\n";
    if (i >= n - 2) {
      out += "when = 'level == \"fatal\" or level == \"panic\"'\n";
    } else {
      out += "when = 'kind == \"k" + std::to_string(i % 10000) + "\" and project == \"p" +
             std::to_string(i % 50) + "\" and count > 3'\n";
    }
    out += "group_by = [\"project\"]\nsummary = \"{{count}} in {{labels.project}}\"\n";
  }
  return out;
}

struct Stats {
  double median, min, max;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  int events_per_run = 2'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--events") == 0) events_per_run = std::atoi(argv[i + 1]);
  }
  config::KindCatalog kinds;
  actions::register_builtin_actions(kinds);
  rules::RuleLoadContext ctx;
  ctx.action_kinds = &kinds;

  // Events: kinds present in every set, with values that match their rule.
  std::vector<bus::Event> events;
  for (int i = 0; i < 8; ++i) {
    bus::Event e;
    e.id = std::to_string(i);
    e.kind = "k" + std::to_string(i);
    e.attrs = {{"project", "p" + std::to_string(i % 50)}, {"count", 5}, {"level", "error"}};
    events.push_back(std::move(e));
  }

  std::printf("| rules | load+compile ms median (min-max) | events/s median (min-max) | ns/event | cost vs 10 rules |\n");
  std::printf("|---:|---:|---:|---:|---:|\n");
  double base_ns = 0;
  for (int n : {10, 1000, 10000}) {
    const std::string text = rules_text(n);
    std::vector<double> load_ms, rates;
    rules::RuleSetPtr set;
    for (int r = 0; r < runs; ++r) {
      config::Diagnostics d;
      const auto t0 = Clock::now();
      set = rules::load_rule_texts({{"bench.toml", text}}, ctx, d);
      load_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (!set) {
        std::fprintf(stderr, "%s", d.render_text().c_str());
        return 1;
      }
    }
    std::vector<std::uint32_t> candidates;
    candidates.reserve(256);
    std::size_t matched = 0;
    for (int r = 0; r < runs; ++r) {
      const auto t0 = Clock::now();
      for (int i = 0; i < events_per_run; ++i) {
        const auto& e = events[static_cast<std::size_t>(i) % events.size()];
        set->index().candidates(e, candidates);
        for (auto idx : candidates) matched += set->rules()[idx].when.matches(e);
      }
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      rates.push_back(events_per_run / secs);
    }
    const Stats l = stats(load_ms), e = stats(rates);
    const double ns = 1e9 / e.median;
    if (n == 10) base_ns = ns;
    std::printf("| %d | %.1f (%.1f-%.1f) | %.0f (%.0f-%.0f) | %.0f | %.2fx |\n", n, l.median, l.min, l.max,
                e.median, e.min, e.max, ns, ns / base_ns);
    if (matched == 0) std::fprintf(stderr, "no rule matched: the benchmark is wrong\n");
  }
  return 0;
}
