// `vigie backtest` speed: 1 000 000 stored events (Sentry-like, 50 projects, one event every
// 100 ms over ~28 h) through the shipped example rules. The store is written once to a temp file;
// each run replays it. Usage: bench_backtest [--events N] [--runs N]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "vigie/actions/kinds.h"
#include "vigie/rules/backtest.h"

using namespace vigie;
using SteadyClock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  int events = 1'000'000;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--events") == 0) events = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::atoi(argv[i + 1]);
  }
  const auto dir = std::filesystem::temp_directory_path() / ("vigie-backtest-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto store = store::Store::open((dir / "bench.db").string());
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  const TimePoint t0 = from_unix_ms(1'767'225'600'000);
  const auto fill_start = SteadyClock::now();
  std::vector<bus::Event> batch;
  for (int i = 0; i < events; ++i) {
    bus::Event e;
    e.id = "e" + std::to_string(i);
    e.source = "sentry";
    e.kind = i % 10 == 0 ? "papertrail.log" : "sentry.issue";
    e.time = e.received_at = t0 + Duration{static_cast<std::int64_t>(i) * 100};
    e.attrs = {{"project", i % 7 == 0 ? "shop-api" : "p" + std::to_string(i % 50)},
               {"level", i % 3 == 0 ? "error" : "warning"},
               {"status", "unresolved"},
               {"title", "KeyError: 'user'"},
               {"program", "web"},
               {"message", "GET /cart 500"},
               {"hostname", "web-" + std::to_string(i % 4)},
               {"severity", i % 5 == 0 ? "Error" : "Info"}};
    batch.push_back(std::move(e));
    if (batch.size() == 10'000) {
      (*store)->insert_events(batch);
      batch.clear();
    }
  }
  (*store)->insert_events(batch);
  const double fill_s = std::chrono::duration<double>(SteadyClock::now() - fill_start).count();

  config::KindCatalog kinds;
  actions::register_builtin_actions(kinds);
  rules::RuleLoadContext ctx;
  ctx.action_kinds = &kinds;
  ctx.check_roles = false;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(std::string(VIGIE_SOURCE_DIR) + "/examples/rules")) {
    files.push_back(e.path().string());
  }
  config::Diagnostics d;
  auto set = rules::load_rule_set(files, ctx, d);
  if (!set) {
    std::fprintf(stderr, "%s", d.render_text().c_str());
    return 1;
  }
  std::vector<double> secs;
  rules::BacktestReport report;
  for (int r = 0; r < runs; ++r) {
    const auto start = SteadyClock::now();
    report = rules::run_backtest(**store, set, t0, t0 + std::chrono::hours(48));
    secs.push_back(std::chrono::duration<double>(SteadyClock::now() - start).count());
  }
  std::sort(secs.begin(), secs.end());
  std::printf("events stored: %d (filled in %.1f s)\n", events, fill_s);
  std::printf("backtest seconds: median %.1f (min %.1f, max %.1f) over %d runs; %.0f events/s\n", secs[secs.size() / 2],
              secs.front(), secs.back(), runs, events / secs[secs.size() / 2]);
  std::printf("%s", rules::backtest_table(report).c_str());
  std::filesystem::remove_all(dir);
  return report.error.empty() ? 0 : 1;
}
