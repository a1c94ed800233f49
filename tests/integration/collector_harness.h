// Runs one real collector against its fake upstream the way the daemon does — the scheduler on a
// FakeClock, events acked into a real store file, the cursor committed from the `collector.cursor`
// event only once its events are stored — and can "restart" (a new collector, scheduler and store
// connection on the same file) to check that no event comes twice and none is skipped.
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "vigie/collectors/collector.h"
#include "vigie/collectors/kinds.h"
#include "vigie/collectors/scheduler.h"
#include "vigie/config/diagnostics.h"
#include "vigie/config/options.h"
#include "vigie/config/toml_tree.h"
#include "vigie/core/clock.h"
#include "vigie/net/http_client.h"
#include "vigie/store/store.h"

namespace vigie::testing {

// The [collectors.<name>] table of `type` given as TOML text (without the header), validated
// against the kind's option table as vigie.toml would be. Secrets are passed to the harness
// separately, so `token_env = "X"` lines are optional here.
inline config::OptionValues collector_options(const std::string& type, const std::string& toml) {
  config::KindCatalog kinds;
  collectors::register_builtin_collectors(kinds);
  const auto* kind = kinds.find(type);
  REQUIRE(kind);
  config::Diagnostics d;
  auto tree = config::parse_toml(toml, "collector.toml", d);
  INFO(d.render_text());
  REQUIRE(tree);
  const std::string_view ignore[] = {"type"};
  auto values = config::validate_options(*tree, *kind->options, "[collectors.test]", d, ignore);
  // A missing secret is the harness's business (passed as `secrets`), anything else is a test bug.
  for (const auto& item : d.items()) {
    if (item.message.find("token") == std::string::npos && item.message.find("api_key") == std::string::npos) {
      FAIL(d.render_text());
    }
  }
  return values;
}

class CollectorHarness {
 public:
  // `options_toml_values`: the [collectors.<name>] options as validated values (see options()).
  CollectorHarness(std::string type, config::OptionValues options, std::map<std::string, std::string> secrets,
                   std::string name = "test")
      : type_(std::move(type)), name_(std::move(name)), options_(std::move(options)), secrets_(std::move(secrets)) {
    db_ = (std::filesystem::temp_directory_path() /
           ("vigie-collector-" + type_ + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter()) + ".db"))
              .string();
    std::filesystem::remove(db_);
    net::HttpClientOptions ho;
    ho.request_timeout = std::chrono::seconds(5);
    ho.connect_timeout = std::chrono::seconds(2);
    http_ = net::make_http_client(ho, logging_.logger("http"));
    start();
  }
  ~CollectorHarness() {
    scheduler_.reset();
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_ + suffix);
  }

  // A fresh collector, scheduler and store connection: what a process restart does.
  void restart() {
    scheduler_.reset();
    store_.reset();
    start();
  }

  // Polls whatever is due now (call after advancing the clock).
  void run_due() { scheduler_->run_due(); }
  // Polls until no page is left (each `more` result polls again at once), at most `max` polls.
  void run_until_caught_up(int max = 50) {
    for (int i = 0; i < max; ++i) {
      auto next = scheduler_->run_due();
      if (!next || *next > clock.steady_now()) return;
    }
  }

  std::vector<bus::Event> events(const std::string& kind) {
    auto all = store_->recent_events(kind, std::nullopt, 1'000'000);
    REQUIRE(all);
    return std::vector<bus::Event>(all->rbegin(), all->rend());  // oldest first
  }
  std::optional<std::string> cursor() { return *store_->cursor(name_); }
  collectors::CollectorHealth health() { return scheduler_->health().at(0); }
  std::size_t ingest_calls() const { return ingest_calls_; }
  void fail_ingest(bool fail) { fail_ingest_ = fail; }
  std::string log() const { return log_out_.str(); }

  FakeClock clock;

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }

  void start() {
    auto s = store::Store::open(db_);
    REQUIRE(s);
    store_ = std::move(*s);
    auto factory = collectors::collector_factory(type_);
    REQUIRE(factory);
    // As the daemon does: the collector's requests share its poll's `timeout`.
    budget_ = std::make_shared<collectors::PollBudget>(*http_, clock);
    auto c = factory({name_, type_, options_, secrets_}, *budget_, logging_.logger(type_));
    INFO((c ? std::string() : c.error()));
    REQUIRE(c);
    std::vector<collectors::ScheduledCollector> list;
    list.push_back({name_, type_, std::move(*c), options_.duration("interval"), options_.duration("timeout"), budget_});
    scheduler_ = std::make_unique<collectors::CollectorScheduler>(
        std::move(list),
        [this](std::vector<bus::Event> batch) {
          ++ingest_calls_;
          if (fail_ingest_) return false;
          for (auto& e : batch) e.received_at = clock.system_now();
          if (!store_->insert_events(batch)) return false;
          for (const auto& e : batch) {
            if (e.kind == collectors::kCursorEventKind) {
              if (!store_->set_cursor(e.attrs["collector"].get<std::string>(), e.attrs["cursor"].get<std::string>(),
                                      clock.system_now())) {
                return false;
              }
            }
          }
          return true;
        },
        [this](const std::string& name) -> std::optional<std::string> {
          auto c = store_->cursor(name);
          return c ? *c : std::nullopt;
        },
        clock, logging_.logger("collectors"), collectors::SchedulerOptions{}, [] { return 0.5; });
  }

  std::string type_, name_;
  config::OptionValues options_;
  std::map<std::string, std::string> secrets_;
  std::string db_;
  std::ostringstream log_out_;
  Logging logging_{LogLevel::info, std::make_shared<SecretRegistry>(), log_out_};
  std::unique_ptr<net::HttpClient> http_;
  std::shared_ptr<collectors::PollBudget> budget_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<collectors::CollectorScheduler> scheduler_;
  std::size_t ingest_calls_ = 0;
  bool fail_ingest_ = false;
};

}  // namespace vigie::testing
