// Slack end to end with the real modules on an injected clock: the engine's notify jobs go
// through the delivery queue and the real HTTP client to the fake Slack; clicks come back through
// the signed HTTP endpoints and act on the engine. What a user sees in the channel is asserted
// on the fake's record of messages, edits and thread replies.
#include <catch2/catch.hpp>

#include "slack_world.h"

using namespace vigie;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::FakeSlack;
using testing::kBotToken;
using testing::kSigningSecret;
using testing::SlackWorld;

TEST_CASE("an alert posts one message, ten re-fires edit it in place, an ack click shows who acked, resolving edits it and replies in the thread") {
  SlackWorld w;
  w.disk("web-1", 97);
  w.settle();
  REQUIRE(w.slack.count("chat.postMessage") == 1);
  auto posted = w.slack.messages();
  REQUIRE(posted.size() == 1);
  const auto ts = posted[0].ts;
  CHECK(posted[0].channel == "C0OPS");
  CHECK(posted[0].text.find("disk full on web-1") != std::string::npos);
  CHECK(SlackWorld::has_button(posted[0], "vigie_ack"));
  CHECK(SlackWorld::has_button(posted[0], "vigie_resolve"));
  // The engine learnt where the message is (a result event carries the ts).
  const auto alert_id = w.only_alert_id();
  REQUIRE(w.store->find_alert(alert_id));

  for (int i = 0; i < 10; ++i) {
    w.clock.advance(1min);
    w.disk("web-1", 97 + (i % 2));
    w.settle();
  }
  std::size_t top_level_posts = 0;
  for (const auto& r : w.slack.requests()) top_level_posts += r.method == "chat.postMessage" && !r.args.contains("thread_ts");
  CHECK(top_level_posts == 1);  // still one message; new occurrences are thread replies
  CHECK(w.slack.messages().size() == 1);
  CHECK(w.slack.count("chat.update") >= 1);
  CHECK(w.slack.message("C0OPS", ts)->edits >= 1);

  // Bob presses Acknowledge: Slack signs the click; Vigie edits the message.
  const std::string body = SlackWorld::click_body("vigie_ack", alert_id, ts, "U0BOB", "1767226300.000100");
  CHECK(w.post_to_vigie("/slack/interactive", body, FakeSlack::signed_headers(kSigningSecret, body, w.clock.system_now())) == 200);
  w.settle();
  auto acked = *w.slack.message("C0OPS", ts);
  CHECK(SlackWorld::blocks_text(acked).find("Acknowledged by <@U0BOB>") != std::string::npos);
  CHECK_FALSE(SlackWorld::has_button(acked, "vigie_ack"));  // the buttons changed
  CHECK(SlackWorld::has_button(acked, "vigie_resolve"));

  // The disk recovers: the message says resolved, without buttons, and the thread says so.
  w.clock.advance(1min);
  w.disk("web-1", 50);
  w.settle();
  auto resolved = *w.slack.message("C0OPS", ts);
  CHECK(resolved.text.find("Resolved") != std::string::npos);
  CHECK_FALSE(SlackWorld::has_button(resolved, "vigie_resolve"));
  auto replies = w.slack.replies("C0OPS", ts);
  REQUIRE_FALSE(replies.empty());
  CHECK(replies.back().text.find("esolved") != std::string::npos);
  CHECK(w.slack.messages().size() == 1);
  CHECK(w.log_out.str().find(kBotToken) == std::string::npos);
}

TEST_CASE("a 429 with Retry-After 2 delays delivery by 2 s of the injected clock and loses nothing") {
  SlackWorld w;
  w.slack.fail_next("chat.postMessage", 429, "ratelimited", 2);
  w.disk("web-1", 97);
  w.pump_now();
  CHECK(w.slack.count("chat.postMessage") == 1);  // the refused call
  CHECK(w.slack.messages().empty());
  w.clock.advance(1900ms);
  w.pump_now();
  CHECK(w.slack.count("chat.postMessage") == 1);  // still waiting: Retry-After is honoured
  w.clock.advance(100ms);
  w.pump_now();
  CHECK(w.slack.count("chat.postMessage") == 2);
  REQUIRE(w.slack.messages().size() == 1);
  CHECK(w.slack.messages()[0].text.find("web-1") != std::string::npos);
  w.settle();
  CHECK(w.delivery->stats().rate_limited == 1);
}

TEST_CASE("200 alerts at once in one channel cost far fewer than 200 Slack calls, and every alert is shown") {
  SlackWorld w;
  for (int i = 0; i < 200; ++i) w.disk("host-" + std::to_string(i), 95);
  w.settle();
  const auto calls = w.slack.requests().size();
  INFO("Slack calls: " << calls);
  CHECK(calls < 40);
  // Every alert is named somewhere the team can read: a message or a digest's thread.
  std::string everything;
  for (const auto& m : w.slack.messages()) {
    everything += m.text + m.blocks.dump();
    for (const auto& r : w.slack.replies(m.channel, m.ts)) everything += r.text + r.blocks.dump();
  }
  for (int i = 0; i < 200; ++i) {
    INFO("host-" << i);
    // "host-1" must appear as itself, not only inside "host-10".
    const std::string name = "host-" + std::to_string(i);
    bool named = false;
    for (auto at = everything.find(name); at != std::string::npos && !named; at = everything.find(name, at + 1)) {
      const auto end = at + name.size();
      named = end == everything.size() || !std::isdigit(static_cast<unsigned char>(everything[end]));
    }
    CHECK(named);
  }
}

TEST_CASE("forged, stale or body-modified clicks are refused with 401 and change nothing") {
  SlackWorld w;
  w.disk("web-1", 97);
  w.settle();
  const auto alert_id = w.only_alert_id();
  const auto ts = w.slack.messages().at(0).ts;
  const auto calls_before = w.slack.requests().size();
  const std::string body = SlackWorld::click_body("vigie_resolve", alert_id, ts, "U0MALLORY", "1767226300.000200");

  CHECK(w.post_to_vigie("/slack/interactive", body, FakeSlack::signed_headers("guessed-secret", body, w.clock.system_now())) == 401);
  CHECK(w.post_to_vigie("/slack/interactive", body,
                        FakeSlack::signed_headers(kSigningSecret, body, w.clock.system_now() - 10min)) == 401);
  auto headers = FakeSlack::signed_headers(kSigningSecret, body, w.clock.system_now());
  const std::string modified = SlackWorld::click_body("vigie_resolve", alert_id, ts, "U0ADMIN", "1767226300.000200");
  CHECK(w.post_to_vigie("/slack/interactive", modified, headers) == 401);
  w.settle();

  CHECK(w.store->find_alert(alert_id)->value().state == "firing");
  CHECK(w.slack.requests().size() == calls_before);
  for (const auto& e : w.stored) CHECK(e.kind != "chat.action");
}
