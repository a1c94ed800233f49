// The real `vigie` binary: --version, and `vigie check` on valid, broken and unreadable configs,
// in text and JSON, with a planted secret that must appear nowhere in the output.
#include <catch2/catch.hpp>

#include <set>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "process.h"
#include "vigie/store/store.h"

using vigie::testing::run_process;

namespace {
const std::string kBinary = VIGIE_BINARY;
const std::string kExample = std::string(VIGIE_SOURCE_DIR) + "/examples/vigie.toml";
const std::string kBroken = std::string(VIGIE_FIXTURES) + "/config/broken.toml";
constexpr const char* kPlanted = "xoxb-PLANTED-SECRET-91c4e0";
}  // namespace

TEST_CASE("vigie --version prints the version and exits 0") {
  auto r = run_process({kBinary, "--version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("vigie ", 0) == 0);
}

TEST_CASE("vigie check exits 0 on the shipped example") {
  auto r = run_process({kBinary, "check", "-c", kExample});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("examples/vigie.toml: ok") != std::string::npos);
}

TEST_CASE("vigie check prints every error as file:line:col and exits 1") {
  auto r = run_process({kBinary, "check", "-c", kBroken});
  CHECK(r.exit_code == 1);
  for (const char* expected :
       {"broken.toml:2:9: error: 'rules' must be an array of glob strings, not string [wrong-type]",
        "broken.toml:6:1: error: unknown key 'lisen' in [server] [unknown-key]",
        "broken.toml:9:13: error: 'retention' is not a duration",
        "broken.toml:15:1: error: 'token' must not hold a secret inline",
        "broken.toml:22:8: error: unknown collector type 'sentri' [unknown-kind]",
        "broken.toml:36:2: error: unknown section 'alerting' [unknown-section]",
        "note: did you mean 'listen'?", "12 errors, 0 warnings"}) {
    INFO(expected);
    CHECK(r.err.find(expected) != std::string::npos);
  }
  // The snippet and caret follow each error.
  CHECK(r.err.find("  lisen = \"127.0.0.1:9090\"\n  ^\n") != std::string::npos);
}

TEST_CASE("vigie check --json prints the same diagnostics as one document") {
  auto r = run_process({kBinary, "check", "-c", kBroken, "--json"});
  CHECK(r.exit_code == 1);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["ok"] == false);
  CHECK(doc["errors"] == 12);
  REQUIRE(doc["diagnostics"].size() == 12);
  const auto& first = doc["diagnostics"][0];
  CHECK(first["line"] == 2);
  CHECK(first["column"] == 9);
  CHECK(first["severity"] == "error");
  CHECK(first["code"] == "wrong-type");
}

TEST_CASE("vigie check exits 2 when the file cannot be read, and on usage errors") {
  CHECK(run_process({kBinary, "check", "-c", "/nonexistent/vigie.toml"}).exit_code == 2);
  CHECK(run_process({kBinary, "check"}).exit_code == 2);
  CHECK(run_process({kBinary, "frobnicate"}).exit_code == 2);
}

TEST_CASE("a planted secret appears in no output of vigie check") {
  const auto dir = std::filesystem::temp_directory_path() / "vigie-cli-secret-test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "slack-token") << kPlanted << "\n";
    // Broken on purpose around the secrets, so error paths run too.
    std::ofstream(dir / "vigie.toml")
        << "[slack]\ntoken_file = \"slack-token\"\nsigning_secret_env = \"SIGNING\"\n"
           "default_channel = 5\n"
           "[collectors.s]\ntype = \"sentry\"\norganization = \"acme\"\ntoken_env = \"SENTRY\"\n"
           "tokn = \"x\"\n";
  }
  const std::map<std::string, std::string> env{{"SIGNING", kPlanted}, {"SENTRY", kPlanted}};
  for (bool json : {false, true}) {
    std::vector<std::string> argv{kBinary, "check", "-c", (dir / "vigie.toml").string()};
    if (json) argv.push_back("--json");
    auto r = run_process(argv, env);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("PLANTED") == std::string::npos);
    CHECK(r.err.find("PLANTED") == std::string::npos);
  }
  // With the mistakes fixed it passes, the secrets having been read.
  std::ofstream(dir / "vigie.toml")
      << "[slack]\ntoken_file = \"slack-token\"\nsigning_secret_env = \"SIGNING\"\n";
  auto ok = run_process({kBinary, "check", "-c", (dir / "vigie.toml").string(), "--werror"}, env);
  CHECK(ok.exit_code == 0);
  CHECK((ok.out + ok.err).find("PLANTED") == std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("vigie check with werror turns warnings into failure") {
  // The example names environment variables that are not set here: warnings.
  auto r = run_process({kBinary, "check", "-c", kExample, "--werror"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("[secret-unavailable]") != std::string::npos);
}

TEST_CASE("vigie check reports every rule-file mistake with its position, in text and JSON") {
  const std::string config = std::string(VIGIE_FIXTURES) + "/rules/broken-config/vigie.toml";
  auto text = run_process({kBinary, "check", "-c", config});
  CHECK(text.exit_code == 1);
  for (const char* expected :
       {"broken/a.toml:4:42: error: unknown operator '~=' [expr-operator]",
        "broken/a.toml:10:1: error: unknown key 'sevrity' in [[rule]] 'typo-key' [unknown-key]",
        "broken/b.toml:8:8: error: duplicate rule name 'burst' [duplicate-name]",
        "broken/c.toml:3:20: error: TOML syntax error", "13 errors, 2 warnings"}) {
    INFO(expected << "\n" << text.err);
    CHECK(text.err.find(expected) != std::string::npos);
  }
  auto json = run_process({kBinary, "check", "-c", config, "--json"});
  CHECK(json.exit_code == 1);
  auto doc = nlohmann::json::parse(json.out);
  CHECK(doc["errors"] == 13);
  CHECK(doc["warnings"] == 2);
  bool found = false;
  for (const auto& d : doc["diagnostics"]) {
    if (d["code"] == "expr-operator") {
      found = true;
      CHECK(d["line"] == 4);
      CHECK(d["column"] == 42);
      CHECK(d["severity"] == "error");
      CHECK(d["message"] == "unknown operator '~='");
    }
  }
  CHECK(found);
}

TEST_CASE("vigie check prints a summary line per rule file when valid") {
  auto r = run_process({kBinary, "check", "-c", kExample});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("rules/sentry.toml: 2 rules, 0 actions, 0 commands: ok") != std::string::npos);
  CHECK(r.out.find("rules/actions.toml: 1 rule, 5 actions, 2 commands: ok") != std::string::npos);
}

TEST_CASE("vigie test passes on the shipped example tests") {
  auto r = run_process({kBinary, "test", std::string(VIGIE_SOURCE_DIR) + "/examples/tests/sentry_test.toml",
                        std::string(VIGIE_SOURCE_DIR) + "/examples/tests/newrelic_test.toml"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("8 passed, 0 failed") != std::string::npos);
}

TEST_CASE("vigie test fails with the expectation's position and what it got") {
  const std::string file = std::string(VIGIE_FIXTURES) + "/rule-tests/failing_test.toml";
  auto r = run_process({kBinary, "test", file});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("failing_test.toml:11:1: FAIL \"expects an alert too early\": at 3m: expected alert "
                   "sentry-error-burst firing {\"project\":\"shop-api\"}, not found") != std::string::npos);
  CHECK(r.out.find("0 passed, 1 failed") != std::string::npos);
  auto json = run_process({kBinary, "test", file, "--json"});
  CHECK(json.exit_code == 1);
  auto doc = nlohmann::json::parse(json.out);
  CHECK(doc["failed"] == 1);
  CHECK(doc["ok"] == false);
  CHECK(run_process({kBinary, "test", "/nonexistent/test.toml"}).exit_code == 2);
}

TEST_CASE("vigie backtest replays stored events through candidate rules and prints a report") {
  const auto dir = std::filesystem::temp_directory_path() / "vigie-cli-backtest-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "candidate");
  std::ofstream(dir / "vigie.toml") << "[store]\npath = \"v.db\"\n";
  std::ofstream(dir / "candidate" / "r.toml")
      << "[[rule]]\nname = \"burst\"\nwhen = 'kind == \"sentry.issue\"'\n"
         "count = { at_least = 3, within = \"10m\" }\n";
  {
    auto store = vigie::store::Store::open((dir / "v.db").string());
    REQUIRE(store);
    std::vector<vigie::bus::Event> events;
    for (int i = 0; i < 5; ++i) {
      vigie::bus::Event e;
      e.id = "e" + std::to_string(i);
      e.source = "sentry";
      e.kind = "sentry.issue";
      e.time = e.received_at = *vigie::parse_rfc3339("2026-11-01T10:00:00Z") + std::chrono::minutes(i);
      events.push_back(e);
    }
    REQUIRE((*store)->insert_events(events));
  }
  const std::string config = (dir / "vigie.toml").string();
  auto r = run_process({kBinary, "backtest", "-c", config, "--rules", (dir / "candidate").string(),
                        "--from", "2026-11-01T00:00:00Z", "--to", "2026-11-02T00:00:00Z"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find(": 5 events") != std::string::npos);
  CHECK(r.out.find("| burst | 1 | 1 | 0 | 1 |") != std::string::npos);
  auto json = run_process({kBinary, "backtest", "-c", config, "--rules", (dir / "candidate").string(),
                           "--from", "2026-11-01T00:00:00Z", "--to", "2026-11-02T00:00:00Z", "--json"});
  CHECK(nlohmann::json::parse(json.out)["rules"]["burst"]["fired"] == 1);
  CHECK(run_process({kBinary, "backtest", "-c", config, "--from", "yesterday"}).exit_code == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("vigie kinds lists every collector, action and provider kind with its options, as text and JSON") {
  auto text = run_process({kBinary, "kinds"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("  sentry — ") != std::string::npos);
  CHECK(text.out.find("token_env / token_file (secret, required)") != std::string::npos);
  CHECK(text.out.find("  heroku.restart — ") != std::string::npos);
  CHECK(text.out.find("  digitalocean — ") != std::string::npos);
  auto json = run_process({kBinary, "kinds", "--json"});
  REQUIRE(json.exit_code == 0);
  auto doc = nlohmann::json::parse(json.out);
  std::set<std::string> collectors;
  for (const auto& k : doc["collectors"]) collectors.insert(k["type"].get<std::string>());
  CHECK(collectors == std::set<std::string>{"newrelic", "papertrail", "sentry"});
  bool found = false;
  for (const auto& k : doc["collectors"]) {
    if (k["type"] != "sentry") continue;
    for (const auto& o : k["options"]) {
      if (o["name"] == "endpoint") {
        found = true;
        CHECK(o["choices"] == nlohmann::json::array({"organization", "project"}));
        CHECK(o["default"] == "organization");
      }
    }
  }
  CHECK(found);
  CHECK(doc["actions"].size() >= 5);
  // Whether this build can run each kind: every collector, action and provider runs but slack.post,
  // which is validated in rule files only (the text listing says so too).
  for (const char* group : {"collectors", "actions", "providers"}) {
    for (const auto& k : doc[group]) {
      INFO(k["type"]);
      CHECK(k["runnable"] == (k["type"] != "slack.post"));
    }
  }
  CHECK(text.out.find("  slack.post — Post a message to a Slack channel (validated only: cannot run in this version)") !=
        std::string::npos);
}

TEST_CASE("vigie audit lists who did what, newest first, filtered by user and time, as text and JSON") {
  const auto dir = std::filesystem::temp_directory_path() / "vigie-cli-audit-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "vigie.toml") << "[store]\npath = \"v.db\"\n";
  {
    auto store = vigie::store::Store::open((dir / "v.db").string());
    REQUIRE(store);
    const auto t = *vigie::parse_rfc3339("2026-11-01T10:00:00Z");
    REQUIRE((*store)->append_audit({0, t, "U1ALICE", "C1", "run", 7, {{"action", "restart-shop-api"}}, "dispatched"}));
    REQUIRE((*store)->append_audit({0, t + std::chrono::minutes(1), "U2BOB", "C1", "approval", 7, {}, "approved"}));
    REQUIRE((*store)->append_audit({0, t + std::chrono::minutes(2), "U3EVE", "C1", "denial", 0,
                                    {{"text", "run reboot-db"}}, "denied: needs oncall"}));
  }
  const std::string config = (dir / "vigie.toml").string();
  auto all = run_process({kBinary, "audit", "-c", config});
  INFO(all.err);
  REQUIRE(all.exit_code == 0);
  // Newest first: Eve's denial, then Bob's approval, then Alice's run.
  const auto eve = all.out.find("U3EVE"), bob = all.out.find("U2BOB"), alice = all.out.find("U1ALICE");
  REQUIRE(eve != std::string::npos);
  REQUIRE(bob != std::string::npos);
  REQUIRE(alice != std::string::npos);
  CHECK(eve < bob);
  CHECK(bob < alice);
  CHECK(all.out.find("alert #7") != std::string::npos);
  CHECK(all.out.find("-> denied: needs oncall") != std::string::npos);

  auto bobs = run_process({kBinary, "audit", "-c", config, "--user", "U2BOB", "--json"});
  REQUIRE(bobs.exit_code == 0);
  auto rows = nlohmann::json::parse(bobs.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["action"] == "approval");
  CHECK(rows[0]["result"] == "approved");
  CHECK(rows[0]["time"] == "2026-11-01T10:01:00.000Z");

  auto recent = run_process({kBinary, "audit", "-c", config, "--since", "2026-11-01T10:01:30Z", "--json"});
  REQUIRE(recent.exit_code == 0);
  CHECK(nlohmann::json::parse(recent.out).size() == 1);
  auto limited = run_process({kBinary, "audit", "-c", config, "--limit", "2", "--json"});
  CHECK(nlohmann::json::parse(limited.out).size() == 2);

  auto bad = run_process({kBinary, "audit", "-c", config, "--since", "last tuesday"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--since must be a duration") != std::string::npos);
  std::filesystem::remove_all(dir);
}
