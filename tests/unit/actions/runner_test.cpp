// The worker's ActionRunner with fake action kinds on a FakeClock (no thread, pump() by hand):
// a Pending action is resumed with its state after its wait (DigitalOcean-style polling) without
// sleeping, Retry is retried with backoff up to the attempts, the overall timeout ends a run that
// keeps waiting, a dry run builds and describes but never runs, and bad jobs fail with a reason.
#include <catch2/catch.hpp>

#include <future>
#include <sstream>

#include "vigie/actions/runner.h"

using namespace vigie;
using namespace vigie::actions;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

class NoHttp : public net::HttpClient {
 public:
  tl::expected<net::ClientResponse, net::ClientError> send(const net::ClientRequest&) override {
    return tl::unexpected(net::ClientError{net::ClientErrorKind::connect, "no network in this test"});
  }
};

// A reboot that is "in progress" for `polls` polls, each `poll_ms` apart, then completes.
struct Script {
  int polls = 0;
  int retries = 0;  // Retry this many times first
  int runs = 0;
  std::vector<json> states_seen;
};

class FakeAction : public Action {
 public:
  FakeAction(Script& s, std::int64_t poll_ms) : s_(s), poll_ms_(poll_ms) {}
  StepResult run(const RunContext& ctx) override {
    ++s_.runs;
    s_.states_seen.push_back(ctx.state ? *ctx.state : json(nullptr));
    if (s_.retries > 0) {
      --s_.retries;
      return Retry{Duration{0}, "upstream 502"};
    }
    const int done = ctx.state ? ctx.state->value("polled", 0) : 0;
    if (done < s_.polls) return Pending{Duration{poll_ms_}, {{"polled", done + 1}, {"action_id", 42}}, "in-progress"};
    return Ok{"rebooted after " + std::to_string(done) + " polls", {{"action_id", 42}}};
  }
  std::string describe() const override { return "POST /v2/droplets/7/actions {\"type\":\"reboot\"}"; }

 private:
  Script& s_;
  std::int64_t poll_ms_;
};

struct Fixture {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  FakeClock clock;
  NoHttp http;
  Script script;
  std::unique_ptr<ActionRunner> runner;
  std::vector<bus::JobResult> results;

  explicit Fixture(RunnerOptions o = {0, 3, Duration{2'000}, 65'536}) {
    runner = std::make_unique<ActionRunner>(
        Providers{}, http, logging.secrets(), clock, logging.logger("t"), o, [this](std::string_view type) -> ActionFactory {
          if (type != "fake.reboot") return nullptr;
          return [this](const ActionRequest& r, ActionContext&) -> tl::expected<std::unique_ptr<Action>, std::string> {
            if (r.options.string("droplet_id").empty()) return tl::unexpected(std::string("'droplet_id' is empty"));
            return std::make_unique<FakeAction>(script, r.options.integer("poll_ms", 5000));
          };
        });
  }

  void submit(json payload, std::string id = "action:req-1") {
    runner->submit(bus::Job{id, "action", std::move(payload), 1, Duration{60'000}},
                   [this](bus::JobResult r) { results.push_back(std::move(r)); });
  }

  static json payload(std::int64_t timeout_ms = 60'000, bool dry_run = false) {
    return {{"action", "reboot-droplet"}, {"type", "fake.reboot"}, {"options", {{"droplet_id", "7"}}},
            {"params", {{"droplet", "7"}}}, {"timeout_ms", timeout_ms}, {"dry_run", dry_run}};
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "a pending action is resumed with its state on the injected clock until it completes") {
  script.polls = 3;
  submit(payload());
  auto next = runner->pump();
  CHECK(script.runs == 1);
  REQUIRE(next);
  CHECK(*next == clock.steady_now() + 5s);
  CHECK(results.empty());
  clock.advance(4'999ms);
  runner->pump();
  CHECK(script.runs == 1);  // not due yet: nothing slept, nothing ran early
  for (int i = 0; i < 3; ++i) {
    clock.advance(5s);
    runner->pump();
  }
  REQUIRE(results.size() == 1);
  CHECK(results[0].outcome == bus::JobOutcome::ok);
  CHECK(results[0].output["output"] == "rebooted after 3 polls");
  CHECK(results[0].output["steps"] == 4);
  CHECK(script.states_seen[0].is_null());
  CHECK(script.states_seen[3] == json{{"polled", 3}, {"action_id", 42}});
  CHECK(runner->pending() == 0);
}

TEST_CASE_METHOD(Fixture, "a Retry runs the step again after a doubling backoff, then gives up") {
  script.retries = 1;
  submit(payload());
  runner->pump();
  clock.advance(2s);
  runner->pump();
  REQUIRE(results.size() == 1);
  CHECK(results[0].outcome == bus::JobOutcome::ok);
  CHECK(results[0].output["attempts"] == 2);
  CHECK(script.states_seen[1].is_null());  // a retry starts from scratch

  results.clear();
  script = {};
  script.retries = 10;
  submit(payload(), "action:req-2");
  runner->pump();
  clock.advance(2s);
  runner->pump();
  clock.advance(4s);
  runner->pump();
  REQUIRE(results.size() == 1);
  CHECK(results[0].outcome == bus::JobOutcome::fail);
  CHECK(results[0].reason == "gave up after 3 attempts: upstream 502");
  CHECK(script.runs == 3);
}

TEST_CASE_METHOD(Fixture, "the overall timeout ends a run that keeps waiting") {
  script.polls = 100;
  submit(payload(12'000));
  runner->pump();
  clock.advance(5s);
  runner->pump();
  REQUIRE(results.empty());
  clock.advance(5s);
  runner->pump();  // the next poll would be after the deadline
  REQUIRE(results.size() == 1);
  CHECK(results[0].outcome == bus::JobOutcome::fail);
  CHECK(results[0].reason == "timed out after 12s (last: in-progress)");
}

TEST_CASE_METHOD(Fixture, "a dry run builds and describes the action but runs nothing") {
  submit(payload(60'000, true));
  REQUIRE(results.size() == 1);
  CHECK(results[0].outcome == bus::JobOutcome::ok);
  CHECK(results[0].output["dry_run"] == true);
  CHECK(results[0].output["output"].get<std::string>().find("POST /v2/droplets/7/actions") != std::string::npos);
  runner->pump();
  CHECK(script.runs == 0);
}

TEST_CASE_METHOD(Fixture, "bad jobs fail at once with a reason a person can act on") {
  submit({{"action", "x"}, {"type", "nope"}, {"options", json::object()}}, "a1");
  submit({{"action", "x"}, {"type", "fake.reboot"}}, "a2");
  submit({{"action", "x"}, {"type", "fake.reboot"}, {"options", {{"droplet_id", ""}}}}, "a3");
  submit(json::array(), "a4");
  REQUIRE(results.size() == 4);
  for (const auto& r : results) CHECK(r.outcome == bus::JobOutcome::fail);
  CHECK(results[0].reason == "this worker cannot run actions of type 'nope' (not implemented in this build)");
  CHECK(results[1].reason.find("no 'options'") != std::string::npos);
  CHECK(results[2].reason == "`x` cannot run: 'droplet_id' is empty");
  CHECK(results[3].reason == "the job's payload is not an object");
}

TEST_CASE("the runner's own threads complete jobs without pump() by hand") {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  FakeClock clock;
  NoHttp http;
  Script script;
  ActionRunner runner(Providers{}, http, logging.secrets(), clock, logging.logger("t"), RunnerOptions{2},
                      [&](std::string_view) -> ActionFactory {
                        return [&](const ActionRequest&, ActionContext&) -> tl::expected<std::unique_ptr<Action>, std::string> {
                          return std::make_unique<FakeAction>(script, 1000);
                        };
                      });
  runner.start();
  std::promise<bus::JobResult> got;
  runner.submit(bus::Job{"j", "action", Fixture::payload(), 1, Duration{60'000}},
                [&](bus::JobResult r) { got.set_value(std::move(r)); });
  auto f = got.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(f.get().outcome == bus::JobOutcome::ok);
  runner.stop();
}
