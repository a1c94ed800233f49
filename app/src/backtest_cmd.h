// `vigie backtest`: what a candidate rule set would have done with the stored events.
#pragma once

#include <iosfwd>
#include <string>

namespace vigie::app {

struct BacktestOptions {
  std::string config_path;
  std::string rules_dir;  // candidate rules (*.toml); default: the config's `rules`
  std::string from;       // RFC 3339, or a duration meaning that long ago ("24h")
  std::string to;         // the same; default: now
  bool json = false;
};

// Exit codes: 0 ran, 1 rules or times invalid, 2 config or store unreadable.
int run_backtest_cmd(const BacktestOptions& options, std::ostream& out, std::ostream& err);

}  // namespace vigie::app
