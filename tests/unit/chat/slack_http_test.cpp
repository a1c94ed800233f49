// Slack's HTTP endpoints: the signature gate (forged, stale, body-modified, missing → 401 and no
// event), URL verification, Events API dedup by event_id, bot messages and subtypes ignored,
// mentions, DMs, slash commands and button clicks turned into chat.command / chat.action events;
// with [slack] team_id, requests of another workspace (or naming none) refused with 403.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <sstream>

#include "fake_slack.h"
#include "vigie/chat/slack_http.h"
#include "vigie/net/http.h"

using namespace vigie;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::FakeSlack;

namespace {

const std::string kSecret = "8f742231b10e8888abcd99yyyzzz85a5";

struct Fixture {
  std::ostringstream log_out;
  std::shared_ptr<SecretRegistry> secrets = [] {
    auto s = std::make_shared<SecretRegistry>();
    s->add(kSecret);
    return s;
  }();
  Logging logging{LogLevel::info, secrets, log_out};
  FakeClock clock;
  Metrics metrics;
  chat::SlackHttpEndpoints endpoints;

  // `team_id`: [slack] team_id ("" = unset, any workspace's requests are taken).
  explicit Fixture(std::string team_id = {})
      : endpoints(kSecret, clock, logging.logger("slack"), {std::move(team_id), &metrics}) {}

  net::HttpRequest request(const std::string& path, const std::string& body, net::Headers headers) {
    net::HttpRequest r;
    r.method = "POST";
    r.path = r.target = path;
    r.body = body;
    r.headers = std::move(headers);
    r.remote = "127.0.0.1";
    return r;
  }
  net::HttpRequest signed_request(const std::string& path, const std::string& body, Duration age = 0s) {
    return request(path, body, FakeSlack::signed_headers(kSecret, body, clock.system_now() - age));
  }
  chat::SlackHttpOutcome handle(const net::HttpRequest& r) {
    auto out = endpoints.handle(r);
    REQUIRE(out);
    return *out;
  }
};

std::string mention_body(const std::string& event_id, json extra = json::object()) {
  json event{{"type", "app_mention"}, {"user", "U0ALICE"}, {"text", "<@U0VIGIE> restart shop-api"},
             {"ts", "1767225600.000200"}, {"channel", "C0OPS"}, {"event_ts", "1767225600.000200"}};
  event.update(extra);
  return json{{"type", "event_callback"}, {"team_id", "T1"}, {"event_id", event_id}, {"event", event}}.dump();
}

std::string form_encode(const std::string& s) {
  std::string out;
  const char* hex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string click_body(const std::string& action_id, const std::string& value) {
  json payload{{"type", "block_actions"},
               {"user", {{"id", "U0BOB"}, {"username", "bob"}}},
               {"container", {{"type", "message"}, {"message_ts", "1767225600.000100"}, {"channel_id", "C0OPS"}}},
               {"channel", {{"id", "C0OPS"}, {"name", "ops"}}},
               {"response_url", "https://hooks.slack.com/actions/T1/1/abc"},
               {"actions", json::array({{{"type", "button"}, {"action_id", action_id}, {"value", value},
                                         {"action_ts", "1767225601.000300"}}})}};
  return "payload=" + form_encode(payload.dump());
}

}  // namespace

TEST_CASE("a forged, stale, body-modified or unsigned Slack request gets 401 and produces no event") {
  Fixture f;
  const std::string body = mention_body("Ev01");

  SECTION("forged: signed with another secret") {
    auto r = f.request("/slack/events", body, FakeSlack::signed_headers("not-the-secret", body, f.clock.system_now()));
    auto out = f.handle(r);
    CHECK(out.response.status == 401);
    CHECK(out.events.empty());
  }
  SECTION("stale: signed six minutes ago") {
    auto out = f.handle(f.signed_request("/slack/events", body, 6min));
    CHECK(out.response.status == 401);
    CHECK(out.events.empty());
    CHECK(out.response.body.find("5-minute window") != std::string::npos);
  }
  SECTION("body modified after signing") {
    auto r = f.signed_request("/slack/events", body);
    r.body = mention_body("Ev01", {{"text", "<@U0VIGIE> delete everything"}});
    auto out = f.handle(r);
    CHECK(out.response.status == 401);
    CHECK(out.events.empty());
  }
  SECTION("no signature headers") {
    auto out = f.handle(f.request("/slack/commands", "command=%2Fvigie&text=help", {}));
    CHECK(out.response.status == 401);
    CHECK(out.events.empty());
  }
  // The refusal is logged, and the secret never is.
  CHECK(f.log_out.str().find("Slack request refused") != std::string::npos);
  CHECK(f.log_out.str().find(kSecret) == std::string::npos);
}

TEST_CASE("a signed request four minutes old is still accepted (Slack's window is five)") {
  Fixture f;
  auto out = f.handle(f.signed_request("/slack/events", mention_body("Ev02"), 4min));
  CHECK(out.response.status == 200);
  CHECK(out.events.size() == 1);
}

TEST_CASE("URL verification answers the challenge once the request is signed") {
  Fixture f;
  const std::string body = R"({"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"})";
  auto out = f.handle(f.signed_request("/slack/events", body));
  CHECK(out.response.status == 200);
  CHECK(json::parse(out.response.body)["challenge"] == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
  CHECK(out.events.empty());
}

TEST_CASE("an app_mention becomes one chat.command without the bot's mention, and Slack's retry is acked, not redone") {
  Fixture f;
  auto first = f.handle(f.signed_request("/slack/events", mention_body("Ev03")));
  REQUIRE(first.response.status == 200);
  REQUIRE(first.events.size() == 1);
  const auto& e = first.events[0];
  CHECK(e.kind == "chat.command");
  CHECK(e.source == "slack");
  CHECK(e.id == "slack:Ev03");
  CHECK(e.attrs["text"] == "restart shop-api");
  CHECK(e.attrs["user"] == "U0ALICE");
  CHECK(e.attrs["channel"] == "C0OPS");
  CHECK(e.attrs["via"] == "mention");
  first.on_stored();  // what the HTTP layer does once the event is committed

  auto retry_req = f.signed_request("/slack/events", mention_body("Ev03"));
  retry_req.headers["X-Slack-Retry-Num"] = "1";
  retry_req.headers["X-Slack-Retry-Reason"] = "http_timeout";
  auto retry = f.handle(retry_req);
  CHECK(retry.response.status == 200);
  CHECK(retry.events.empty());
}

TEST_CASE("a delivery that could not be stored is taken again when Slack retries it, not lost as a duplicate") {
  Fixture f;
  auto first = f.handle(f.signed_request("/slack/events", mention_body("Ev04")));
  REQUIRE(first.events.size() == 1);
  // The store failed: the HTTP layer answered 503 and never called on_stored().
  auto retry_req = f.signed_request("/slack/events", mention_body("Ev04"));
  retry_req.headers["X-Slack-Retry-Num"] = "1";
  auto retry = f.handle(retry_req);
  CHECK(retry.response.status == 200);
  REQUIRE(retry.events.size() == 1);
  CHECK(retry.events[0].id == "slack:Ev04");
  retry.on_stored();
  auto again = f.handle(f.signed_request("/slack/events", mention_body("Ev04")));
  CHECK(again.events.empty());
}

TEST_CASE("a direct message is a command but bot messages, edits and channel chatter are ignored") {
  Fixture f;
  auto dm = f.handle(f.signed_request(
      "/slack/events", mention_body("Ev10", {{"type", "message"}, {"channel_type", "im"}, {"text", "status shop-api"}})));
  REQUIRE(dm.events.size() == 1);
  CHECK(dm.events[0].attrs["via"] == "dm");
  CHECK(dm.events[0].attrs["text"] == "status shop-api");

  auto bot = f.handle(f.signed_request("/slack/events", mention_body("Ev11", {{"bot_id", "B0VIGIE"}})));
  CHECK(bot.response.status == 200);
  CHECK(bot.events.empty());
  auto edit = f.handle(f.signed_request("/slack/events", mention_body("Ev12", {{"subtype", "message_changed"}})));
  CHECK(edit.events.empty());
  auto chatter = f.handle(f.signed_request(
      "/slack/events", mention_body("Ev13", {{"type", "message"}, {"channel_type", "channel"}})));
  CHECK(chatter.events.empty());
}

TEST_CASE("a slash command is acked at once with an ephemeral receipt and becomes a chat.command") {
  Fixture f;
  const std::string body =
      "token=x&team_id=T1&channel_id=C0OPS&user_id=U0ALICE&user_name=alice&command=%2Fvigie&text=silence+"
      "%22disk+full%22+2h&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F1%2Fxyz&trigger_id=398.47.803a";
  auto out = f.handle(f.signed_request("/slack/commands", body));
  CHECK(out.response.status == 200);
  CHECK(json::parse(out.response.body)["response_type"] == "ephemeral");
  REQUIRE(out.events.size() == 1);
  const auto& e = out.events[0];
  CHECK(e.kind == "chat.command");
  CHECK(e.id == "slack:cmd:398.47.803a");
  CHECK(e.attrs["text"] == "silence \"disk full\" 2h");
  CHECK(e.attrs["command"] == "/vigie");
  CHECK(e.attrs["response_url"] == "https://hooks.slack.com/commands/T1/1/xyz");
  CHECK(e.attrs["via"] == "slash");
}

TEST_CASE("a button click becomes a chat.action naming the user, the message and the alert") {
  Fixture f;
  auto out = f.handle(f.signed_request("/slack/interactive", click_body("vigie_ack", "42")));
  CHECK(out.response.status == 200);
  REQUIRE(out.events.size() == 1);
  const auto& e = out.events[0];
  CHECK(e.kind == "chat.action");
  CHECK(e.attrs["user"] == "U0BOB");
  CHECK(e.attrs["channel"] == "C0OPS");
  CHECK(e.attrs["message_ts"] == "1767225600.000100");
  CHECK(e.attrs["action_id"] == "vigie_ack");
  CHECK(e.attrs["value"] == "42");
  // A retried click carries the same action_ts: same event id, so the store deduplicates it.
  auto again = f.handle(f.signed_request("/slack/interactive", click_body("vigie_ack", "42")));
  REQUIRE(again.events.size() == 1);
  CHECK(again.events[0].id == e.id);
}

TEST_CASE("malformed but signed Slack bodies get a 400 with a JSON error, and other paths are not Slack's") {
  Fixture f;
  auto bad_json = f.handle(f.signed_request("/slack/events", "{not json"));
  CHECK(bad_json.response.status == 400);
  CHECK(json::parse(bad_json.response.body).contains("error"));
  auto no_payload = f.handle(f.signed_request("/slack/interactive", "foo=bar"));
  CHECK(no_payload.response.status == 400);
  auto not_command = f.handle(f.signed_request("/slack/commands", "text=hello"));
  CHECK(not_command.response.status == 400);
  auto get = f.request("/slack/events", "", {});
  get.method = "GET";
  CHECK(f.handle(get).response.status == 405);
  CHECK_FALSE(f.endpoints.handle(f.signed_request("/webhooks/sentry", "{}")));
}

TEST_CASE("a Slack command quoting a known secret is stored with the secret blanked, other values untouched") {
  SecretRegistry secrets;
  secrets.add("xoxb-planted-secret-1");
  bus::Event e;
  e.kind = "chat.command";
  e.attrs = {{"text", "ack xoxb-planted-secret-1 now"},
             {"nested", {{"list", json::array({"xoxb-planted-secret-1", 3})}}},
             {"user", "U0ALICE"},
             {"count", 2}};
  std::vector<bus::Event> events{e};
  chat::redact_secrets(events, secrets);
  CHECK(events[0].attrs["text"] == "ack [redacted] now");
  CHECK(events[0].attrs["nested"]["list"][0] == "[redacted]");
  CHECK(events[0].attrs["nested"]["list"][1] == 3);
  CHECK(events[0].attrs["user"] == "U0ALICE");
  CHECK(events[0].attrs["count"] == 2);
  CHECK(events[0].attrs.dump().find("planted") == std::string::npos);
}

namespace {

// One signed request of each inbound kind, naming `team` (none when empty).
std::string event_with_team(const std::string& event_id, const std::string& team) {
  auto body = json::parse(mention_body(event_id));
  body.erase("team_id");
  if (!team.empty()) body["team_id"] = team;
  return body.dump();
}
std::string command_with_team(const std::string& trigger, const std::string& team) {
  return "command=%2Fvigie&text=ack+42&user_id=U0ALICE&channel_id=C0OPS&trigger_id=" + trigger +
         (team.empty() ? "" : "&team_id=" + team);
}
std::string interaction_with_team(const std::string& type, const std::string& action_ts,
                                  const std::string& team) {
  json payload{
      {"type", type},
      {"user", {{"id", "U0BOB"}, {"team_id", team.empty() ? "T1" : team}}},
      {"container",
       {{"type", "message"}, {"message_ts", "1767225600.000100"}, {"channel_id", "C0OPS"}}},
      {"actions", json::array({{{"type", "button"},
                                {"action_id", "vigie_ack"},
                                {"value", "42"},
                                {"action_ts", action_ts}}})}};
  if (type == "view_submission") {
    payload.erase("actions");
    payload["view"] = {{"id", "V1"}, {"callback_id", "vigie"}};
  }
  if (!team.empty()) payload["team"] = {{"id", team}, {"domain", "ops"}};
  return "payload=" + form_encode(payload.dump());
}

}  // namespace

TEST_CASE(
    "with [slack] team_id, each kind of request from that workspace is taken and from another, or "
    "naming none, gets 403 and no event") {
  Fixture f("T1");
  struct Case {
    const char* name;
    const char* path;
    std::function<std::string(const std::string& id, const std::string& team)> body;
    std::size_t events;  // what the workspace's own request produces
  };
  const std::vector<Case> cases{
      {"Events API", "/slack/events", event_with_team, 1},
      {"slash command", "/slack/commands", command_with_team, 1},
      {"button click", "/slack/interactive",
       [](const std::string& id, const std::string& team) {
         return interaction_with_team("block_actions", id, team);
       },
       1},
      {"view submission", "/slack/interactive",
       [](const std::string& id, const std::string& team) {
         return interaction_with_team("view_submission", id, team);
       },
       0},
  };
  int n = 0;
  for (const auto& c : cases) {
    INFO(c.name);
    const std::string id = "17672256" + std::to_string(++n);
    auto ours = f.handle(f.signed_request(c.path, c.body(id + "1", "T1")));
    CHECK(ours.response.status == 200);
    CHECK(ours.events.size() == c.events);
    for (const std::string team : {"T0OTHER", ""}) {
      INFO("team: '" << team << "'");
      auto theirs = f.handle(f.signed_request(c.path, c.body(id + "2", team)));
      CHECK(theirs.response.status == 403);
      CHECK(json::parse(theirs.response.body)["error"] == "workspace not allowed");
      CHECK(theirs.events.empty());
      // Events API deliveries are retried on a non-2xx unless told not to.
      CHECK(std::count(theirs.response.headers.begin(), theirs.response.headers.end(),
                       std::pair<std::string, std::string>{"X-Slack-No-Retry", "1"}) == 1);
    }
  }
  const std::string logs = f.log_out.str();
  CHECK(logs.find("not from the workspace in [slack] team_id") != std::string::npos);
  CHECK(logs.find("T0OTHER") != std::string::npos);
  CHECK(logs.find(kSecret) == std::string::npos);
  CHECK(f.metrics.render().find(
            R"(vigie_slack_requests_refused_total{reason="team",transport="http"} 8)") !=
        std::string::npos);
}

TEST_CASE(
    "a refused delivery is not remembered: the same event_id from the workspace is still taken") {
  Fixture f("T1");
  CHECK(f.handle(f.signed_request("/slack/events", event_with_team("Ev70", "T0OTHER")))
            .response.status == 403);
  auto ours = f.handle(f.signed_request("/slack/events", event_with_team("Ev70", "T1")));
  CHECK(ours.response.status == 200);
  CHECK(ours.events.size() == 1);
}

TEST_CASE("with [slack] team_id, URL verification (which names no team) is still answered") {
  Fixture f("T1");
  auto out = f.handle(f.signed_request(
      "/slack/events", R"({"token":"t","challenge":"c-123","type":"url_verification"})"));
  CHECK(out.response.status == 200);
  CHECK(json::parse(out.response.body)["challenge"] == "c-123");
}

TEST_CASE(
    "without [slack] team_id, requests of any workspace are taken, and a signature failure is "
    "counted") {
  Fixture f;
  CHECK(f.handle(f.signed_request("/slack/events", event_with_team("Ev71", "T0OTHER")))
            .events.size() == 1);
  CHECK(
      f.handle(f.signed_request("/slack/commands", command_with_team("t-71", ""))).events.size() ==
      1);
  auto forged = f.request("/slack/events", "{}",
                          FakeSlack::signed_headers("wrong", "{}", f.clock.system_now()));
  CHECK(f.handle(forged).response.status == 401);
  const std::string m = f.metrics.render();
  CHECK(m.find(R"(vigie_slack_requests_refused_total{reason="signature",transport="http"} 1)") !=
        std::string::npos);
  CHECK(m.find(R"(reason="team")") == std::string::npos);
}
