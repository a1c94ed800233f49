// Rule files: the TOML tables ([[rule]], [[action]], [[command]], [[macro]], [[list]]), their
// conditions, templates, windows and command patterns, loaded in passes. A rule set that loads is
// then run against a few events, so compiled programs are exercised too.
#include "fuzz_support.h"
#include "vigie/app/catalogs.h"
#include "vigie/bus/event.h"
#include "vigie/config/diagnostics.h"
#include "vigie/rules/rule_set.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto catalogs = vigie::app::builtin_catalogs();
  vigie::rules::RuleLoadContext ctx;
  ctx.action_kinds = &catalogs.actions;
  ctx.roles = {"oncall", "admins"};
  vigie::config::Diagnostics diags;
  auto set = vigie::rules::load_rule_texts({{"fuzz.toml", std::string(vigie::fuzz::as_text(data, size))}}, ctx, diags);
  (void)diags.render_text();
  if (!set) return 0;
  vigie::bus::Event e;
  e.id = "e1";
  e.source = "sentry";
  e.kind = "sentry.issue";
  e.attrs = {{"project", "shop-api"}, {"level", "error"}, {"count", 7}, {"title", "TypeError: x is undefined"},
             {"tags", {{"env", "prod"}}}, {"ratio", 0.25}, {"ok", true}, {"list", {1, "a", nullptr}}};
  for (const auto& rule : set->rules()) {
    (void)rule.when.matches(e);
    if (rule.resolve_when) (void)rule.resolve_when->matches(e);
  }
  return 0;
}
