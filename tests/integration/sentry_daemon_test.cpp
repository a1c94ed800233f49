// End to end with the real `vigie run`: [collectors.sentry] polls the fake Sentry, a rule on
// `sentry.issue` fires when an issue's count grows and posts one Slack message on the fake Slack;
// the issue resolved in the fake Sentry resolves the alert (resolve_when) and edits the message.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fake_sentry.h"
#include "fake_slack.h"
#include "http_client.h"
#include "process.h"

using namespace vigie::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string kBinary = VIGIE_BINARY;
const std::string kBotToken = "xoxb-sentry-e2e-token";
const std::string kSentryToken = "sntrys-e2e-token-31415";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string now_rfc3339() {
  return vigie::format_rfc3339(
      vigie::from_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count()));
}

}  // namespace

TEST_CASE(
    "vigie run: a Sentry issue's count grows, one Slack message, resolved in Sentry, the message "
    "updates") {
  FakeSlack slack(kBotToken);
  FakeSentry sentry(kSentryToken);
  sentry.add_issue(
      {{"id", "4021"}, {"title", "KeyError: cart"}, {"count", "5"}, {"lastSeen", now_rfc3339()}},
      "shop-api");

  const auto dir =
      std::filesystem::temp_directory_path() / ("vigie-sentry-e2e-" + std::to_string(::getpid()));
  const std::string head = slack_daemon_setup(dir, slack.base_url(), kBotToken, "sentry-e2e-signing-secret");
  std::ofstream(dir / "sentry-token") << kSentryToken << "\n";
  std::ofstream(dir / "vigie.toml")
      << head
      << "[collectors.sentry]\ntype = \"sentry\"\nbase_url = \""
      << sentry.base_url()
      << "\"\norganization = \"acme\"\nprojects = [\"shop-api\"]\n"
         "token_file = \"sentry-token\"\ninterval = \"1s\"\n";
  std::ofstream(dir / "rules" / "sentry.toml")
      << "[[rule]]\nname = \"sentry-issue-growing\"\n"
         "when = 'kind == \"sentry.issue\" and change == \"count\" and project == \"shop-api\"'\n"
         "group_by = [\"issue_id\"]\nseverity = \"warning\"\n"
         "summary = \"{{short_id}} {{title}} grew by {{delta}}\"\n"
         "resolve_when = 'kind == \"sentry.issue\" and status == \"resolved\"'\n";

  auto vigie = std::make_unique<Child>(
      std::vector<std::string>{kBinary, "run", "-c", (dir / "vigie.toml").string()},
      (dir / "out.log").string(), (dir / "err.log").string());
  REQUIRE_FALSE(
      wait_for_line((dir / "out.log").string(), "listening on http://127.0.0.1:", 20000).empty());
  // The second listing starts only once the first one's events and cursor are committed.
  REQUIRE(sentry.wait_for_list_requests(2, 20s));
  CHECK(slack.count("chat.postMessage") == 0);  // a new issue alone matches no rule

  sentry.add_events("4021", 3, now_rfc3339());
  auto post = slack.wait_for_request(
      [](const FakeSlack::Request& r) { return r.method == "chat.postMessage" && r.status == 200; },
      20s);
  REQUIRE(post);
  CHECK(post->args["channel"] == "C0OPS");
  CHECK(post->args["text"].get<std::string>().find("SHOP-API-4021 KeyError: cart grew by 3") !=
        std::string::npos);
  const auto messages = slack.messages();
  REQUIRE(messages.size() == 1);
  const std::string ts = messages[0].ts;

  // Resolved in Sentry (the PUT its UI sends); the next poll looks the issue up and reports it.
  HttpClient http(sentry.port());
  REQUIRE(http.request("PUT", "/api/0/organizations/acme/issues/4021/", R"({"status":"resolved"})",
                       {{"Authorization", "Bearer " + kSentryToken},
                        {"Content-Type", "application/json"}})
              .status == 200);
  auto update = slack.wait_for_request(
      [&](const FakeSlack::Request& r) {
        return r.method == "chat.update" && r.args.value("ts", "") == ts &&
               r.args.dump().find("Resolved") != std::string::npos;
      },
      20s);
  REQUIRE(update);
  CHECK(slack.count("chat.postMessage") == 1);

  vigie->signal(SIGTERM);
  CHECK(vigie->wait(15000) == 0);
  const std::string output = slurp(dir / "out.log") + slurp(dir / "err.log");
  CHECK(output.find(kSentryToken) == std::string::npos);
  CHECK(output.find(kBotToken) == std::string::npos);
  std::filesystem::remove_all(dir);
}
