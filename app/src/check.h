// `vigie check`: validates vigie.toml (and, through the rules module, every rule file).
#pragma once

#include <iosfwd>
#include <string>

namespace vigie::app {

struct CheckOptions {
  std::string config_path;
  bool json = false;
  bool werror = false;  // warnings fail the check too
};

// Exit codes: 0 valid, 1 invalid, 2 the config file cannot be read.
int run_check(const CheckOptions& options, std::ostream& out, std::ostream& err);

}  // namespace vigie::app
