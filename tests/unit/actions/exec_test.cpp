// type = "exec" against real child processes: hostile parameters stay one literal argv element,
// the environment is cleared but for the allow-list, the working directory is fixed, stdin is
// closed, output is capped, a sleeping child (and its group) is killed at the timeout, and the
// exit code comes back. The one real-time wait allowed: the timeout test, bounded under 2 s.
#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <sstream>

#include "vigie/actions/action.h"
#include "vigie/actions/kinds.h"

using namespace vigie;
using namespace vigie::actions;
using nlohmann::json;

namespace {

class NoHttp : public net::HttpClient {
 public:
  tl::expected<net::ClientResponse, net::ClientError> send(const net::ClientRequest&) override {
    return tl::unexpected(net::ClientError{net::ClientErrorKind::connect, "no network in this test"});
  }
};

struct Fixture {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  FakeClock clock;
  NoHttp http;
  Providers providers;

  tl::expected<std::unique_ptr<Action>, std::string> build(json options) {
    ActionRequest r;
    r.job_id = "job-1";
    r.name = "t";
    r.type = "exec";
    r.options = ActionOptions(std::move(options));
    ActionContext ctx{providers, http, clock, logging.secrets(), logging.logger("t")};
    return action_factory("exec")(r, ctx);
  }

  StepResult run(Action& a, Duration timeout = Duration{10'000}) {
    RunContext ctx{clock, clock.steady_now() + timeout, 1, nullptr};
    return a.run(ctx);
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "exec passes a hostile parameter as one literal argv element, never through a shell") {
  // What the engine renders from {{app}}: each hostile value is one element.
  for (const std::string hostile : {"; rm -rf /", "$(touch /tmp/vigie-pwned)", "a\nb", "`id`", "x' \"y", "*"}) {
    auto a = build({{"argv", {"/usr/bin/printf", "[%s]", hostile}}});
    REQUIRE(a);
    auto r = run(**a);
    REQUIRE(std::holds_alternative<Ok>(r));
    CHECK(std::get<Ok>(r).output == "[" + hostile + "]");
    CHECK(std::get<Ok>(r).details["exit_code"] == 0);
  }
}

TEST_CASE_METHOD(Fixture, "exec clears the environment but for the allow-list, fixes the workdir and closes stdin") {
  ::setenv("VIGIE_TEST_KEPT", "kept", 1);
  ::setenv("VIGIE_TEST_SECRET", "should-not-leak", 1);
  auto a = build({{"argv", {"/bin/sh", "-c", "env; pwd; cat; echo read=$?"}},
                  {"env", {"VIGIE_TEST_KEPT"}},
                  {"workdir", "/tmp"}});
  REQUIRE(a);
  auto r = run(**a);
  REQUIRE(std::holds_alternative<Ok>(r));
  const std::string out = std::get<Ok>(r).output;
  CHECK(out.find("VIGIE_TEST_KEPT=kept") != std::string::npos);
  CHECK(out.find("should-not-leak") == std::string::npos);
  CHECK(out.find("HOME=") == std::string::npos);
  CHECK(out.find("/tmp\n") != std::string::npos);
  CHECK(out.find("read=0") != std::string::npos);  // cat saw end of input at once
}

TEST_CASE_METHOD(Fixture, "exec reports the exit code and captures stderr with stdout") {
  auto a = build({{"argv", {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}}});
  REQUIRE(a);
  auto r = run(**a);
  REQUIRE(std::holds_alternative<Fail>(r));
  const auto& f = std::get<Fail>(r);
  CHECK(f.details["exit_code"] == 3);
  CHECK(f.reason == "/bin/sh exited with status 3");
  CHECK(f.output.find("out") != std::string::npos);
  CHECK(f.output.find("err") != std::string::npos);
}

TEST_CASE_METHOD(Fixture, "exec caps the output and says how much was cut") {
  auto a = build({{"argv", {"/bin/sh", "-c", "/usr/bin/yes xxxxxxx | /usr/bin/head -c 200000"}}, {"max_output", 1024}});
  REQUIRE(a);
  auto r = run(**a);
  REQUIRE(std::holds_alternative<Ok>(r));
  const auto& ok = std::get<Ok>(r);
  CHECK(ok.output.rfind("xxxxxxx\nxxxxxxx\n", 0) == 0);
  CHECK(ok.output.find("\n… (198976 more bytes") == 1024);
  CHECK(ok.output.find("198976 more bytes not kept") != std::string::npos);
  CHECK(ok.details["truncated"] == true);
}

TEST_CASE_METHOD(Fixture, "exec kills a sleeping child and its process group at the timeout") {
  // The shell starts a background sleep too: the whole group goes.
  auto a = build({{"argv", {"/bin/sh", "-c", "/bin/sleep 30 & echo started; /bin/sleep 30"}}});
  REQUIRE(a);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run(**a, Duration{300});
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took < std::chrono::seconds(2));
  REQUIRE(std::holds_alternative<Fail>(r));
  const auto& f = std::get<Fail>(r);
  CHECK(f.reason.find("timed out after 300ms") != std::string::npos);
  CHECK(f.details["timed_out"] == true);
  CHECK(f.output.find("started") != std::string::npos);
}

TEST_CASE_METHOD(Fixture, "exec refuses what it cannot run safely, with a clear reason") {
  auto relative = build({{"argv", {"sleep", "1"}}});
  REQUIRE(!relative);
  CHECK(relative.error().find("absolute path") != std::string::npos);
  auto empty = build({{"argv", json::array()}});
  REQUIRE(!empty);
  auto bad_env = build({{"argv", {"/bin/true"}}, {"env", {"A=B"}}});
  REQUIRE(!bad_env);
  CHECK(bad_env.error().find("not a variable name") != std::string::npos);
  auto missing = build({{"argv", {"/nonexistent/program"}}});
  REQUIRE(missing);
  auto r = run(**missing);
  REQUIRE(std::holds_alternative<Fail>(r));
  CHECK(std::get<Fail>(r).reason.find("cannot run /nonexistent/program: execve") != std::string::npos);
  auto bad_dir = build({{"argv", {"/bin/true"}}, {"workdir", "/nonexistent-dir"}});
  REQUIRE(bad_dir);
  auto r2 = run(**bad_dir);
  REQUIRE(std::holds_alternative<Fail>(r2));
  CHECK(std::get<Fail>(r2).reason.find("chdir /nonexistent-dir") != std::string::npos);
}

TEST_CASE_METHOD(Fixture, "exec describes the exact argv for a dry run") {
  auto a = build({{"argv", {"/usr/local/bin/deploy", "shop-api; rm -rf /"}}, {"env", {"PATH"}}});
  REQUIRE(a);
  CHECK((*a)->describe().find(R"(["/usr/local/bin/deploy","shop-api; rm -rf /"])") != std::string::npos);
}
