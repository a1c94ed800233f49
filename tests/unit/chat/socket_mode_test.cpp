// Slack Socket Mode against the fake Slack, with the real HTTP and WebSocket clients and a real
// store behind the sink: a slash command and a button click become stored chat.command /
// chat.action events and are acked (the slash command with its receipt), an envelope whose events
// were not stored is not acked, a redelivery is acked without being stored twice, a
// refresh_requested disconnect opens the new connection before closing the old one and loses or
// doubles no envelope, a dropped connection comes back with backoff on the FakeClock, garbage is
// skipped, neither the app token nor the connection URL is logged, and with a team_id envelopes
// of another workspace are acked but not stored.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "fake_slack.h"
#include "vigie/chat/socket_mode.h"
#include "vigie/net/http_client.h"
#include "vigie/store/store.h"

using namespace vigie;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::FakeSlack;

namespace {

const std::string kAppToken = "xapp-1-A0FAKE-socket-mode-test-token";

// Waits (bounded) for a condition another thread makes true.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
  for (auto waited = 0ms; waited < timeout; waited += 10ms) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

struct SocketWorld {
  FakeSlack slack{"xoxb-fake-bot", kAppToken};
  std::ostringstream log_out;
  std::shared_ptr<SecretRegistry> secrets = [] {
    auto s = std::make_shared<SecretRegistry>();
    s->add(kAppToken);
    return s;
  }();
  Logging logging{LogLevel::debug, secrets, log_out};
  FakeClock clock;
  Metrics metrics;
  std::mutex store_mutex;
  std::unique_ptr<store::Store> store;
  std::atomic<int> fail_stores{0};  // the next n sink calls fail as a full disk would
  std::atomic<int> sink_calls{0};
  std::unique_ptr<net::HttpClient> http;
  std::unique_ptr<chat::SocketModeClient> client;

  explicit SocketWorld(std::function<void(chat::SocketModeOptions&)> tune = {}) {
    auto s = store::Store::open(":memory:");
    REQUIRE(s);
    store = std::move(*s);
    net::HttpClientOptions ho;
    ho.request_timeout = 5s;
    http = net::make_http_client(ho, logging.logger("http"));
    chat::SocketModeOptions o;
    o.base_url = *net::parse_url(slack.base_url());
    o.app_token = kAppToken;
    o.websocket.connect_timeout = 5s;
    o.metrics = &metrics;
    if (tune) tune(o);
    client = std::make_unique<chat::SocketModeClient>(
        o, *http, clock, logging.logger("socket"),
        [this](std::vector<bus::Event> events) {
          ++sink_calls;
          if (fail_stores > 0) {
            --fail_stores;
            return false;
          }
          std::lock_guard lock(store_mutex);
          return store->insert_events(events).has_value();
        },
        [] { return 0.5; });  // every wait is 3/4 of its backoff step
  }
  ~SocketWorld() { client->stop(); }

  void connect() {
    client->start();
    REQUIRE(slack.wait_for_socket_connections(1, 5s));
    REQUIRE(eventually([&] { return client->status().state == "connected"; }));
  }

  std::vector<bus::Event> stored(const std::string& kind) {
    std::lock_guard lock(store_mutex);
    auto r = store->recent_events(kind, std::nullopt, 100);
    REQUIRE(r);
    return *r;
  }
};

json slash_payload(const std::string& text, const std::string& trigger) {
  return {{"command", "/vigie"},   {"text", text},
          {"user_id", "U0ALICE"},  {"channel_id", "C0OPS"},
          {"trigger_id", trigger}, {"response_url", "https://hooks.slack.com/commands/T1/1/x"},
          {"team_id", "T1"},       {"api_app_id", "A0FAKE"}};
}

json click_payload(const std::string& action_ts) {
  return {{"type", "block_actions"},
          {"user", {{"id", "U0BOB"}}},
          {"container",
           {{"type", "message"}, {"message_ts", "1767225600.000100"}, {"channel_id", "C0OPS"}}},
          {"channel", {{"id", "C0OPS"}}},
          {"response_url", "https://hooks.slack.com/actions/T1/1/y"},
          {"actions", json::array({{{"type", "button"},
                                    {"action_id", "vigie_ack"},
                                    {"value", "42"},
                                    {"action_ts", action_ts}}})}};
}

json mention_payload(const std::string& event_id) {
  return {{"type", "event_callback"},
          {"event_id", event_id},
          {"event",
           {{"type", "app_mention"},
            {"user", "U0ALICE"},
            {"channel", "C0OPS"},
            {"text", "<@U0VIGIE> alerts"},
            {"ts", "1767225600.000200"}}}};
}

}  // namespace

TEST_CASE(
    "a slash command and a button click over Socket Mode are stored as chat.command and "
    "chat.action, then acked") {
  SocketWorld w;
  w.connect();
  auto open = w.slack.wait_for_request(
      [](const FakeSlack::Request& r) { return r.method == "apps.connections.open"; }, 1s);
  REQUIRE(open);
  CHECK(open->headers.at("Authorization") == "Bearer " + kAppToken);

  const std::string cmd =
      w.slack.send_envelope("slash_commands", slash_payload("ack 42", "trig-1"), true);
  auto ack = w.slack.wait_for_ack(cmd, 5s);
  REQUIRE(ack);
  // The same receipt the HTTP endpoint answers with, in the ack's payload.
  CHECK(ack->at("payload") == json{{"response_type", "ephemeral"}, {"text", "On it…"}});
  auto commands = w.stored("chat.command");
  REQUIRE(commands.size() == 1);
  CHECK(commands[0].id == "slack:cmd:trig-1");
  CHECK(commands[0].attrs["text"] == "ack 42");
  CHECK(commands[0].attrs["user"] == "U0ALICE");
  CHECK(commands[0].attrs["via"] == "slash");

  const std::string click =
      w.slack.send_envelope("interactive", click_payload("1767225601.000300"), false);
  ack = w.slack.wait_for_ack(click, 5s);
  REQUIRE(ack);
  CHECK_FALSE(ack->contains("payload"));
  auto actions = w.stored("chat.action");
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].attrs["action_id"] == "vigie_ack");
  CHECK(actions[0].attrs["value"] == "42");
  CHECK(actions[0].attrs["user"] == "U0BOB");

  // A mention through the Events API, then Slack's retry of the same event_id: acked, stored once.
  const std::string first = w.slack.send_envelope("events_api", mention_payload("Ev42"));
  REQUIRE(w.slack.wait_for_ack(first, 5s));
  const std::string retry = w.slack.send_envelope("events_api", mention_payload("Ev42"), false, 1);
  REQUIRE(w.slack.wait_for_ack(retry, 5s));
  CHECK(w.stored("chat.command").size() == 2);
  CHECK(w.sink_calls == 3);
  CHECK(w.metrics.render().find("vigie_slack_socket_connected 1") != std::string::npos);
  CHECK(w.metrics.render().find("vigie_slack_socket_envelopes_total{type=\"slash_commands\"} 1") !=
        std::string::npos);

  w.client->stop();
  CHECK(w.client->status().state == "stopped");
  const std::string logs = w.log_out.str();
  CHECK(logs.find(kAppToken) == std::string::npos);
  CHECK(logs.find("ticket=") == std::string::npos);
}

TEST_CASE(
    "an envelope whose events cannot be stored is not acked, and Slack's redelivery is stored "
    "once") {
  SocketWorld w;
  w.connect();
  w.fail_stores = 1;
  const std::string lost =
      w.slack.send_envelope("slash_commands", slash_payload("alerts", "trig-7"), true);
  REQUIRE(eventually([&] { return w.client->status().envelopes_not_stored == 1; }));
  CHECK(w.slack.acks(lost) == 0);
  CHECK(w.stored("chat.command").empty());
  // Slack delivers it again: now stored and acked.
  const std::string again =
      w.slack.send_envelope("slash_commands", slash_payload("alerts", "trig-7"), true);
  REQUIRE(w.slack.wait_for_ack(again, 5s));
  CHECK(w.stored("chat.command").size() == 1);
  CHECK(w.log_out.str().find("Slack will deliver it again") != std::string::npos);
}

TEST_CASE(
    "refresh_requested opens the new connection before closing the old one, and no envelope around "
    "it is lost or doubled") {
  SocketWorld w;
  w.connect();
  const std::string before =
      w.slack.send_envelope("slash_commands", slash_payload("alerts", "trig-a"), true);
  REQUIRE(w.slack.wait_for_ack(before, 5s));

  w.slack.send_disconnect("refresh_requested");
  // Sent right behind the disconnect: on the old connection, or on the new one if it is already up.
  const std::string during =
      w.slack.send_envelope("interactive", click_payload("1767225700.000100"));
  REQUIRE(w.slack.wait_for_socket_connections(2, 5s));
  REQUIRE(w.slack.wait_for_ack(during, 5s));
  const std::string after =
      w.slack.send_envelope("slash_commands", slash_payload("rules", "trig-b"), true);
  REQUIRE(w.slack.wait_for_ack(after, 5s));

  // The replacement was accepted while the old connection was still open.
  const auto open_at = w.slack.open_socket_connections_at_connect();
  REQUIRE(open_at.size() == 2);
  CHECK(open_at[0] == 0);
  CHECK(open_at[1] == 1);
  CHECK(w.slack.count("apps.connections.open") == 2);
  // The old connection drains for a while (2 s of the injected clock), then is closed.
  CHECK(w.slack.open_socket_connections() == 2);
  w.clock.advance(2500ms);
  REQUIRE(eventually([&] { return w.slack.open_socket_connections() == 1; }));
  // The fake sees the close as soon as it is sent; the client counts it once its close returns.
  CHECK(eventually([&] { return w.client->status().open_connections == 1; }));

  for (const auto& id : {before, during, after}) CHECK(w.slack.acks(id) == 1);
  CHECK(w.stored("chat.command").size() == 2);
  CHECK(w.stored("chat.action").size() == 1);
  const auto st = w.client->status();
  CHECK(st.state == "connected");
  CHECK(st.reconnects == 1);
  CHECK(st.failures == 0);
  CHECK(w.metrics.render().find("vigie_slack_socket_reconnects_total 1") != std::string::npos);
}

TEST_CASE(
    "a dropped connection is opened again with exponential backoff and jitter on the injected "
    "clock") {
  SocketWorld w;
  w.connect();
  w.slack.drop_socket_connections();
  REQUIRE(eventually([&] { return w.client->status().state == "waiting"; }));
  auto st = w.client->status();
  REQUIRE(st.next_attempt);
  // First step 1 s, drawn at 3/4.
  CHECK(*st.next_attempt - w.clock.steady_now() == 750ms);
  CHECK(st.failures == 1);
  CHECK(w.metrics.render().find("vigie_slack_socket_connected 0") != std::string::npos);

  // Before the wait is over nothing is attempted; then the attempt fails (Slack answers 500).
  w.clock.advance(700ms);
  CHECK_FALSE(w.slack.wait_for_request([](const FakeSlack::Request&) { return false; }, 200ms));
  CHECK(w.slack.count("apps.connections.open") == 1);
  w.slack.fail_next("apps.connections.open", 500, "internal_error");
  w.clock.advance(50ms);
  REQUIRE(eventually([&] { return w.client->status().failures == 2; }));
  st = w.client->status();
  REQUIRE(st.next_attempt);
  CHECK(*st.next_attempt - w.clock.steady_now() == 1500ms);  // the step doubled
  CHECK(st.last_error.find("internal_error") != std::string::npos);
  CHECK(w.slack.count("apps.connections.open") == 2);

  w.clock.advance(1500ms);
  REQUIRE(w.slack.wait_for_socket_connections(2, 5s));
  REQUIRE(eventually([&] { return w.client->status().state == "connected"; }));
  CHECK(w.client->status().failures == 0);
  // The new connection works.
  const std::string cmd =
      w.slack.send_envelope("slash_commands", slash_payload("alerts", "trig-r"), true);
  REQUIRE(w.slack.wait_for_ack(cmd, 5s));
  CHECK(w.stored("chat.command").size() == 1);
  CHECK(chat::describe(w.client->status(), w.clock.steady_now())
            .rfind("connected (1 connection, 1 reconnects", 0) == 0);
}

TEST_CASE("a wrong app token is reported with its fix and retried with backoff, never logged") {
  SocketWorld w([](chat::SocketModeOptions& o) { o.app_token = "xoxb-fake-bot"; });
  w.client->start();
  REQUIRE(eventually([&] { return w.client->status().state == "waiting"; }));
  const auto st = w.client->status();
  CHECK(st.last_error.find("not_allowed_token_type") != std::string::npos);
  CHECK(st.last_error.find("xapp-") != std::string::npos);
  CHECK(w.slack.socket_connections() == 0);
}

TEST_CASE(
    "garbage on the socket is logged and skipped, never a crash, and the connection keeps "
    "working") {
  SocketWorld w;
  w.connect();
  w.slack.send_socket_text("this is not JSON");
  w.slack.send_socket_text("[1,2,3]");
  w.slack.send_socket_text(std::string(200, '['));
  w.slack.send_socket_text(R"({"type":"events_api","payload":{}})");  // no envelope_id
  w.slack.send_socket_text(R"({"envelope_id":"env-x","type":"mystery","payload":{}})");
  const std::string bad =
      w.slack.send_envelope("slash_commands", json{{"text", "no command field"}}, true);
  const std::string not_object = w.slack.send_envelope("interactive", json("a string"));
  const std::string good =
      w.slack.send_envelope("slash_commands", slash_payload("alerts", "trig-g"), true);
  REQUIRE(w.slack.wait_for_ack(good, 5s));
  // Acked so Slack stops resending what Vigie cannot use; nothing stored for them.
  CHECK(w.slack.acks("env-x") == 1);
  CHECK(w.slack.acks(bad) == 1);
  CHECK(w.slack.acks(not_object) == 1);
  CHECK(w.stored("chat.command").size() == 1);
  CHECK(w.client->status().state == "connected");
  CHECK(w.slack.socket_connections() == 1);
  const std::string logs = w.log_out.str();
  CHECK(logs.find("not a JSON object") != std::string::npos);
  CHECK(logs.find("unknown type") != std::string::npos);
  CHECK(logs.find("without envelope_id") != std::string::npos);
}

TEST_CASE(
    "Socket Mode messages of the wrong shape are told apart without throwing: a hello or an "
    "envelope with fields of the wrong type once threw and cost the connection") {
  using vigie::chat::parse_socket_message;
  using What = vigie::chat::SocketMessage::What;
  auto hello = parse_socket_message(
      R"({"type":"hello","num_connections":"one","debug_info":{"approximate_connection_time":"x"}})");
  CHECK(hello.what == What::hello);
  CHECK(hello.num_connections == 0);
  auto envelope = parse_socket_message(
      R"({"envelope_id":"e4","type":"events_api","accepts_response_payload":"yes","retry_attempt":"2","payload":{"event_id":7}})");
  CHECK(envelope.what == What::request);
  CHECK_FALSE(envelope.accepts_response_payload);
  CHECK(envelope.inbound.retry_num == 0);
  CHECK(envelope.event_id.empty());
  CHECK(parse_socket_message("[1,2]").what == What::not_json);
  CHECK(parse_socket_message(std::string(100000, '[')).what == What::not_json);
  CHECK(parse_socket_message(R"({"type":"events_api"})").what == What::no_envelope_id);
  CHECK(parse_socket_message(R"({"type":"nope","envelope_id":"e"})").what == What::unknown_type);
  CHECK(parse_socket_message(R"({"type":"slash_commands","envelope_id":"e","payload":{}})").what ==
        What::malformed_payload);
  CHECK(parse_socket_message(R"({"type":"interactive","envelope_id":"e","payload":"x"})").what ==
        What::malformed_payload);
  auto d = parse_socket_message(R"({"type":"disconnect","reason":"warning"})");
  CHECK(d.what == What::disconnect);
  CHECK(d.reason == "warning");
}

TEST_CASE(
    "with a team_id, envelopes of another workspace or naming none are acked but not stored, the "
    "workspace's are, and hello and disconnect (no team) still work") {
  SocketWorld w([](chat::SocketModeOptions& o) { o.team_id = "T1"; });
  w.connect();  // hello names no team
  auto with_team = [](json payload, const char* key, const std::string& team) {
    if (team.empty()) return payload;
    if (std::string(key) == "team") {
      payload["team"] = {{"id", team}};
    } else {
      payload["team_id"] = team;
    }
    return payload;
  };
  auto slash = [&](const std::string& trigger, const std::string& team) {
    auto p = slash_payload("ack 42", trigger);
    p.erase("team_id");
    return with_team(p, "team_id", team);
  };
  std::vector<std::string> refused;
  for (const std::string team : {"T0OTHER", ""}) {
    refused.push_back(w.slack.send_envelope("slash_commands", slash("trig-x" + team, team), true));
    refused.push_back(w.slack.send_envelope(
        "interactive",
        with_team(click_payload("1767225601.00" + std::to_string(refused.size())), "team", team)));
    refused.push_back(w.slack.send_envelope(
        "events_api", with_team(mention_payload("EvX" + team), "team_id", team)));
  }
  const std::string ours_cmd =
      w.slack.send_envelope("slash_commands", slash("trig-ours", "T1"), true);
  const std::string ours_click = w.slack.send_envelope(
      "interactive", with_team(click_payload("1767225609.000100"), "team", "T1"));
  const std::string ours_mention =
      w.slack.send_envelope("events_api", with_team(mention_payload("EvOurs"), "team_id", "T1"));
  REQUIRE(w.slack.wait_for_ack(ours_mention, 5s));
  // Envelopes are handled in order on one connection: every refused one was acked before.
  for (const auto& id : refused) {
    auto ack = w.slack.wait_for_ack(id, 1s);
    REQUIRE(ack);
    CHECK_FALSE(ack->contains("payload"));  // no "On it…" receipt for a refused command
  }
  auto cmd_ack = w.slack.wait_for_ack(ours_cmd, 1s);
  REQUIRE(cmd_ack);
  CHECK(cmd_ack->contains("payload"));
  REQUIRE(w.slack.wait_for_ack(ours_click, 1s));
  const auto commands = w.stored("chat.command");
  REQUIRE(commands.size() == 2);
  for (const auto& c : commands) CHECK((c.id == "slack:cmd:trig-ours" || c.id == "slack:EvOurs"));
  REQUIRE(w.stored("chat.action").size() == 1);
  CHECK(w.sink_calls == 3);  // the refused ones never reached the sink
  CHECK(w.metrics.render().find(
            R"(vigie_slack_requests_refused_total{reason="team",transport="socket"} 6)") !=
        std::string::npos);
  CHECK(w.log_out.str().find("not from the workspace in [slack] team_id") != std::string::npos);

  // A refresh (disconnect, no team) still opens the new connection, and it takes our envelopes.
  w.slack.send_disconnect("refresh_requested");
  REQUIRE(w.slack.wait_for_socket_connections(2, 5s));
  const std::string after =
      w.slack.send_envelope("slash_commands", slash("trig-after", "T1"), true);
  REQUIRE(w.slack.wait_for_ack(after, 5s));
  CHECK(w.stored("chat.command").size() == 3);
}
