// Actions end to end in-process: the real engine, store and chat commands on a FakeClock, the real
// job bus (inproc) with two workers each running an ActionRunner with the real exec kind. A button
// on an alert → approval by another person → the action runs on a worker → its output in the
// alert's thread → the alert resolved by a rule on action.finished; then the guardrails hold
// whichever worker is free: one run at a time per target, and the cooldown after it.
#include <catch2/catch.hpp>

#include "action_loop_harness.h"
#include "vigie/actions/slack_message.h"

using namespace vigie;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const char* kRules = R"(
[[rule]]
name = "app-down"
when = 'kind == "health" and up == false'
group_by = ["app"]
summary = "{{app}} is down"
offer = ["restart-app"]
resolve_when = 'kind == "action.finished" and action == "restart-app" and status == "ok"'

[[action]]
name = "restart-app"
type = "exec"
argv = ["/bin/sh", "-c", "echo restarting \"$1\"", "restart", "{{app}}"]
allow = ["oncall"]
approvals = 1
cooldown = "10m"
params = { app = "regex:[a-z][a-z0-9-]*" }
)";

const std::string kAlice = "U0ALICE";
const std::string kBob = "U0BOB";

class NoHttp : public net::HttpClient {
 public:
  tl::expected<net::ClientResponse, net::ClientError> send(const net::ClientRequest&) override {
    return tl::unexpected(net::ClientError{net::ClientErrorKind::connect, "no network in this test"});
  }
};

// Two workers running exec, no providers, no network.
struct Harness : vigie::testing::ActionLoopHarness {
  Harness()
      : ActionLoopHarness({kRules, "inproc://actions-jobs", {kAlice, kBob}, {"w1", "w2"}},
                          [](Logging&) { return std::make_unique<NoHttp>(); },
                          [](net::HttpClient&, Clock&, Logging&) { return actions::Providers{}; }) {}
};

}  // namespace

TEST_CASE("button, approval, restart on a worker, output in the thread, alert resolved by action.finished") {
  Harness h;
  bus::Event down;
  down.source = "test";
  down.kind = "health";
  down.attrs = {{"app", "shop-api"}, {"up", false}};
  h.event(down);
  auto open = *h.store->open_alerts();
  REQUIRE(open.size() == 1);
  const std::int64_t alert = open[0].id;
  REQUIRE(h.store->set_slack_message({alert, "C0OPS", "1700000000.000200", false}));

  h.click(kAlice, std::string(actions::slack::kActionRunPrefix) + "restart-app", std::to_string(alert));
  CHECK(h.of_kind("action").empty());
  const std::string req = h.request_id();
  REQUIRE_FALSE(req.empty());
  h.click(kBob, std::string(chat::kActionApprove), req);
  REQUIRE(h.of_kind("action").size() == 1);

  const std::string job = h.of_kind("action")[0].id;
  REQUIRE(h.run_until([&] { return h.store->open_alerts()->empty(); }));
  // The output went to the alert's thread.
  bool in_thread = false;
  for (const auto& r : h.of_kind("reply")) {
    const std::string text = r.payload.value("text", "");
    if (text.find("`restart-app` app=shop-api finished") != std::string::npos &&
        text.find("restarting shop-api") != std::string::npos) {
      in_thread = r.payload.value("thread_ts", "") == "1700000000.000200";
    }
  }
  CHECK(in_thread);
  auto finished = h.store->find_event("action.finished:" + job);
  REQUIRE(finished);
  REQUIRE(finished->has_value());
  CHECK((*finished)->attrs["exit_code"] == 0);
  CHECK((*finished)->attrs["output"] == "restarting shop-api\n");
  auto resolved = h.store->find_alert(alert);
  CHECK((*resolved)->state == "resolved");

  // Within the cooldown, a second run is refused though both workers are idle, saying who and when.
  h.clock.advance(2min);
  const std::string again = h.say(kAlice, "run restart-app app=shop-api");
  CHECK(again.find("ran 2m ago by <@U0ALICE> (it succeeded); cooldown 10m") != std::string::npos);
  CHECK(h.of_kind("action").size() == 1);
}

TEST_CASE("one run at a time per target holds with two free workers") {
  Harness h;
  h.say(kAlice, "run restart-app app=billing");
  const std::string req = h.request_id();
  h.click(kBob, std::string(chat::kActionApprove), req);
  REQUIRE(h.of_kind("action").size() == 1);
  // Not finished yet (its result not read back): another request for the same target is refused.
  const std::string refused = h.say(kBob, "run restart-app app=billing");
  CHECK(refused.find("`restart-app` app=billing is already running (started 0s ago by <@U0ALICE>)") !=
        std::string::npos);
  // Another target is free to go.
  h.say(kBob, "run restart-app app=shop-api");
  h.click(kAlice, std::string(chat::kActionApprove), h.request_id());
  REQUIRE(h.of_kind("action").size() == 2);
  REQUIRE(h.run_until([&] { return h.store->action_runs("restart-app", "app=billing", h.clock.system_now() - 1h)
                                        ->front().state == "ok"; }));
  REQUIRE(h.run_until([&] { return h.store->action_runs("restart-app", "app=shop-api", h.clock.system_now() - 1h)
                                        ->front().state == "ok"; }));
}
