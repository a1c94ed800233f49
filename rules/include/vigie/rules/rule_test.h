// Rule unit tests (`vigie test`): a TOML file gives a timeline of input events and silences and
// the alerts expected at given times; the real engine runs it offline on an in-memory store and
// a FakeClock, deterministically, with no network. Format: docs/rule-tests.md.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "vigie/config/diagnostics.h"
#include "vigie/rules/rule_set.h"

namespace vigie::rules {

struct RuleTestFailure {
  std::string test;
  config::SourcePos pos;  // of the [[test.expect]]
  std::string message;    // "at 5m: expected ..., got ..."
};

struct RuleTestFileResult {
  std::string file;
  std::size_t tests = 0;
  std::size_t passed = 0;
  std::vector<RuleTestFailure> failures;
  bool loaded = false;  // false: the test file or its rule files have errors (in diagnostics)
};

// Runs every test of `file`. Load problems go to `diags`.
RuleTestFileResult run_rule_test_file(const std::string& file, const RuleLoadContext& context,
                                      config::Diagnostics& diags);

// The same, from text (the rule files it names are still read from disk).
RuleTestFileResult run_rule_test_text(const std::string& file, const std::string& text,
                                      const RuleLoadContext& context, config::Diagnostics& diags);

nlohmann::json rule_test_result_json(const std::vector<RuleTestFileResult>& results);

const config::OptionTable& rule_test_options();
const config::OptionTable& rule_test_event_options();
const config::OptionTable& rule_test_silence_options();
const config::OptionTable& rule_test_expect_options();

}  // namespace vigie::rules
