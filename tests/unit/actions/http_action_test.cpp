// type = "http" through a recording HttpClient: the rendered request as sent, secret headers read
// on the worker and masked in the dry-run description, expected statuses, and Retry on 429/503.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <sstream>

#include "vigie/actions/action.h"

using namespace vigie;
using namespace vigie::actions;
using nlohmann::json;

namespace {

class Recording : public net::HttpClient {
 public:
  tl::expected<net::ClientResponse, net::ClientError> send(const net::ClientRequest& r) override {
    sent.push_back(r);
    net::ClientResponse resp;
    resp.status = status;
    resp.body = "{\"id\":\"d-1\"}";
    if (!retry_after.empty()) resp.headers["Retry-After"] = retry_after;
    return resp;
  }
  std::vector<net::ClientRequest> sent;
  int status = 202;
  std::string retry_after;
};

struct Fixture {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  FakeClock clock;
  Recording http;
  Providers providers;

  tl::expected<std::unique_ptr<Action>, std::string> build(json options) {
    ActionRequest r;
    r.name = "deploy-hook";
    r.type = "http";
    r.options = ActionOptions(std::move(options));
    ActionContext ctx{providers, http, clock, logging.secrets(), logging.logger("t")};
    return action_factory("http")(r, ctx);
  }
  StepResult run(Action& a) { return a.run(RunContext{clock, clock.steady_now() + Duration{10'000}, 1, nullptr}); }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "http sends the rendered request with its secret headers and masks them in the description") {
  ::setenv("VIGIE_TEST_HOOK_TOKEN", "tok-123456", 1);
  auto a = build({{"method", "POST"},
                  {"url", "https://ci.example/hooks/shop%20api?x=1"},
                  {"headers", {{"X-App", "shop-api"}}},
                  {"secret_headers", {{"X-Token", "env:VIGIE_TEST_HOOK_TOKEN"}}},
                  {"body", R"({"app": "shop-api\n"})"},
                  {"expect_status", {"202"}}});
  REQUIRE(a);
  auto r = run(**a);
  REQUIRE(std::holds_alternative<Ok>(r));
  CHECK(std::get<Ok>(r).details["status"] == 202);
  REQUIRE(http.sent.size() == 1);
  CHECK(http.sent[0].url.target == "/hooks/shop%20api?x=1");
  CHECK(http.sent[0].headers.at("X-Token") == "tok-123456");
  CHECK(http.sent[0].headers.at("Content-Type") == "application/json");
  const std::string d = (*a)->describe();
  CHECK(d.find("X-Token: (secret)") != std::string::npos);
  CHECK(d.find("tok-123456") == std::string::npos);
  CHECK(logging.secrets().redact("tok-123456") != "tok-123456");
}

TEST_CASE_METHOD(Fixture, "http retries when the upstream says not now and fails on an unexpected status") {
  auto a = build({{"url", "https://ci.example/hook"}});
  REQUIRE(a);
  http.status = 503;
  http.retry_after = "7";
  auto r = run(**a);
  REQUIRE(std::holds_alternative<Retry>(r));
  CHECK(std::get<Retry>(r).after == Duration{7'000});
  http.status = 404;
  http.retry_after.clear();
  r = run(**a);
  REQUIRE(std::holds_alternative<Fail>(r));
  CHECK(std::get<Fail>(r).reason == "POST ci.example/hook answered 404");
}

TEST_CASE_METHOD(Fixture, "http refuses a body that is not JSON, a missing secret and a non-http URL") {
  auto body = build({{"url", "https://x.example/"}, {"body", "{nope"}});
  REQUIRE(!body);
  CHECK(body.error() == "'body' is not JSON after rendering");
  ::unsetenv("VIGIE_TEST_UNSET_TOKEN");
  auto secret = build({{"url", "https://x.example/"}, {"auth", {{"env", "VIGIE_TEST_UNSET_TOKEN"}}}});
  REQUIRE(!secret);
  CHECK(secret.error().find("VIGIE_TEST_UNSET_TOKEN") != std::string::npos);
  auto url = build({{"url", "ftp://x.example/"}});
  REQUIRE(!url);
}
