// Rule-test files (`vigie test`): timelines of events, silences and expectations, run through
// the real engine on a FakeClock. Rule files named by the input are read from disk.
#include "fuzz_support.h"
#include "vigie/app/catalogs.h"
#include "vigie/config/diagnostics.h"
#include "vigie/rules/rule_test.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = vigie::fuzz::as_text(data, size);
  if (vigie::fuzz::names_device_files(text)) return 0;
  static const auto catalogs = vigie::app::builtin_catalogs();
  vigie::rules::RuleLoadContext ctx;
  ctx.action_kinds = &catalogs.actions;
  ctx.check_roles = false;
  vigie::config::Diagnostics diags;
  auto r = vigie::rules::run_rule_test_text(std::string(VIGIE_SOURCE_DIR) + "/examples/tests/fuzz_test.toml",
                                            std::string(text), ctx, diags);
  (void)diags.render_text();
  (void)vigie::rules::rule_test_result_json({r}).dump();
  return 0;
}
