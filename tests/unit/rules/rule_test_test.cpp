// `vigie test` files: the shipped examples pass; failures name the expectation's line and say
// what was expected and what was got; malformed test files are diagnosed like rule files.
#include <catch2/catch.hpp>

#include "vigie/actions/kinds.h"
#include "vigie/config/messages.h"
#include "vigie/rules/rule_test.h"

using namespace vigie;
using namespace vigie::rules;

namespace {
struct Context {
  config::KindCatalog kinds;
  RuleLoadContext ctx;
  Context() {
    actions::register_builtin_actions(kinds);
    ctx.action_kinds = &kinds;
    ctx.check_roles = false;
  }
};
}  // namespace

TEST_CASE("the example rule tests pass") {
  Context c;
  for (const char* f : {"/examples/tests/sentry_test.toml", "/examples/tests/newrelic_test.toml"}) {
    config::Diagnostics d;
    auto r = run_rule_test_file(std::string(VIGIE_SOURCE_DIR) + f, c.ctx, d);
    INFO(f << "\n" << d.render_text());
    for (const auto& fail : r.failures) INFO(fail.test << ": " << fail.message);
    CHECK(r.loaded);
    CHECK(r.tests > 0);
    CHECK(r.passed == r.tests);
  }
}

TEST_CASE("a failing expectation says what was expected and what was got, with its line") {
  Context c;
  config::Diagnostics d;
  auto r = run_rule_test_file(std::string(VIGIE_FIXTURES) + "/rule-tests/failing_test.toml", c.ctx, d);
  CHECK(r.loaded);
  CHECK(r.tests == 1);
  CHECK(r.passed == 0);
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].test == "expects an alert too early");
  CHECK(r.failures[0].pos.line == 11);
  CHECK(r.failures[0].message ==
        "at 3m: expected alert sentry-error-burst firing {\"project\":\"shop-api\"}, not found");
  auto j = rule_test_result_json({r});
  CHECK(j["failed"] == 1);
  CHECK(j["files"][0]["failures"][0]["line"] == 11);
}

TEST_CASE("a malformed test file is diagnosed at its positions") {
  Context c;
  config::Diagnostics d;
  auto r = run_rule_test_file(std::string(VIGIE_FIXTURES) + "/rule-tests/broken_test.toml", c.ctx, d);
  CHECK_FALSE(r.loaded);
  INFO(d.render_text());
  bool unknown = false, duration = false;
  for (const auto& item : d.items()) {
    unknown = unknown || (item.code == config::kUnknownKey.code && item.pos.line == 7);
    duration = duration || (item.code == config::kBadDuration.code && item.pos.line == 9);
  }
  CHECK(unknown);
  CHECK(duration);
}

TEST_CASE("unexpected extra alerts fail too: the set is exact") {
  Context c;
  config::Diagnostics d;
  const std::string text = R"(
rule_files = [")" + std::string(VIGIE_SOURCE_DIR) + R"(/examples/rules/*.toml"]
[[test]]
name = "exact set"
[[test.event]]
kind = "newrelic.violation"
attrs = { violation_id = "1", label = "x", condition_name = "y" }
[[test.expect]]
at = "1s"
alerts = []
)";
  auto r = run_rule_test_text("inline.toml", text, c.ctx, d);
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].message.find("unexpected alert newrelic-violation firing") != std::string::npos);
}
