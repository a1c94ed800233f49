// The real `vigie run` with [slack] pointed at the fake Slack: an alert becomes a Block Kit
// message, a signed Acknowledge click on Vigie's /slack/interactive edits it, a forged one is
// refused with 401 and one from another workspace than [slack] team_id with 403, both changing
// nothing, and the secrets appear in no output; without team_id, `vigie run` warns once.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "fake_slack.h"
#include "http_client.h"
#include "process.h"

using namespace vigie::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string kBinary = VIGIE_BINARY;
const std::string kSigningSecret = "daemon-signing-secret-0123";
const std::string kBotToken = "xoxb-daemon-test-token";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string form_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

TEST_CASE(
    "vigie run posts an alert to Slack and a signed Acknowledge click edits it, a forged one or "
    "another workspace's is refused") {
  FakeSlack slack(kBotToken);
  const auto dir = std::filesystem::temp_directory_path() / ("vigie-slack-" + std::to_string(::getpid()));
  // The setup (which empties dir) runs before the config file is opened.
  const std::string head = slack_daemon_setup(dir, slack.base_url(), kBotToken, kSigningSecret);
  std::ofstream(dir / "vigie.toml") << head << "team_id = \"T0VIGIE\"\n";
  std::ofstream(dir / "rules" / "r.toml")
      << "[[rule]]\nname = \"disk\"\nwhen = 'kind == \"alertmanager.alert\" and alertname == \"DiskFull\"'\n"
         "group_by = [\"instance\"]\nsummary = \"disk full on {{labels.instance}}\"\n";

  auto vigie = std::make_unique<Child>(std::vector<std::string>{kBinary, "run", "-c", (dir / "vigie.toml").string()},
                                       (dir / "out.log").string(), (dir / "err.log").string());
  const std::string line = wait_for_line((dir / "out.log").string(), "listening on http://127.0.0.1:", 20000);
  REQUIRE_FALSE(line.empty());
  HttpClient http(static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1))));

  CHECK(http.request("POST", "/api/v2/alerts", R"([{"labels":{"alertname":"DiskFull","instance":"db1"}}])").status == 200);
  auto post = slack.wait_for_request([](const FakeSlack::Request& r) { return r.method == "chat.postMessage" && r.status == 200; }, 10s);
  REQUIRE(post);
  CHECK(post->headers.at("Authorization") == "Bearer " + kBotToken);
  CHECK(post->args["channel"] == "C0OPS");
  CHECK(post->args["text"].get<std::string>().find("disk full on db1") != std::string::npos);
  const auto messages = slack.messages();
  REQUIRE(messages.size() == 1);
  const std::string ts = messages[0].ts;
  // The button's value is the alert id.
  std::string alert_id;
  for (const auto& block : messages[0].blocks) {
    for (const auto& el : block.value("elements", json::array())) {
      if (el.value("action_id", "") == "vigie_ack") alert_id = el.value("value", "");
    }
  }
  REQUIRE_FALSE(alert_id.empty());

  auto click = [&](const std::string& user, const std::string& action_ts,
                   const std::string& team = "T0VIGIE") {
    json payload{
        {"type", "block_actions"},
        {"team", {{"id", team}}},
        {"user", {{"id", user}}},
        {"container", {{"type", "message"}, {"message_ts", ts}, {"channel_id", "C0OPS"}}},
        {"channel", {{"id", "C0OPS"}}},
        {"actions",
         json::array(
             {{{"action_id", "vigie_ack"}, {"value", alert_id}, {"action_ts", action_ts}}})}};
    return "payload=" + form_encode(payload.dump());
  };
  const auto now = vigie::from_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch()).count());

  // Forged: signed with a guessed secret → 401, and the message is not touched.
  const std::string forged = click("U0MALLORY", "1.1");
  std::map<std::string, std::string> forged_headers{{"Content-Type", "application/x-www-form-urlencoded"}};
  for (const auto& [k, v] : FakeSlack::signed_headers("guessed", forged, now)) forged_headers[k] = v;
  auto refused = http.request("POST", "/slack/interactive", forged, forged_headers);
  CHECK(refused.status == 401);
  CHECK(json::parse(refused.body).contains("error"));

  // Signed with the right secret but from another workspace where the app is installed: 403.
  const std::string foreign = click("U0MALLORY", "1.2", "T0OTHER");
  std::map<std::string, std::string> foreign_headers{
      {"Content-Type", "application/x-www-form-urlencoded"}};
  for (const auto& [k, v] : FakeSlack::signed_headers(kSigningSecret, foreign, now))
    foreign_headers[k] = v;
  auto other_team = http.request("POST", "/slack/interactive", foreign, foreign_headers);
  CHECK(other_team.status == 403);
  CHECK(json::parse(other_team.body).value("error", "") == "workspace not allowed");

  // Signed by Slack: 200 at once, then the message says who acknowledged it.
  const std::string body = click("U0BOB", "2.2");
  std::map<std::string, std::string> headers{{"Content-Type", "application/x-www-form-urlencoded"}};
  for (const auto& [k, v] : FakeSlack::signed_headers(kSigningSecret, body, now)) headers[k] = v;
  CHECK(http.request("POST", "/slack/interactive", body, headers).status == 200);
  auto update = slack.wait_for_request(
      [](const FakeSlack::Request& r) { return r.method == "chat.update" && r.args.dump().find("Acknowledged by <@U0BOB>") != std::string::npos; },
      10s);
  REQUIRE(update);
  CHECK(update->args["ts"] == ts);
  // Clicks are taken in order: had the other workspace's click acted, Mallory would be named.
  CHECK(slack.message("C0OPS", ts)->blocks.dump().find("U0MALLORY") == std::string::npos);
  const std::string metrics = http.request("GET", "/metrics").body;
  CHECK(metrics.find(R"(vigie_slack_requests_refused_total{reason="team",transport="http"} 1)") !=
        std::string::npos);
  CHECK(metrics.find(
            R"(vigie_slack_requests_refused_total{reason="signature",transport="http"} 1)") !=
        std::string::npos);

  // A permanent Slack error: the job fails once, with a metric and the fix in the log.
  slack.fail_next("chat.postMessage", 200, "channel_not_found");
  CHECK(http.request("POST", "/api/v2/alerts", R"([{"labels":{"alertname":"DiskFull","instance":"db2"}}])").status == 200);
  REQUIRE(slack.wait_for_request([](const FakeSlack::Request& r) { return r.error == "channel_not_found"; }, 10s));
  bool counted = false;
  for (int i = 0; i < 100 && !counted; ++i) {  // the result travels back to the engine: bounded poll
    counted = http.request("GET", "/metrics").body.find("vigie_slack_delivery_failed_total{error=\"channel_not_found\"} 1") !=
              std::string::npos;
    if (!counted) std::this_thread::sleep_for(100ms);
  }
  CHECK(counted);

  vigie->signal(SIGTERM);
  CHECK(vigie->wait(15000) == 0);
  const std::string output = slurp(dir / "out.log") + slurp(dir / "err.log");
  CHECK(output.find(kBotToken) == std::string::npos);
  CHECK(output.find(kSigningSecret) == std::string::npos);
  CHECK(output.find("Slack request refused") != std::string::npos);
  CHECK(output.find("check `notify` and [slack] default_channel") != std::string::npos);
  CHECK(output.find("not from the workspace in [slack] team_id") != std::string::npos);
  CHECK(output.find("team_id is unset") == std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("vigie run answers chat commands through Slack: a slash command via response_url, a denial ephemerally, an approval in the open") {
  FakeSlack slack(kBotToken);
  const auto dir = std::filesystem::temp_directory_path() / ("vigie-chatops-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "rules");
  std::ofstream(dir / "bot-token") << kBotToken << "\n";
  std::ofstream(dir / "signing-secret") << kSigningSecret << "\n";
  std::ofstream(dir / "vigie.toml") << "rules = [\"rules/*.toml\"]\n[server]\nlisten = \"127.0.0.1:0\"\n"
                                       "[store]\npath = \"v.db\"\n"
                                       "[slack]\nbase_url = \""
                                    << slack.base_url()
                                    << "\"\ntoken_file = \"bot-token\"\nsigning_secret_file = \"signing-secret\"\n"
                                       "default_channel = \"C0OPS\"\n"
                                       "[access.roles]\noncall = [\"U0ALICE\", \"U0BOB\"]\n";
  std::ofstream(dir / "rules" / "r.toml")
      << "[[action]]\nname = \"clean\"\ntype = \"exec\"\nargv = [\"/bin/echo\", \"{{host}}\"]\n"
         "allow = [\"oncall\"]\napprovals = 1\n";
  auto vigie = std::make_unique<Child>(std::vector<std::string>{kBinary, "run", "-c", (dir / "vigie.toml").string()},
                                       (dir / "out.log").string(), (dir / "err.log").string());
  const std::string line = wait_for_line((dir / "out.log").string(), "listening on http://127.0.0.1:", 20000);
  REQUIRE_FALSE(line.empty());
  HttpClient http(static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1))));
  const auto now = [] {
    return vigie::from_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch()).count());
  };
  auto post = [&](const std::string& path, const std::string& body, const std::string& type) {
    std::map<std::string, std::string> headers{{"Content-Type", type}};
    for (const auto& [k, v] : FakeSlack::signed_headers(kSigningSecret, body, now())) headers[k] = v;
    return http.request("POST", path, body, headers).status;
  };
  auto slash = [&](const std::string& user, const std::string& text, const std::string& reply_to, const std::string& trigger) {
    return post("/slack/commands",
                "command=%2Fvigie&channel_id=C0OPS&user_id=" + user + "&text=" + form_encode(text) +
                    "&response_url=" + form_encode(slack.response_url(reply_to)) + "&trigger_id=" + trigger,
                "application/x-www-form-urlencoded");
  };

  // /vigie whoami: the answer comes back through the command's response_url.
  CHECK(slash("U0ALICE", "whoami", "whoami-1", "t1") == 200);
  auto whoami = slack.wait_for_request([](const FakeSlack::Request& r) { return r.path == "/response/whoami-1"; }, 10s);
  REQUIRE(whoami);
  CHECK(whoami->args["text"].get<std::string>().find("your roles here: oncall") != std::string::npos);
  CHECK(whoami->args["response_type"] == "ephemeral");
  CHECK(whoami->headers.count("Authorization") == 0);

  // @vigie ack 1 by someone without a role: an ephemeral denial naming the roles.
  const std::string mention = json{{"type", "event_callback"},
                                   {"event_id", "Ev1"},
                                   {"event", {{"type", "app_mention"}, {"user", "U0EVE"}, {"channel", "C0OPS"},
                                              {"text", "<@U0VIGIE> run clean host=web-1"}, {"ts", "1.000100"}}}}
                                  .dump();
  CHECK(post("/slack/events", mention, "application/json") == 200);
  auto denial = slack.wait_for_request([](const FakeSlack::Request& r) { return r.method == "chat.postEphemeral"; }, 10s);
  REQUIRE(denial);
  CHECK(denial->args["user"] == "U0EVE");
  CHECK(denial->args["text"].get<std::string>().find("it needs the role oncall") != std::string::npos);

  // Alice asks to run an action that needs one approval: the request is posted for everyone.
  CHECK(slash("U0ALICE", "run clean host=web-1", "run-1", "t2") == 200);
  auto ask = slack.wait_for_request(
      [](const FakeSlack::Request& r) { return r.method == "chat.postMessage" && r.args.dump().find("vigie_approve") != std::string::npos; },
      10s);
  REQUIRE(ask);
  const std::string blocks = ask->args["blocks"].dump();
  const auto at = blocks.find("req-");
  REQUIRE(at != std::string::npos);
  const std::string request = blocks.substr(at, blocks.find('"', at) - at);

  // Bob approves: the approval message is replaced and the action is dispatched, announced.
  json click{{"type", "block_actions"},
             {"user", {{"id", "U0BOB"}}},
             {"channel", {{"id", "C0OPS"}}},
             {"container", {{"message_ts", ask->args.value("ts", "")}, {"channel_id", "C0OPS"}}},
             {"response_url", slack.response_url("approve-1")},
             {"actions", json::array({{{"action_id", "vigie_approve"}, {"value", request}, {"action_ts", "9.9"}}})}};
  CHECK(post("/slack/interactive", "payload=" + form_encode(click.dump()), "application/x-www-form-urlencoded") == 200);
  auto replaced = slack.wait_for_request([](const FakeSlack::Request& r) { return r.path == "/response/approve-1"; }, 10s);
  REQUIRE(replaced);
  CHECK(replaced->args["replace_original"] == true);
  CHECK(replaced->args["text"].get<std::string>().find("Approved by <@U0BOB>") != std::string::npos);
  auto running = slack.wait_for_request(
      [](const FakeSlack::Request& r) { return r.method == "chat.postMessage" && r.args.dump().find("Running `clean` host=web-1") != std::string::npos; },
      10s);
  CHECK(running);

  vigie->signal(SIGTERM);
  CHECK(vigie->wait(15000) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("vigie run with [slack] mode = socket takes a slash command and a button through Socket Mode and survives a refresh") {
  const std::string app_token = "xapp-1-A0FAKE-daemon-socket-token";
  FakeSlack slack(kBotToken, app_token);
  const auto dir = std::filesystem::temp_directory_path() / ("vigie-socket-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "rules");
  std::ofstream(dir / "bot-token") << kBotToken << "\n";
  std::ofstream(dir / "app-token") << app_token << "\n";
  std::ofstream(dir / "vigie.toml") << "rules = [\"rules/*.toml\"]\n[server]\nlisten = \"127.0.0.1:0\"\n"
                                       "[store]\npath = \"v.db\"\n"
                                       "[slack]\nmode = \"socket\"\nbase_url = \""
                                    << slack.base_url()
                                    << "\"\ntoken_file = \"bot-token\"\napp_token_file = \"app-token\"\n"
                                       "default_channel = \"C0OPS\"\n"
                                       "[access.roles]\noncall = [\"U0ALICE\", \"U0BOB\"]\n";
  std::ofstream(dir / "rules" / "r.toml")
      << "[[rule]]\nname = \"disk\"\nwhen = 'kind == \"alertmanager.alert\" and alertname == \"DiskFull\"'\n"
         "group_by = [\"instance\"]\nsummary = \"disk full on {{labels.instance}}\"\n";
  auto vigie = std::make_unique<Child>(std::vector<std::string>{kBinary, "run", "-c", (dir / "vigie.toml").string()},
                                       (dir / "out.log").string(), (dir / "err.log").string());
  const std::string line = wait_for_line((dir / "out.log").string(), "listening on http://127.0.0.1:", 20000);
  REQUIRE_FALSE(line.empty());
  HttpClient http(static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1))));
  REQUIRE(slack.wait_for_socket_connections(1, 10s));
  auto open = slack.wait_for_request([](const FakeSlack::Request& r) { return r.method == "apps.connections.open"; }, 1s);
  REQUIRE(open);
  CHECK(open->headers.at("Authorization") == "Bearer " + app_token);

  auto slash = [&](const std::string& text, const std::string& reply_to, const std::string& trigger) {
    return slack.send_envelope("slash_commands",
                               {{"command", "/vigie"}, {"text", text}, {"user_id", "U0ALICE"}, {"channel_id", "C0OPS"},
                                {"response_url", slack.response_url(reply_to)}, {"trigger_id", trigger}},
                               true);
  };

  // /vigie whoami: acked with the receipt, answered through response_url.
  const std::string whoami = slash("whoami", "sock-whoami", "st1");
  auto ack = slack.wait_for_ack(whoami, 10s);
  REQUIRE(ack);
  CHECK(ack->at("payload").at("response_type") == "ephemeral");
  auto answer = slack.wait_for_request([](const FakeSlack::Request& r) { return r.path == "/response/sock-whoami"; }, 10s);
  REQUIRE(answer);
  CHECK(answer->args["text"].get<std::string>().find("your roles here: oncall") != std::string::npos);

  // An alert's Acknowledge button clicked through Socket Mode edits its message.
  CHECK(http.request("POST", "/api/v2/alerts", R"([{"labels":{"alertname":"DiskFull","instance":"db1"}}])").status == 200);
  REQUIRE(slack.wait_for_request([](const FakeSlack::Request& r) { return r.method == "chat.postMessage" && r.status == 200; }, 10s));
  const auto messages = slack.messages();
  REQUIRE(messages.size() == 1);
  std::string alert_id;
  for (const auto& block : messages[0].blocks) {
    for (const auto& el : block.value("elements", json::array())) {
      if (el.value("action_id", "") == "vigie_ack") alert_id = el.value("value", "");
    }
  }
  REQUIRE_FALSE(alert_id.empty());
  const std::string click = slack.send_envelope(
      "interactive",
      {{"type", "block_actions"},
       {"user", {{"id", "U0BOB"}}},
       {"container", {{"type", "message"}, {"message_ts", messages[0].ts}, {"channel_id", "C0OPS"}}},
       {"channel", {{"id", "C0OPS"}}},
       {"actions", json::array({{{"action_id", "vigie_ack"}, {"value", alert_id}, {"action_ts", "3.3"}}})}});
  REQUIRE(slack.wait_for_ack(click, 10s));
  auto update = slack.wait_for_request(
      [](const FakeSlack::Request& r) { return r.method == "chat.update" && r.args.dump().find("Acknowledged by <@U0BOB>") != std::string::npos; },
      10s);
  REQUIRE(update);

  // Slack refreshes the connection: a new one first, and commands keep working on it.
  slack.send_disconnect("refresh_requested");
  REQUIRE(slack.wait_for_socket_connections(2, 10s));
  CHECK(slack.open_socket_connections_at_connect().at(1) == 1);
  const std::string status = slash("status", "sock-status", "st2");
  REQUIRE(slack.wait_for_ack(status, 10s));
  auto shown = slack.wait_for_request([](const FakeSlack::Request& r) { return r.path == "/response/sock-status"; }, 10s);
  REQUIRE(shown);
  CHECK(shown->args["text"].get<std::string>().find("slack socket: connected") != std::string::npos);
  CHECK(slack.acks(whoami) == 1);
  CHECK(slack.acks(click) == 1);
  bool reconnected = false;
  for (int i = 0; i < 50 && !reconnected; ++i) {  // bounded poll of the metrics page
    const std::string metrics = http.request("GET", "/metrics").body;
    reconnected = metrics.find("vigie_slack_socket_reconnects_total 1") != std::string::npos &&
                  metrics.find("vigie_slack_socket_connected 1") != std::string::npos;
    if (!reconnected) std::this_thread::sleep_for(100ms);
  }
  CHECK(reconnected);

  vigie->signal(SIGTERM);
  CHECK(vigie->wait(15000) == 0);
  const std::string output = slurp(dir / "out.log") + slurp(dir / "err.log");
  CHECK(output.find(app_token) == std::string::npos);
  CHECK(output.find("ticket=") == std::string::npos);
  CHECK(output.find("Socket Mode connected") != std::string::npos);
  // No [slack] team_id here: accepted, with one warning at start.
  const auto unset = output.find("[slack] team_id is unset");
  CHECK(unset != std::string::npos);
  CHECK(output.find("[slack] team_id is unset", unset + 1) == std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "the [actions] enabled kill switch follows vigie.toml at every reload, in the engine and its "
    "worker") {
  FakeSlack slack(kBotToken);
  const auto dir =
      std::filesystem::temp_directory_path() / ("vigie-killswitch-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "rules");
  std::ofstream(dir / "bot-token") << kBotToken << "\n";
  std::ofstream(dir / "signing-secret") << kSigningSecret << "\n";
  auto write_config = [&](const char* actions) {
    std::ofstream(dir / "vigie.toml")
        << "rules = [\"rules/*.toml\"]\n[server]\nlisten = \"127.0.0.1:0\"\n"
           "[store]\npath = \"v.db\"\n"
           "[slack]\nbase_url = \""
        << slack.base_url()
        << "\"\ntoken_file = \"bot-token\"\nsigning_secret_file = \"signing-secret\"\n"
           "default_channel = \"C0OPS\"\n"
           "[access.roles]\noncall = [\"U0ALICE\"]\n"
        << actions;
  };
  write_config("[actions]\nenabled = false\n");
  const std::string ran = (dir / "ran.log").string();
  std::ofstream(dir / "rules" / "r.toml")
      << "[[action]]\nname = \"mark\"\ntype = \"exec\"\nargv = [\"/bin/sh\", \"-c\", \"echo {{k}} "
         ">> "
      << ran << "\"]\nparams = { k = \"word\" }\nallow = [\"oncall\"]\n";
  auto vigie = std::make_unique<Child>(
      std::vector<std::string>{kBinary, "run", "-c", (dir / "vigie.toml").string()},
      (dir / "out.log").string(), (dir / "err.log").string());
  const std::string line =
      wait_for_line((dir / "out.log").string(), "listening on http://127.0.0.1:", 20000);
  REQUIRE_FALSE(line.empty());
  HttpClient http(static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1))));
  auto run = [&](const std::string& k) {
    const std::string body =
        "command=%2Fvigie&channel_id=C0OPS&user_id=U0ALICE&text=" + form_encode("run mark k=" + k) +
        "&response_url=" + form_encode(slack.response_url("run-" + k)) + "&trigger_id=t-" + k;
    std::map<std::string, std::string> headers{
        {"Content-Type", "application/x-www-form-urlencoded"}};
    const auto now = vigie::from_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
    for (const auto& [h, v] : FakeSlack::signed_headers(kSigningSecret, body, now)) headers[h] = v;
    CHECK(http.request("POST", "/slack/commands", body, headers).status == 200);
    auto answer = slack.wait_for_request(
        [&](const FakeSlack::Request& r) { return r.path == "/response/run-" + k; }, 10s);
    return answer ? answer->args.value("text", "") : std::string();
  };
  auto ran_word = [&](const std::string& k) {
    for (int i = 0; i < 500; ++i) {  // bounded: the action runs on the in-process worker
      if (slurp(ran).find(k) != std::string::npos) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  };

  // Off from the start: refused by the engine.
  CHECK(run("one").find("Actions are switched off (`[actions] enabled = false`") !=
        std::string::npos);

  // On through SIGHUP: the engine dispatches and its in-process worker, off since the start too,
  // runs it.
  write_config("[actions]\nenabled = true\n");
  vigie->signal(SIGHUP);
  CHECK_FALSE(wait_for_line((dir / "err.log").string(), "actions switched on", 10000).empty());
  CHECK(run("two").find("Actions are switched off") == std::string::npos);
  CHECK(ran_word("two"));

  // Pulled again through /-/reload: nothing runs.
  write_config("[actions]\nenabled = false\n");
  CHECK(http.request("POST", "/-/reload").status == 200);
  CHECK(run("three").find("Actions are switched off (`[actions] enabled = false`") !=
        std::string::npos);
  CHECK_FALSE(wait_for_line((dir / "err.log").string(), "actions switched off", 5000).empty());
  const std::string runs = slurp(ran);
  CHECK(runs.find("one") == std::string::npos);
  CHECK(runs.find("three") == std::string::npos);

  vigie->signal(SIGTERM);
  CHECK(vigie->wait(15000) == 0);
  std::filesystem::remove_all(dir);
}
