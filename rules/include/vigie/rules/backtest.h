// Backtest: replay stored events through a candidate rule set on a simulated clock and report,
// per rule, the alerts it would have fired and resolved and the Slack messages and actions they
// would have caused. The engine runs on a private in-memory store: nothing is written to the
// source store, nothing is sent anywhere.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "vigie/rules/rule_set.h"
#include "vigie/store/store.h"

namespace vigie::rules {

struct BacktestRuleStats {
  std::int64_t fired = 0;
  std::int64_t resolved = 0;
  std::int64_t posts = 0;        // new Slack messages
  std::int64_t updates = 0;      // edits of a message (coalesced as in production)
  std::int64_t escalations = 0;
  std::int64_t repeats = 0;
  std::int64_t actions = 0;
  std::int64_t still_open = 0;  // at the end of the period
};

struct BacktestReport {
  TimePoint from{}, to{};
  std::int64_t events = 0;
  std::map<std::string, BacktestRuleStats> rules;  // every rule of the set, even quiet ones
  std::string error;  // set when the replay could not run
};

BacktestReport run_backtest(store::Store& source, const RuleSetPtr& rules, TimePoint from, TimePoint to,
                            const std::string& default_channel = "#alerts");

std::string backtest_table(const BacktestReport& report);
nlohmann::json backtest_json(const BacktestReport& report);

}  // namespace vigie::rules
