// The chat command `logs` on the worker side: the `logs` job the engine queues, run by the real
// JobRunner against the fake Papertrail (with the collector's search code), its lines posted to
// the fake Slack as the reply to the asker.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <future>
#include <sstream>

#include "collector_harness.h"
#include "fake_papertrail.h"
#include "fake_slack.h"
#include "job_handlers.h"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using vigie::testing::FakePapertrail;
using vigie::testing::FakeSlack;

constexpr const char* kToken = "pt-fake-token";
const vigie::TimePoint kEpoch = vigie::from_unix_ms(1'767'225'600'000);  // the fake's first line

struct WorkerRig {
  FakePapertrail papertrail{kToken};
  FakeSlack slack;
  std::ostringstream out;
  vigie::Logging logging{vigie::LogLevel::warn, std::make_shared<vigie::SecretRegistry>(), out};
  vigie::FakeClock clock;
  vigie::config::Config cfg;

  explicit WorkerRig(bool with_collector) {
    ::setenv("VIGIE_TEST_SLACK_TOKEN", "xoxb-fake-bot", 1);
    ::setenv("VIGIE_TEST_PAPERTRAIL_TOKEN", kToken, 1);
    cfg.slack.enabled = true;
    cfg.slack.base_url = slack.base_url();
    cfg.slack.default_channel = "#ops";
    cfg.slack.token = vigie::config::SecretRef{"VIGIE_TEST_SLACK_TOKEN", "", {}};
    if (with_collector) {
      auto options = vigie::testing::collector_options(
          "papertrail",
          "base_url = \"" + papertrail.base_url() +
              "\"\ntoken_env = \"VIGIE_TEST_PAPERTRAIL_TOKEN\"\nquery = \"not used by logs\"\n");
      cfg.collectors.push_back({"papertrail", "papertrail", options, {}});
    }
  }

  // Runs one `logs` job as the engine would queue it for `query`; @return its result.
  vigie::bus::JobResult run(const std::string& query) {
    vigie::config::Diagnostics d;
    auto runner = vigie::app::JobRunner::create(cfg, logging, clock, d);
    INFO(d.render_text());
    REQUIRE(runner);
    vigie::bus::Job job;
    job.id = "logs:slack:cmd1:1";
    job.kind = "logs";
    job.payload = {{"query", query},
                   {"since", "1h"},
                   {"min_time_ms", vigie::to_unix_ms(kEpoch - 1h)},
                   {"max_time_ms", vigie::to_unix_ms(kEpoch + 1h)},
                   {"limit", 100},
                   {"max_lines", 2},
                   {"reply_to",
                    {{"user", "U0EVE"}, {"channel", "C0OPS"}, {"thread_ts", "1767225600.000100"}}}};
    auto promise = std::make_shared<std::promise<vigie::bus::JobResult>>();
    runner->handler()(job,
                      [promise](vigie::bus::JobResult r) { promise->set_value(std::move(r)); });
    auto result = promise->get_future();
    REQUIRE(result.wait_for(10s) == std::future_status::ready);
    auto r = result.get();
    runner->stop();
    return r;
  }

  std::string reply_text() {
    auto reqs = slack.requests();
    for (auto it = reqs.rbegin(); it != reqs.rend(); ++it) {
      if (it->method == "chat.postEphemeral") {
        CHECK(it->args.value("channel", "") == "C0OPS");
        CHECK(it->args.value("user", "") == "U0EVE");
        CHECK(it->args.value("thread_ts", "") == "1767225600.000100");
        return it->args.value("text", "");
      }
    }
    FAIL("no ephemeral reply");
    return "";
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE(
    "logs runs a bounded Papertrail search on the worker and replies to the asker with the newest "
    "lines",
    "[papertrail][logs]") {
  WorkerRig rig(true);
  rig.papertrail.add_lines(3, "checkout failed for cart");
  FakePapertrail::Line ping;
  ping.message = "checkout failed <!channel> ```x";
  rig.papertrail.add(ping);
  rig.papertrail.add_lines(2, "all good");

  const auto r = rig.run("checkout failed");
  CHECK(r.job_id == "logs:slack:cmd1:1");
  CHECK(r.outcome == vigie::bus::JobOutcome::ok);
  CHECK(r.output["lines"] == 4);

  auto reqs = rig.papertrail.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].headers.at("X-Papertrail-Token") == kToken);
  CHECK(reqs[0].param("q") == "checkout failed");  // the command's query, not the collector's
  CHECK(reqs[0].param("min_time") == std::to_string(vigie::to_unix_ms(kEpoch - 1h) / 1000));
  CHECK(reqs[0].param("max_time") == std::to_string(vigie::to_unix_ms(kEpoch + 1h) / 1000));
  CHECK(reqs[0].param("limit") == "100");

  const auto text = rig.reply_text();
  INFO(text);
  CHECK(contains(text, "*Logs matching `checkout failed`* — last 1h, 4 lines, newest first"));
  // Newest first, cut at max_lines with the count of what is left.
  CHECK(contains(text,
                 "2026-01-01T00:00:03Z web-1 app/web.1: checkout failed &lt;!channel&gt; '''x"));
  CHECK(contains(text, "2026-01-01T00:00:02Z web-1 app/web.1: checkout failed for cart 3"));
  CHECK_FALSE(contains(text, "for cart 1"));
  CHECK(contains(text, "… 2 more lines"));
  CHECK_FALSE(contains(text, "<!channel>"));
}

TEST_CASE(
    "logs says what is wrong when Papertrail fails or finds nothing, or no collector is configured",
    "[papertrail][logs]") {
  SECTION("no papertrail collector") {
    WorkerRig rig(false);
    const auto r = rig.run("error");
    CHECK(r.outcome == vigie::bus::JobOutcome::ok);  // the asker was told
    // Slack markup is escaped: <name> would be read as a link.
    CHECK(contains(rig.reply_text(),
                   "vigie.toml has none: add `[collectors.&lt;name&gt;] type = \"papertrail\"`"));
    CHECK(rig.papertrail.request_count() == 0);
  }
  SECTION("nothing matches") {
    WorkerRig rig(true);
    rig.papertrail.add_lines(2, "all good");
    rig.run("error");
    CHECK(contains(rig.reply_text(), "No log lines matching `error` in the last 1h."));
  }
  SECTION("Papertrail fails") {
    WorkerRig rig(true);
    rig.papertrail.fail_next(503);
    const auto r = rig.run("error");
    CHECK(r.output["search_ok"] == false);
    CHECK(contains(rig.reply_text(),
                   "The Papertrail search for `error` failed: papertrail: HTTP 503"));
  }
  SECTION("Papertrail rate limits") {
    WorkerRig rig(true);
    rig.papertrail.rate_limit(0, 9);
    rig.run("error");
    CHECK(contains(rig.reply_text(), "Papertrail is rate limiting searches; try again in 9s."));
  }
}
