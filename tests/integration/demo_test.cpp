// `vigie demo` as a newcomer runs it: the real binary, the scenario on a fast demo clock, its
// transcript in order (fired → updated → acked → approved → remediated → resolved), then the
// web view while it still runs — the page and its assets, every table, the simulated channel
// with event text kept as data, and a message typed on the page reaching Vigie signed.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "http_client.h"
#include "process.h"

using namespace vigie::testing;
using nlohmann::json;

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("vigie demo runs the scenario to the end, prints it in order, and serves the web view") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("vigie-demo-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto out = (dir / "out.log").string();
  Child demo({VIGIE_BINARY, "demo", "--port", "0", "--speed", "60", "--for", "100s"}, out,
             (dir / "err.log").string());
  const std::string open = wait_for_line(out, "Vigie demo: open http://127.0.0.1:", 20000);
  REQUIRE_FALSE(open.empty());
  const auto port = static_cast<std::uint16_t>(std::stoi(open.substr(open.rfind(':') + 1)));
  const std::string done = wait_for_line(out, "] DONE", 90000);
  INFO(slurp(out) + slurp(dir / "err.log"));
  REQUIRE_FALSE(done.empty());

  // The transcript: each step once the one before it happened.
  const std::string transcript = slurp(out);
  std::size_t at = 0;
  for (const std::string tag :
       {"] FIRED  rule nightly-backup-missing", "] FIRED  rule sentry-error-burst", "] UPDATED",
        "] FIRED  rule shop-api-error-rate", "] ACKED", "] CONFIRMED", "] APPROVED", "] REMEDIATED",
        "] RESOLVED", "] SILENCED", "] DONE", "Where to look next"}) {
    const auto next = transcript.find(tag, at);
    INFO(tag);
    CHECK(next != std::string::npos);
    if (next != std::string::npos) at = next;
  }
  CHECK(transcript.find("\033[") == std::string::npos);  // not a terminal: no colours

  HttpClient http(port);
  auto page = http.request("GET", "/");
  CHECK(page.status == 200);
  CHECK(page.headers["content-type"].rfind("text/html", 0) == 0);
  CHECK(page.body.find("/ui/app.js") != std::string::npos);
  CHECK(page.headers["content-security-policy"].find("script-src 'self'") != std::string::npos);
  auto script = http.request("GET", "/ui/app.js");
  CHECK(script.status == 200);
  CHECK(script.body.find("innerHTML") == std::string::npos);  // event text only through textContent
  CHECK(http.request("GET", "/ui/style.css").status == 200);

  auto alerts = json::parse(http.request("GET", "/ui/api/alerts").body);
  bool burst_resolved_after_ack = false, backup_silenced = false;
  for (const auto& a : alerts) {
    if (a["rule"] == "sentry-error-burst")
      burst_resolved_after_ack = a["state"] == "resolved" && a["acked_by"] == "U0ALICE";
    if (a["rule"] == "nightly-backup-missing") backup_silenced = a["silenced"] == true;
  }
  CHECK(burst_resolved_after_ack);
  CHECK(backup_silenced);
  auto silences = json::parse(http.request("GET", "/ui/api/silences").body);
  REQUIRE(silences.size() == 1);
  CHECK(silences[0]["author"] == "U0BOB");
  CHECK(silences[0]["active"] == true);
  const std::string audit = http.request("GET", "/ui/api/audit").body;
  for (const std::string action : {"\"click\"", "\"confirmed\"", "\"approved\"", "\"run\"",
                                   "\"action_result\"", "\"silence\""}) {
    INFO(action);
    CHECK(audit.find("\"action\":" + action) != std::string::npos);
  }
  auto rules = json::parse(http.request("GET", "/ui/api/rules").body);
  CHECK(rules["rules"].size() > 5);
  CHECK_FALSE(rules["last_reload"].get<std::string>().empty());
  auto collectors = json::parse(http.request("GET", "/ui/api/collectors").body);
  REQUIRE(collectors.size() == 3);
  for (const auto& c : collectors) {
    CHECK(c["state"] == "ok");
    CHECK_FALSE(c["last_success"].get<std::string>().empty());
  }
  CHECK(http.request("GET", "/ui/api/nope").status == 404);

  // The channel: the Sentry title's <script> is data in the message text, never markup.
  auto channel = json::parse(http.request("GET", "/demo/api/channel").body);
  CHECK(channel["messages"].size() >= 4);
  CHECK(channel.dump().find("alert(") != std::string::npos);
  CHECK(channel.dump().find("demo-signing-secret") == std::string::npos);

  // A message typed on the page: signed by the demo, answered by Vigie in the channel.
  CHECK(http.request("POST", "/demo/api/say", R"({"text":"status shop-api"})",
                     {{"Content-Type", "application/json"}})
            .status == 200);
  const auto seen = [](const json& c) {
    std::size_t n = c["ephemeral"].size();
    for (const auto& m : c["messages"]) n += 1 + m["replies"].size();
    return n;
  };
  const std::size_t before = seen(channel);
  bool answered = false;
  for (int i = 0; i < 100 && !answered; ++i) {  // bounded poll: the answer goes through the job bus
    answered = seen(json::parse(http.request("GET", "/demo/api/channel").body)) > before;
    if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(answered);
  CHECK(http.request("POST", "/demo/api/click", "not json", {{"Content-Type", "application/json"}})
            .status == 400);
  CHECK(http.request("POST", "/demo/api/click", R"({"action_id":5})",
                     {{"Content-Type", "application/json"}})
            .status == 400);
  // A form post (what another site's page can send without a preflight) is refused.
  CHECK(http.request("POST", "/demo/api/say", R"({"text":"status shop-api"})",
                     {{"Content-Type", "text/plain"}})
            .status == 415);

  demo.signal(SIGTERM);
  CHECK(demo.wait(15000) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("vigie demo refuses bad flags with a clear message") {
  auto r = run_process({VIGIE_BINARY, "demo", "--for", "soon"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--for must be a duration") != std::string::npos);
  r = run_process({VIGIE_BINARY, "demo", "--speed", "0"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--speed must be between") != std::string::npos);
}

TEST_CASE("vigie run serves the read-only web view with [server] ui = true, and not without") {
  for (const bool ui : {true, false}) {
    INFO("ui = " << ui);
    const auto dir = std::filesystem::temp_directory_path() /
                     ("vigie-ui-test-" + std::to_string(::getpid()) + (ui ? "-ui" : "-plain"));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "rules");
    std::ofstream(dir / "rules" / "r.toml")
        << "[[rule]]\nname = \"disk\"\nwhen = 'kind == \"alertmanager.alert\" and alertname == "
           "\"DiskFull\"'\n"
           "group_by = [\"instance\"]\nsummary = \"disk full on {{labels.instance}}\"\n";
    std::ofstream(dir / "vigie.toml")
        << "rules = [\"rules/*.toml\"]\n[server]\nlisten = \"127.0.0.1:0\"\nui = "
        << (ui ? "true" : "false") << "\n[store]\npath = \"v.db\"\n";
    const std::string log = (dir / "out.log").string();
    Child vigie({VIGIE_BINARY, "run", "-c", (dir / "vigie.toml").string()}, log,
                (dir / "err.log").string());
    const std::string line = wait_for_line(log, "listening on http://127.0.0.1:", 20000);
    REQUIRE_FALSE(line.empty());
    {
      HttpClient http(static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1))));
      if (ui) {
        CHECK(http.request("GET", "/").status == 200);
        CHECK(http.request("GET", "/ui/app.js").status == 200);
        // The alert's instance is attacker-controlled: the JSON carries it as it is.
        CHECK(
            http.request(
                    "POST", "/api/v2/alerts",
                    R"([{"labels":{"alertname":"DiskFull","instance":"<img src=x onerror=alert(1)>"}}])")
                .status == 200);
        json alerts = json::array();
        for (int i = 0; i < 100 && alerts.empty();
             ++i) {  // bounded: the engine commits, then the view reads
          alerts = json::parse(http.request("GET", "/ui/api/alerts").body);
          if (alerts.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        REQUIRE(alerts.size() == 1);
        CHECK(alerts[0]["labels"]["instance"] == "<img src=x onerror=alert(1)>");
        auto rules = json::parse(http.request("GET", "/ui/api/rules").body);
        REQUIRE(rules["rules"].size() == 1);
        CHECK(rules["rules"][0]["name"] == "disk");
        CHECK(rules["last_reload"].get<std::string>().find("1 rules") != std::string::npos);
        CHECK(json::parse(http.request("GET", "/ui/api/collectors").body).empty());
        CHECK(http.request("GET", "/demo/api/channel").status == 404);  // demo-only routes
        CHECK(http.request("POST", "/demo/api/click", "{}").status == 404);
      } else {
        CHECK(http.request("GET", "/").status == 404);
        CHECK(http.request("GET", "/ui/api/alerts").status == 404);
      }
    }
    vigie.signal(SIGTERM);
    CHECK(vigie.wait(15000) == 0);
    std::filesystem::remove_all(dir);
  }
}
