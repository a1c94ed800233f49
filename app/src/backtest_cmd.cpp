// `vigie backtest -c vigie.toml [--rules DIR] --from T [--to T] [--json]`.
#include "backtest_cmd.h"

#include <algorithm>
#include <filesystem>
#include <ostream>

#include "vigie/app/catalogs.h"
#include "vigie/app/system_clock.h"
#include "vigie/rules/backtest.h"

namespace vigie::app {
namespace {

std::optional<TimePoint> parse_when(const std::string& text, TimePoint now) {
  if (auto t = parse_rfc3339(text)) return t;
  if (auto d = parse_duration(text)) return now - *d;
  return std::nullopt;
}

}  // namespace

int run_backtest_cmd(const BacktestOptions& options, std::ostream& out, std::ostream& err) {
  const KindCatalogs catalogs = builtin_catalogs();
  config::Diagnostics diags;
  auto cfg = config::load_config(options.config_path, catalogs.for_config(), diags);
  if (!cfg) {
    err << diags.render_text();
    return 2;
  }
  SystemClock clock;
  const TimePoint now = clock.system_now();
  auto from = parse_when(options.from, now);
  auto to = options.to.empty() ? std::optional<TimePoint>(now) : parse_when(options.to, now);
  if (!from || !to || *from >= *to) {
    err << "vigie backtest: --from and --to must be RFC 3339 times or durations ago (\"24h\"), "
           "with --from before --to\n";
    return 1;
  }
  std::vector<std::string> files = cfg->rule_files;
  if (!options.rules_dir.empty()) {
    files.clear();
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(options.rules_dir, ec)) {
      if (e.path().extension() == ".toml") files.push_back(e.path().string());
    }
    if (ec) {
      err << "vigie backtest: cannot read the rules folder '" << options.rules_dir << "'\n";
      return 2;
    }
    std::sort(files.begin(), files.end());
  }
  rules::RuleLoadContext context;
  context.action_kinds = &catalogs.actions;
  for (const auto& [role, _] : cfg->access.roles) context.roles.insert(role);
  config::Diagnostics rule_diags;
  auto set = rules::load_rule_set(files, context, rule_diags);
  if (!set) {
    err << rule_diags.render_text();
    return 1;
  }
  auto store = store::Store::open(cfg->store.path);
  if (!store) {
    err << "vigie backtest: " << store.error().message << '\n';
    return 2;
  }
  const auto report = rules::run_backtest(**store, set, *from, *to,
                                          cfg->slack.default_channel.empty() ? "#alerts" : cfg->slack.default_channel);
  if (!report.error.empty()) {
    err << "vigie backtest: " << report.error << '\n';
    return 2;
  }
  if (options.json) {
    out << rules::backtest_json(report).dump(2) << '\n';
  } else {
    out << rules::backtest_table(report);
  }
  return 0;
}

}  // namespace vigie::app
