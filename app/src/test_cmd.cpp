// `vigie test FILE... [--json] [-c vigie.toml]`.
#include "test_cmd.h"

#include <nlohmann/json.hpp>

#include <ostream>

#include "vigie/app/catalogs.h"
#include "vigie/config/messages.h"
#include "vigie/rules/rule_test.h"

namespace vigie::app {

int run_tests(const TestOptions& options, std::ostream& out, std::ostream& err) {
  const KindCatalogs catalogs = builtin_catalogs();
  rules::RuleLoadContext context;
  context.action_kinds = &catalogs.actions;
  context.check_roles = false;
  config::Diagnostics diags;
  if (!options.config_path.empty()) {
    auto cfg = config::load_config(options.config_path, catalogs.for_config(), diags);
    if (!cfg) {
      err << diags.render_text();
      return 1;
    }
    context.check_roles = true;
    for (const auto& [role, _] : cfg->access.roles) context.roles.insert(role);
  }
  std::vector<rules::RuleTestFileResult> results;
  bool unreadable = false;
  for (const auto& f : options.files) {
    results.push_back(rules::run_rule_test_file(f, context, diags));
  }
  for (const auto& d : diags.items()) {
    unreadable = unreadable || (d.code == config::kFileUnreadable.code && d.pos.line == 0);
  }
  std::size_t tests = 0, passed = 0;
  bool ok = !diags.has_errors();
  for (const auto& r : results) {
    tests += r.tests;
    passed += r.passed;
    ok = ok && r.loaded && r.failures.empty();
  }
  if (options.json) {
    auto doc = rules::rule_test_result_json(results);
    doc["diagnostics"] = diags.to_json()["diagnostics"];
    doc["ok"] = ok;
    out << doc.dump(2) << '\n';
  } else {
    err << diags.render_text();
    for (const auto& r : results) {
      for (const auto& f : r.failures) {
        out << config::format_pos(f.pos) << ": FAIL \"" << f.test << "\": " << f.message << '\n';
      }
      if (r.loaded) out << r.file << ": " << r.passed << "/" << r.tests << " tests passed\n";
    }
    out << passed << " passed, " << (tests - passed) << " failed\n";
  }
  if (unreadable) return 2;
  return ok ? 0 : 1;
}

}  // namespace vigie::app
