// The secret sweep (issue 13): every option declared `OptionType::secret` in an option table —
// vigie.toml's fixed sections, every collector, provider and action kind — gets a distinct planted
// value through `<name>_env` (one through `<name>_file`). The real `vigie check` and `vigie run`
// then meet fakes that refuse the tokens, a forged webhook, a chat command quoting a secret and
// actions whose output echoes secrets; no planted value may appear in any log line, HTTP answer,
// /metrics, /healthz, audit row, stored event (but the one a user posted), Slack payload, or
// request to an upstream other than the one the secret is for.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "fake_digitalocean.h"
#include "fake_heroku.h"
#include "fake_newrelic.h"
#include "fake_newrelic_api.h"
#include "fake_papertrail.h"
#include "fake_rackspace.h"
#include "fake_sentry.h"
#include "fake_sentry_api.h"
#include "fake_slack.h"
#include "fake_upstream.h"
#include "http_client.h"
#include "process.h"
#include "vigie/app/catalogs.h"
#include "vigie/config/config.h"
#include "vigie/net/crypto.h"

using namespace vigie::testing;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kBinary = VIGIE_BINARY;

// One planted secret: the option it is planted in and the value it holds.
struct Plant {
  std::string table;   // "slack", "webhooks", "collector:sentry", "provider:heroku", "action:http"
  std::string option;  // "token", or "secret_headers.X-Api-Key"
  std::string var;     // environment variable holding it ("" when through a file)
  std::string file;    // file holding it ("" when through a variable)
  std::string value;   // PLANTED-<table>-<option>-<hex>
  std::string hex;     // the random part: found even when the rest of the value is cut or escaped
};

std::string random_hex() {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

std::string env_name(const std::string& table, const std::string& option) {
  std::string out = "VIGIE_PLANTED_";
  for (char c : table + "_" + option)
    out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  return out;
}

std::string slurp(const fs::path& p) {
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

std::string headers_text(const vigie::net::Headers& h) {
  std::string out;
  for (const auto& [k, v] : h) out += k + ": " + v + "\n";
  return out;
}

// Every secret option of every option table, as (table key, option name). Built from the tables
// themselves so that a secret option added later is swept (or fails the test) automatically.
std::vector<std::pair<std::string, std::string>> secret_options() {
  std::vector<std::pair<std::string, std::string>> out;
  auto add_table = [&](const std::string& key, const vigie::config::OptionTable& t) {
    for (const auto& o : t.options) {
      if (o.type == vigie::config::OptionType::secret) out.emplace_back(key, std::string(o.name));
    }
  };
  namespace c = vigie::config;
  add_table("server", c::server_options());
  add_table("store", c::store_options());
  add_table("bus", c::bus_options());
  add_table("slack", c::slack_options());
  add_table("webhooks", c::webhook_options());
  add_table("actions", c::actions_options());
  add_table("log", c::log_options());
  const auto catalogs = vigie::app::builtin_catalogs();
  for (const auto& k : catalogs.collectors.all())
    add_table("collector:" + std::string(k.type), *k.options);
  for (const auto& k : catalogs.providers.all())
    add_table("provider:" + std::string(k.type), *k.options);
  for (const auto& k : catalogs.actions.all())
    add_table("action:" + std::string(k.type), *k.options);
  return out;
}

// The upstreams the daemon talks to. Every one accepts a token other than the planted one: each
// call is refused (401/403), and the refusal's reason travels through Vigie's error paths.
struct Fakes {
  FakeSlack slack;  // accepts the planted bot and app tokens: Slack must work to carry replies
  FakeSentry sentry{"right-sentry-token"};
  FakeNewRelic newrelic{"NRAK-RIGHT"};
  FakePapertrail papertrail{"right-papertrail-token"};
  FakeHeroku heroku{"right-heroku-token"};
  FakeDigitalOcean digitalocean{"right-do-token"};
  FakeRackspace rackspace{"ops", "right-rax-key"};
  FakeSentryApi sentry_api{"right-sentry-api-token"};
  FakeNewRelicApi newrelic_api{"NRAK-RIGHT-API"};
  // The `http` action's target: answers 400 with the headers it got, so a careless action would
  // print its own Authorization header in the failure reason.
  FakeUpstream echo{"echo", [](const RecordedRequest& r) {
                      vigie::net::HttpResponse res;
                      res.status = 400;
                      res.content_type = "text/plain";
                      res.body = "bad request; you sent:\n" + headers_text(r.headers);
                      return res;
                    }};
  Fakes(const std::string& bot, const std::string& app) : slack(bot, app) {}
};

// The non-secret part of each section or action that carries secrets; the secret keys are added
// from the option tables. A table with a secret option and no entry here fails the test.
using SectionWriter = std::function<std::string(const Fakes&)>;
std::map<std::string, SectionWriter> section_writers() {
  return {
      {"slack",
       [](const Fakes& f) {
         return "[slack]\nbase_url = \"" + f.slack.base_url() + "\"\ndefault_channel = \"C0OPS\"\n";
       }},
      {"webhooks",
       [](const Fakes&) {
         return std::string("[webhooks.deploys]\nkind = \"deploy.finished\"\nid = \"deploy_id\"\n");
       }},
      {"collector:sentry",
       [](const Fakes& f) {
         return "[collectors.sentry]\ntype = \"sentry\"\nbase_url = \"" + f.sentry.base_url() +
                "\"\norganization = \"acme\"\nprojects = [\"shop-api\"]\ninterval = \"1s\"\n";
       }},
      {"collector:newrelic",
       [](const Fakes& f) {
         return "[collectors.newrelic]\ntype = \"newrelic\"\nbase_url = \"" +
                f.newrelic.base_url() + "\"\ninterval = \"1s\"\n";
       }},
      {"collector:papertrail",
       [](const Fakes& f) {
         return "[collectors.papertrail]\ntype = \"papertrail\"\nbase_url = \"" +
                f.papertrail.base_url() + "\"\nquery = \"error\"\ninterval = \"1s\"\n";
       }},
      {"provider:heroku",
       [](const Fakes& f) {
         return "[providers.heroku]\nbase_url = \"" + f.heroku.base_url() + "\"\n";
       }},
      {"provider:digitalocean",
       [](const Fakes& f) {
         return "[providers.digitalocean]\nbase_url = \"" + f.digitalocean.base_url() + "\"\n";
       }},
      {"provider:rackspace",
       [](const Fakes& f) {
         return "[providers.rackspace]\nidentity_url = \"" + f.rackspace.identity_url() +
                "\"\nusername = \"ops\"\nregion = \"DFW\"\n";
       }},
      {"provider:sentry",
       [](const Fakes& f) {
         return "[providers.sentry]\nbase_url = \"" + f.sentry_api.base_url() +
                "\"\norganization = \"acme\"\n";
       }},
      {"provider:newrelic",
       [](const Fakes& f) {
         return "[providers.newrelic]\nbase_url = \"" + f.newrelic_api.base_url() + "\"\n";
       }},
      {"action:http",
       [](const Fakes& f) {
         return "[[action]]\nname = \"echo-http\"\ntype = \"http\"\nmethod = \"GET\"\nurl = \"" +
                f.echo.base_url() + "/hook\"\nallow = [\"oncall\"]\n";
       }},
  };
}

// The rule-file actions that reach each provider (their secrets live in [providers.*]), and an
// exec action echoing every planted variable it is given.
std::string provider_actions(const std::vector<Plant>& plants) {
  std::string env_list, echo;
  for (const auto& p : plants) {
    if (p.var.empty()) continue;
    env_list += (env_list.empty() ? "\"" : ", \"") + p.var + "\"";
    echo += " $" + p.var;
  }
  return "[[action]]\nname = \"restart-heroku\"\ntype = \"heroku.restart\"\napp = \"shop\"\nallow "
         "= [\"oncall\"]\n"
         "[[action]]\nname = \"reboot-do\"\ntype = \"digitalocean.reboot\"\ndroplet_id = "
         "\"42\"\nallow = [\"oncall\"]\n"
         "[[action]]\nname = \"reboot-rax\"\ntype = \"rackspace.reboot\"\nserver_id = "
         "\"srv-1\"\nallow = [\"oncall\"]\n"
         "[[action]]\nname = \"resolve-sentry\"\ntype = \"sentry.resolve\"\nissue_id = "
         "\"4021\"\nallow = [\"oncall\"]\n"
         "[[action]]\nname = \"ack-newrelic\"\ntype = \"newrelic.ack\"\nincident_id = "
         "\"77\"\nallow = [\"oncall\"]\n"
         "[[action]]\nname = \"echo-exec\"\ntype = \"exec\"\nargv = [\"/bin/sh\", \"-c\", \"echo "
         "leaked:" +
         echo + "\"]\nenv = [" + env_list +
         "]\nallow = [\"oncall\"]\n"
         "[[rule]]\nname = \"disk\"\nwhen = 'kind == \"alertmanager.alert\" and alertname == "
         "\"DiskFull\"'\n"
         "group_by = [\"instance\"]\nsummary = \"disk full on {{labels.instance}}\"\n";
}

// Which planted values occur in `text` (whole, or by their random part).
std::vector<std::string> found_in(const std::string& text, const std::vector<Plant>& plants,
                                  const std::set<std::string>& allowed = {}) {
  std::vector<std::string> out;
  for (const auto& p : plants) {
    if (allowed.count(p.value)) continue;
    if (text.find(p.value) != std::string::npos || text.find(p.hex) != std::string::npos) {
      out.push_back(p.table + "." + p.option);
    }
  }
  return out;
}

void check_no_secret(const std::string& what, const std::string& text,
                     const std::vector<Plant>& plants, const std::set<std::string>& allowed = {}) {
  const auto leaks = found_in(text, plants, allowed);
  INFO(what << " holds " << leaks.size() << " planted secret(s): " << json(leaks).dump() << "\n"
            << text);
  CHECK(leaks.empty());
}

}  // namespace

TEST_CASE("every secret option in the option tables is planted by the secret sweep") {
  const auto writers = section_writers();
  std::set<std::string> missing;
  for (const auto& [table, option] : secret_options()) {
    if (!writers.count(table)) missing.insert(table + "." + option);
  }
  INFO(
      "secret options the sweep does not plant (add a writer in tests/integration/secrets_test.cpp "
      "section_writers()): "
      << json(missing).dump());
  CHECK(missing.empty());
  // The sweep is only as good as its list: the known secret options are there.
  const auto all = secret_options();
  for (const auto& expected :
       std::vector<std::pair<std::string, std::string>>{{"slack", "token"},
                                                        {"slack", "signing_secret"},
                                                        {"slack", "app_token"},
                                                        {"webhooks", "hmac_secret"},
                                                        {"webhooks", "shared_secret"},
                                                        {"collector:sentry", "token"},
                                                        {"provider:heroku", "token"},
                                                        {"action:http", "auth"}}) {
    INFO(expected.first << "." << expected.second);
    CHECK(std::find(all.begin(), all.end(), expected) != all.end());
  }
}

TEST_CASE(
    "planted secrets appear in no log, answer, metric, audit row, Slack payload or foreign "
    "upstream request") {
  const auto dir = fs::temp_directory_path() / ("vigie-secrets-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "rules");

  // Plant one distinct value per secret option, as the option tables declare them.
  std::vector<Plant> plants;
  for (const auto& [table, option] : secret_options()) {
    const std::string hex = random_hex();
    Plant p{
        table, option, env_name(table, option), "", "PLANTED-" + table + "-" + option + "-" + hex,
        hex};
    if (table == "slack" && option == "token") {  // one through a file
      p.var.clear();
      p.file = (dir / "slack-token").string();
    }
    plants.push_back(p);
  }
  {  // secret_headers is a table of "env:VAR" / "file:path", not a secret option: planted by hand
    const std::string hex = random_hex();
    plants.push_back({"action:http", "secret_headers.X-Api-Key",
                      env_name("action:http", "x_api_key"), "", "PLANTED-http-X-Api-Key-" + hex,
                      hex});
  }
  auto plant = [&](const std::string& table, const std::string& option) -> const Plant& {
    for (const auto& p : plants) {
      if (p.table == table && p.option == option) return p;
    }
    FAIL("no plant for " << table << "." << option);
    return plants.front();
  };
  std::map<std::string, std::string> env;  // for run_process, which gives a clean environment
  for (const auto& p : plants) {
    if (!p.file.empty()) {
      std::ofstream(p.file) << p.value << "\n";
    } else {
      env[p.var] = p.value;
      ::setenv(p.var.c_str(), p.value.c_str(), 1);  // Child (vigie run) inherits the environment
    }
  }

  Fakes fakes(plant("slack", "token").value, plant("slack", "app_token").value);
  const auto writers = section_writers();
  std::map<std::string, std::string> sections;  // table → its text with the secret keys
  for (const auto& p : plants) {
    if (p.option.find('.') != std::string::npos) continue;
    auto w = writers.find(p.table);
    REQUIRE(w != writers.end());
    if (!sections.count(p.table)) sections[p.table] = w->second(fakes);
    sections[p.table] += p.file.empty() ? p.option + "_env = \"" + p.var + "\"\n"
                                        : p.option + "_file = \"" + p.file + "\"\n";
  }
  sections["action:http"] += "secret_headers = { X-Api-Key = \"env:" +
                             plant("action:http", "secret_headers.X-Api-Key").var + "\" }\n";
  std::string toml =
      "rules = [\"rules/*.toml\"]\n[server]\nlisten = \"127.0.0.1:0\"\n[store]\npath = \"v.db\"\n"
      "[access.roles]\noncall = [\"U0ALICE\"]\n";
  std::string rules = provider_actions(plants);
  for (const auto& [table, text] : sections)
    (table.rfind("action:", 0) == 0 ? rules : toml) += text;
  std::ofstream(dir / "vigie.toml") << toml;
  std::ofstream(dir / "rules" / "r.toml") << rules;
  const std::string config = (dir / "vigie.toml").string();
  INFO("vigie.toml:\n" << toml << "\nrules:\n" << rules);

  // vigie check, text and JSON: the secrets are read (so they would be there to leak).
  for (bool as_json : {false, true}) {
    std::vector<std::string> argv{kBinary, "check", "-c", config};
    if (as_json) argv.push_back("--json");
    auto r = run_process(argv, env, 60);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("secret-unavailable") == std::string::npos);  // every secret was read
    check_no_secret("vigie check stdout", r.out, plants);
    check_no_secret("vigie check stderr", r.err, plants);
  }

  auto vigie = std::make_unique<Child>(std::vector<std::string>{kBinary, "run", "-c", config},
                                       (dir / "out.log").string(), (dir / "err.log").string());
  const std::string line =
      wait_for_line((dir / "out.log").string(), "listening on http://127.0.0.1:", 20000);
  REQUIRE_FALSE(line.empty());
  HttpClient http(static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1))));
  std::string answers;  // every HTTP answer's body, searched at the end
  auto call = [&](const std::string& method, const std::string& target,
                  const std::string& body = {},
                  const std::map<std::string, std::string>& headers = {}) {
    auto r = http.request(method, target, body, headers);
    answers +=
        std::to_string(r.status) + " " + r.body + "\n";  // not the target: it may quote a secret
    return r.status;
  };
  const auto now = [] {
    return vigie::from_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
  };
  const std::string signing_secret = plant("slack", "signing_secret").value;
  auto slash = [&](const std::string& text, const std::string& reply_to) {
    const std::string body =
        "command=%2Fvigie&channel_id=C0OPS&user_id=U0ALICE&text=" + form_encode(text) +
        "&response_url=" + form_encode(fakes.slack.response_url(reply_to)) + "&trigger_id=t-" +
        reply_to;
    std::map<std::string, std::string> headers{
        {"Content-Type", "application/x-www-form-urlencoded"}};
    for (const auto& [k, v] : FakeSlack::signed_headers(signing_secret, body, now()))
      headers[k] = v;
    return call("POST", "/slack/commands", body, headers);
  };

  // Collectors poll upstreams that refuse their tokens (401).
  for (int i = 0; i < 200; ++i) {
    if (!fakes.sentry.requests().empty() && !fakes.newrelic.requests().empty() &&
        !fakes.papertrail.requests().empty())
      break;
    std::this_thread::sleep_for(50ms);
  }
  CHECK_FALSE(fakes.sentry.requests().empty());
  CHECK_FALSE(fakes.newrelic.requests().empty());
  CHECK_FALSE(fakes.papertrail.requests().empty());

  // An alert's post is refused by Slack (invalid_auth), the next one goes through.
  fakes.slack.fail_next("chat.postMessage", 200, "invalid_auth");
  CHECK(call("POST", "/api/v2/alerts",
             R"([{"labels":{"alertname":"DiskFull","instance":"db1"}}])") == 200);
  REQUIRE(fakes.slack.wait_for_request(
      [](const FakeSlack::Request& r) { return r.error == "invalid_auth"; }, 10s));
  CHECK(call("POST", "/api/v2/alerts",
             R"([{"labels":{"alertname":"DiskFull","instance":"db2"}}])") == 200);
  CHECK(fakes.slack.wait_for_request(
      [](const FakeSlack::Request& r) {
        return r.method == "chat.postMessage" && r.status == 200 && r.error.empty();
      },
      10s));

  // The webhook: a wrong HMAC, a wrong token, and a right request whose body — the user's own
  // data — carries a planted value.
  const std::string hmac = plant("webhooks", "hmac_secret").value;
  const std::string shared = plant("webhooks", "shared_secret").value;
  const std::string user_posted = plant("collector:newrelic", "api_key").value;
  const std::string deploy = json{{"deploy_id", "d1"}, {"note", user_posted}}.dump();
  CHECK(call("POST", "/webhooks/deploys", deploy,
             {{"Content-Type", "application/json"},
              {"X-Signature-256", "sha256=" + vigie::net::hmac_sha256_hex("guess", deploy)},
              {"X-Webhook-Token", shared}}) == 401);
  CHECK(call("POST", "/webhooks/deploys", deploy,
             {{"Content-Type", "application/json"},
              {"X-Signature-256", "sha256=" + vigie::net::hmac_sha256_hex(hmac, deploy)},
              {"X-Webhook-Token", "guess"}}) == 401);
  CHECK(call("POST", "/webhooks/deploys", deploy,
             {{"Content-Type", "application/json"},
              {"X-Signature-256", "sha256=" + vigie::net::hmac_sha256_hex(hmac, deploy)},
              {"X-Webhook-Token", shared}}) == 200);
  // A forged Slack request, and a path that does not exist.
  CHECK(call("POST", "/slack/commands", "command=%2Fvigie&text=whoami",
             {{"X-Slack-Signature", "v0=" + std::string(64, '0')}}) == 401);
  CHECK(call("GET", "/nope?token=" + form_encode(hmac)) == 404);

  // Chat commands quoting secrets, and every action: each provider refuses its token, the http
  // target echoes its headers, the exec action prints every planted variable it is given.
  // echo-exec runs last: the values it prints are then all known to the worker (an http action's
  // secrets are read when it is first built, so an exec printing them before would show them).
  const std::vector<std::string> runs{"echo-http",      "restart-heroku", "reboot-do", "reboot-rax",
                                      "resolve-sentry", "ack-newrelic",   "echo-exec"};
  CHECK(slash("ack " + plant("provider:heroku", "token").value, "quote-1") == 200);
  CHECK(slash("run echo-exec note=" + plant("provider:digitalocean", "token").value, "quote-2") ==
        200);
  auto results = [&] {
    std::size_t n = 0;
    for (const auto& r : fakes.slack.requests()) {
      const std::string text = r.args.value("text", "");
      if (text.find(" finished.") != std::string::npos ||
          text.find(" failed: ") != std::string::npos)
        ++n;
    }
    return n;
  };
  auto wait_results = [&](std::size_t n) {
    for (int i = 0; i < 300 && results() < n; ++i) std::this_thread::sleep_for(100ms);
    return results() >= n;
  };
  for (std::size_t i = 0; i + 1 < runs.size(); ++i)
    CHECK(slash("run " + runs[i], "run-" + runs[i]) == 200);
  CHECK(wait_results(runs.size() - 1));
  CHECK(slash("run echo-exec", "run-echo-exec") == 200);
  CHECK(wait_results(runs.size()));
  CHECK(fakes.slack.wait_for_request(
      [](const FakeSlack::Request& r) { return r.path == "/response/quote-1"; }, 5s));
  CHECK(fakes.slack.wait_for_request(
      [](const FakeSlack::Request& r) { return r.path == "/response/quote-2"; }, 5s));
  CHECK(fakes.echo.count("GET", "/hook") >= 1);
  // The actions did print the secrets, and Vigie blanked them (so the sweep below means something).
  auto posted = [&](const std::string& needle) {
    for (const auto& r : fakes.slack.requests()) {
      if (r.args.dump().find(needle) != std::string::npos) return true;
    }
    return false;
  };
  CHECK(posted("leaked: [redacted] [redacted]"));
  CHECK(posted("Authorization: [redacted]"));

  CHECK(call("GET", "/metrics") == 200);
  CHECK(call("GET", "/healthz") == 200);
  vigie->signal(SIGTERM);
  CHECK(vigie->wait(15000) == 0);

  const std::string logs = slurp(dir / "out.log") + slurp(dir / "err.log");
  CHECK_FALSE(logs.empty());
  check_no_secret("the daemon's logs", logs, plants);
  check_no_secret("the HTTP answers (errors, /metrics, /healthz)", answers, plants);
  CHECK(answers.find("vigie_") != std::string::npos);  // /metrics was read

  auto audit = run_process({kBinary, "audit", "-c", config, "--json"}, {}, 30);
  CHECK(audit.exit_code == 0);
  CHECK(audit.out.find("U0ALICE") != std::string::npos);
  CHECK(audit.out.find("action_result") != std::string::npos);
  check_no_secret("vigie audit --json", audit.out + audit.err, plants);
  auto alerts = run_process({kBinary, "alerts", "-c", config, "--json"}, {}, 30);
  CHECK(alerts.exit_code == 0);
  check_no_secret("vigie alerts --json", alerts.out + alerts.err, plants);
  // Events: the webhook body the user posted is their data and is stored as sent; every other
  // event — action.finished with its output and reason above all — holds no planted value.
  auto events = run_process({kBinary, "events", "-c", config, "--json", "--limit", "1000"}, {}, 30);
  CHECK(events.exit_code == 0);
  const auto stored = json::parse(events.out, nullptr, false);
  REQUIRE(stored.is_array());
  bool saw_user_post = false, saw_action = false;
  for (const auto& e : stored) {
    const std::string kind = e.value("kind", "");
    if (kind == "deploy.finished") {
      saw_user_post = e.dump().find(user_posted) != std::string::npos;
      check_no_secret("the user's webhook event", e.dump(), plants, {user_posted});
    } else {
      if (kind == "action.finished") saw_action = true;
      check_no_secret("stored event " + e.dump(), e.dump(), plants);
    }
  }
  CHECK(saw_user_post);
  CHECK(saw_action);

  // Slack: no payload carries any planted value; the bot token only in its Authorization header.
  std::set<std::string> slack_auth{plant("slack", "token").value,
                                   plant("slack", "app_token").value};
  for (const auto& r : fakes.slack.requests()) {
    check_no_secret("a Slack payload to " + r.path, r.path + "\n" + r.body + "\n" + r.args.dump(),
                    plants);
    check_no_secret("a Slack request's headers", headers_text(r.headers), plants, slack_auth);
  }
  // Every other upstream sees its own secret only.
  auto own = [&](std::initializer_list<std::pair<const char*, const char*>> list) {
    std::set<std::string> s;
    for (const auto& [t, o] : list) s.insert(plant(t, o).value);
    return s;
  };
  for (const auto& r : fakes.sentry.requests()) {
    check_no_secret("a request to Sentry (collector)",
                    r.path + r.query + headers_text(r.headers) + r.body, plants,
                    own({{"collector:sentry", "token"}}));
  }
  for (const auto& r : fakes.newrelic.requests()) {
    check_no_secret("a request to NewRelic (collector)",
                    r.path + r.query + headers_text(r.headers) + r.body, plants,
                    own({{"collector:newrelic", "api_key"}}));
  }
  for (const auto& r : fakes.papertrail.requests()) {
    check_no_secret("a request to Papertrail", r.target + headers_text(r.headers), plants,
                    own({{"collector:papertrail", "token"}}));
  }
  auto recorded = [&](const char* what, const std::vector<RecordedRequest>& reqs,
                      std::set<std::string> allowed) {
    for (const auto& r : reqs)
      check_no_secret(what, r.path + r.query + headers_text(r.headers) + r.body, plants, allowed);
  };
  recorded("a request to Heroku", fakes.heroku.requests(), own({{"provider:heroku", "token"}}));
  recorded("a request to DigitalOcean", fakes.digitalocean.requests(),
           own({{"provider:digitalocean", "token"}}));
  recorded("a request to Rackspace", fakes.rackspace.requests(),
           own({{"provider:rackspace", "api_key"}}));
  recorded("a request to the Sentry API", fakes.sentry_api.requests(),
           own({{"provider:sentry", "token"}}));
  recorded("a request to the NewRelic API", fakes.newrelic_api.requests(),
           own({{"provider:newrelic", "api_key"}}));
  recorded("the http action's request", fakes.echo.requests(),
           own({{"action:http", "auth"}, {"action:http", "secret_headers.X-Api-Key"}}));
  // Each provider was asked (and refused the planted token).
  CHECK_FALSE(fakes.heroku.requests().empty());
  CHECK_FALSE(fakes.digitalocean.requests().empty());
  CHECK_FALSE(fakes.rackspace.requests().empty());
  CHECK_FALSE(fakes.sentry_api.requests().empty());
  CHECK_FALSE(fakes.newrelic_api.requests().empty());

  for (const auto& p : plants) {
    if (!p.var.empty()) ::unsetenv(p.var.c_str());
  }
  fs::remove_all(dir);
}
