// `vigie kinds [--json]`: every registered collector, action and provider kind with its options,
// printed from the same option tables that validate vigie.toml and the rule files.
#pragma once

#include <ostream>

namespace vigie::app {

struct KindsOptions {
  bool json = false;
};

int run_kinds(const KindsOptions& options, std::ostream& out, std::ostream& err);

}  // namespace vigie::app
