// A provider preset end to end in-process: the real engine, store and chat commands on a FakeClock,
// the real job bus (inproc) and a worker running an ActionRunner whose providers are built from a
// [providers.heroku] table, against the fake Heroku over real HTTP. A button on an alert →
// approval by another person → heroku.restart on the worker → its output in the alert's thread →
// the alert resolved by a rule on action.finished. Modelled on actions_test.cpp (exec).
#include <catch2/catch.hpp>

#include <cstdlib>

#include "action_loop_harness.h"
#include "fake_heroku.h"
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
type = "heroku.restart"
app = "{{app}}"
allow = ["oncall"]
approvals = 1
cooldown = "10m"
params = { app = "regex:[a-z][a-z0-9-]*" }
)";

const std::string kAlice = "U0ALICE";
const std::string kBob = "U0BOB";

// The fake Heroku exists before the harness builds the worker's providers from it.
struct HerokuUpstream {
  vigie::testing::FakeHeroku heroku{"hk-integration-token"};
};

// One worker whose providers come from a [providers.heroku] table, as the daemon builds them,
// sending real HTTP to the fake Heroku.
struct Harness : HerokuUpstream, vigie::testing::ActionLoopHarness {
  Harness()
      : ActionLoopHarness(
            {kRules, "inproc://providers-jobs", {kAlice, kBob}},
            [](Logging& logging) { return net::make_http_client({}, logging.logger("http")); },
            [this](net::HttpClient& http, Clock& clock, Logging& logging) {
              heroku.add_app("shop-api", {"web.1", "web.2"});
              ::setenv("VIGIE_IT_HEROKU_TOKEN", "hk-integration-token", 1);
              actions::ProviderSpec spec;
              spec.name = "heroku";
              spec.type = "heroku";
              spec.options.set("base_url", heroku.base_url(), {});
              spec.options.set("token", config::SecretRef{"VIGIE_IT_HEROKU_TOKEN", "", {}}, {});
              actions::ProviderContext pctx{http, clock, logging.secrets(), logging.logger("providers")};
              auto providers = actions::build_providers({spec}, pctx);
              REQUIRE(providers);
              return std::move(*providers);
            }) {}
};

}  // namespace

TEST_CASE(
    "button, approval, heroku.restart against the fake Heroku, output in the thread, alert "
    "resolved") {
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

  h.click(kAlice, std::string(actions::slack::kActionRunPrefix) + "restart-app",
          std::to_string(alert));
  CHECK(h.of_kind("action").empty());
  CHECK(h.heroku.requests().empty());  // nothing before the approval
  const std::string req = h.request_id();
  REQUIRE_FALSE(req.empty());
  h.click(kBob, std::string(chat::kActionApprove), req);
  REQUIRE(h.of_kind("action").size() == 1);

  const std::string job = h.of_kind("action")[0].id;
  REQUIRE(h.run_until([&] { return h.store->open_alerts()->empty(); }));
  // Heroku got the documented request, once.
  const auto reqs = h.heroku.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "DELETE");
  CHECK(reqs[0].path == "/apps/shop-api/dynos");
  CHECK(reqs[0].header("Accept") == "application/vnd.heroku+json; version=3");
  CHECK(reqs[0].header("Authorization") == "Bearer hk-integration-token");
  CHECK(h.heroku.restarts() == std::vector<std::string>{"shop-api/*"});
  // The output went to the alert's thread, without the token.
  bool in_thread = false;
  for (const auto& r : h.of_kind("reply")) {
    const std::string text = r.payload.value("text", "");
    CHECK(text.find("hk-integration-token") == std::string::npos);
    if (text.find("`restart-app` app=shop-api finished") != std::string::npos &&
        text.find("Restarted all dynos of shop-api") != std::string::npos) {
      in_thread = r.payload.value("thread_ts", "") == "1700000000.000200";
    }
  }
  CHECK(in_thread);
  auto finished = h.store->find_event("action.finished:" + job);
  REQUIRE(finished);
  REQUIRE(finished->has_value());
  CHECK((*finished)->attrs["status"] == "ok");
  auto resolved = h.store->find_alert(alert);
  CHECK((*resolved)->state == "resolved");
}

TEST_CASE(
    "a Heroku error fails the run with the provider's reason in the thread, and the alert stays "
    "open") {
  Harness h;
  bus::Event down;
  down.source = "test";
  down.kind = "health";
  down.attrs = {{"app", "billing"}, {"up", false}};  // no such app on the fake
  h.event(down);
  const std::int64_t alert = (*h.store->open_alerts())[0].id;
  REQUIRE(h.store->set_slack_message({alert, "C0OPS", "1700000000.000300", false}));
  h.click(kAlice, std::string(actions::slack::kActionRunPrefix) + "restart-app",
          std::to_string(alert));
  h.click(kBob, std::string(chat::kActionApprove), h.request_id());
  REQUIRE(h.of_kind("action").size() == 1);
  const std::string job = h.of_kind("action")[0].id;
  REQUIRE(h.run_until([&] {
    auto e = h.store->find_event("action.finished:" + job);
    return e && e->has_value();
  }));
  auto finished = *h.store->find_event("action.finished:" + job);
  CHECK((*finished).attrs["status"] != "ok");
  bool explained = false;
  REQUIRE(h.run_until([&] {
    for (const auto& r : h.of_kind("reply")) {
      if (r.payload.value("text", "").find("Couldn't find that app.") != std::string::npos)
        explained = true;
    }
    return explained;
  }));
  CHECK(h.store->open_alerts()->size() == 1);
}
