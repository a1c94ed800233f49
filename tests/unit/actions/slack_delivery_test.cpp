// The Slack delivery queue on a FakeClock against a scripted Web API (no network): one post per
// alert, edits in place and coalesced, 429 Retry-After honoured on the injected clock, transient
// errors retried with backoff, permanent ones failed once with their fix, a message that can no
// longer be edited replaced, and an alert storm grouped into few calls.
#include <catch2/catch.hpp>

#include <deque>
#include <functional>
#include <mutex>
#include <sstream>
#include <utility>

#include "vigie/actions/slack_delivery.h"

using namespace vigie;
using namespace vigie::actions::slack;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Answers like Slack's Web API; a scripted answer per method goes first.
class ScriptedSlack : public net::HttpClient {
 public:
  struct Call {
    std::string method;
    json body;
    net::Headers headers;
  };
  struct Scripted {
    int status;
    json body;
    std::optional<std::string> retry_after;
  };
  tl::expected<net::ClientResponse, net::ClientError> send(const net::ClientRequest& r) override {
    if (while_in_flight)
      std::exchange(while_in_flight, nullptr)();  // something arrives during this call
    std::lock_guard lock(mutex_);
    const std::string method = r.url.target.substr(r.url.target.rfind('/') + 1);
    calls.push_back({method, json::parse(r.body), r.headers});
    net::ClientResponse resp;
    resp.status = 200;
    if (auto it = script.find(method); it != script.end() && !it->second.empty()) {
      auto s = it->second.front();
      it->second.pop_front();
      resp.status = s.status;
      resp.body = s.body.dump();
      if (s.retry_after) resp.headers["Retry-After"] = *s.retry_after;
      return resp;
    }
    const json& b = calls.back().body;
    if (method == "chat.postMessage") {
      const std::string ts = "1700000000." + std::to_string(100000 + ++next_ts);
      resp.body = json{{"ok", true}, {"channel", b["channel"]}, {"ts", ts}}.dump();
    } else {
      resp.body = json{{"ok", true}, {"channel", b.value("channel", "")}, {"ts", b.value("ts", "")}}.dump();
    }
    return resp;
  }
  std::size_t count(std::string_view method) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& c : calls) n += c.method == method;
    return n;
  }
  std::vector<Call> calls;
  std::map<std::string, std::deque<Scripted>> script;
  std::function<void()> while_in_flight;

 private:
  mutable std::mutex mutex_;
  int next_ts = 0;
};

struct Fixture {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  FakeClock clock;
  ScriptedSlack slack;
  std::unique_ptr<SlackDelivery> delivery;
  std::map<std::string, bus::JobResult> results;

  Fixture() {
    DeliveryOptions o;
    o.base_url = *net::parse_url("https://slack.example/api");
    o.token = "xoxb-secret-token";
    delivery = std::make_unique<SlackDelivery>(o, slack, clock, logging.logger("slack"), [] { return 1.0; });
  }
  void submit(const std::string& id, const json& payload) {
    bus::Job job{id, "notify", payload, 1, Duration{60'000}};
    delivery->submit(job, [this](bus::JobResult r) { results[r.job_id] = r; });
  }
};

json notice(std::int64_t alert, std::string type = "post", std::string state = "firing",
            std::optional<std::pair<std::string, std::string>> message = {}) {
  json p = {{"type", type},
            {"channels", {"C0OPS"}},
            {"alert", {{"id", alert}, {"rule", "disk-full"}, {"labels", {{"n", alert}}}, {"state", state}, {"count", 1}}},
            {"rule", {{"severity", "warning"}, {"summary", "disk"}, {"thread", "all"}}}};
  if (message) p["message"] = {{"channel", message->first}, {"ts", message->second}, {"digest", false}};
  return p;
}

}  // namespace

TEST_CASE("a post returns channel and ts for the engine, with a slack.delivered event, and the token as a header") {
  Fixture f;
  f.submit("notify:1:1", notice(1));
  CHECK_FALSE(f.delivery->pump().has_value());
  REQUIRE(f.results.count("notify:1:1"));
  const auto& r = f.results["notify:1:1"];
  CHECK(r.outcome == bus::JobOutcome::ok);
  CHECK(r.output["channel"] == "C0OPS");
  CHECK(r.output["alert_id"] == 1);
  CHECK(r.output["ts"] == "1700000000.100001");
  CHECK(r.output["event"]["kind"] == "slack.delivered");
  CHECK(f.slack.calls[0].headers["Authorization"] == "Bearer xoxb-secret-token");
  CHECK(f.slack.calls[0].body.contains("blocks"));
  CHECK_FALSE(f.slack.calls[0].body["text"].get<std::string>().empty());  // the fallback is always set
}

TEST_CASE("later notices edit the same message, and edits waiting together go as one call") {
  Fixture f;
  f.submit("notify:1:1", notice(1));
  f.delivery->pump();
  // Ten re-fires waiting at once (the engine knew no ts yet for some): one chat.update.
  for (int i = 2; i <= 11; ++i) f.submit("notify:1:" + std::to_string(i), notice(1, "update"));
  f.clock.advance(10s);
  f.delivery->pump();
  CHECK(f.slack.count("chat.postMessage") == 1 + 1);  // the post, and one thread reply (thread = all)
  CHECK(f.slack.count("chat.update") == 1);
  CHECK(f.results.size() == 11);
  for (const auto& [id, r] : f.results) CHECK(r.outcome == bus::JobOutcome::ok);
  CHECK(f.delivery->stats().coalesced >= 9);
}

TEST_CASE(
    "a notice that arrives while the alert's post is in flight edits that message instead of "
    "posting twice") {
  Fixture f;
  // The engine sent the update before the post's ts came back, so it names no message.
  f.slack.while_in_flight = [&] { f.submit("notify:1:2", notice(1, "update", "acked")); };
  f.submit("notify:1:1", notice(1));
  f.delivery->pump();
  f.clock.advance(10s);
  f.delivery->pump();
  REQUIRE(f.slack.calls.size() == 2);
  CHECK(f.slack.calls[0].method == "chat.postMessage");
  CHECK(f.slack.calls[1].method == "chat.update");
  CHECK(f.slack.calls[1].body["ts"] == "1700000000.100001");
  REQUIRE(f.results.count("notify:1:2"));
  CHECK(f.results["notify:1:2"].outcome == bus::JobOutcome::ok);
  CHECK(f.results["notify:1:2"].output["ts"] == "1700000000.100001");
}

TEST_CASE(
    "a worker forgets a message once its alert is resolved, and a later notice edits it from the "
    "engine's record") {
  Fixture f;
  for (int alert = 1; alert <= 3; ++alert)
    f.submit("notify:" + std::to_string(alert) + ":1", notice(alert));
  for (int i = 0; i < 5; ++i) {
    f.delivery->pump();
    f.clock.advance(2s);
  }
  REQUIRE(f.delivery->stats().messages_known == 3);
  const std::string ts1 = f.results["notify:1:1"].output["ts"];
  f.submit("notify:1:2", notice(1, "resolved", "resolved"));
  f.submit("notify:2:2", notice(2, "resolved", "resolved"));
  for (int i = 0; i < 5; ++i) {
    f.delivery->pump();
    f.clock.advance(2s);
  }
  CHECK(f.results["notify:1:2"].outcome == bus::JobOutcome::ok);
  CHECK(f.delivery->stats().messages_known == 1);
  // Anything later names the message itself (the engine stores every delivered ts): still an edit.
  auto top_level_posts = [&] {
    std::size_t n = 0;
    for (const auto& c : f.slack.calls)
      n += c.method == "chat.postMessage" && !c.body.contains("thread_ts");
    return n;
  };
  const std::size_t posts = top_level_posts();
  const std::size_t calls = f.slack.calls.size();
  f.submit("notify:1:3", notice(1, "update", "resolved", std::pair{std::string("C0OPS"), ts1}));
  for (int i = 0; i < 3; ++i) {
    f.clock.advance(2s);
    f.delivery->pump();
  }
  REQUIRE(f.slack.calls.size() > calls);
  CHECK(f.slack.calls[calls].method == "chat.update");
  CHECK(f.slack.calls[calls].body["ts"] == ts1);
  CHECK(top_level_posts() == posts);
}

TEST_CASE(
    "Slack answers with fields of the wrong type end the job with a reason instead of throwing") {
  Fixture f;
  f.slack.script["chat.postMessage"].push_back(
      {200, {{"ok", "yes"}, {"error", {{"code", 1}}}}, {}});
  f.slack.script["chat.postMessage"].push_back(
      {200, {{"ok", true}, {"ts", json::object()}, {"channel", json::array()}}, {}});
  f.submit("notify:1:1", notice(1));
  f.submit("notify:2:1", notice(2));
  for (int i = 0; i < 4; ++i) {
    REQUIRE_NOTHROW(f.delivery->pump());
    f.clock.advance(2s);
  }
  REQUIRE(f.results.size() == 2);
  CHECK(f.results["notify:1:1"].outcome == bus::JobOutcome::fail);
  CHECK(f.results["notify:1:1"].reason.find("unknown_error") != std::string::npos);
  CHECK(f.results["notify:2:1"].outcome == bus::JobOutcome::ok);
  CHECK(f.results["notify:2:1"].output["channel"] == "C0OPS");
}

TEST_CASE("HTTP 429 with Retry-After: 2 delays the channel by 2 s of the injected clock, nothing lost") {
  Fixture f;
  f.slack.script["chat.postMessage"].push_back({429, {{"ok", false}, {"error", "ratelimited"}}, "2"});
  f.submit("notify:1:1", notice(1));
  auto next = f.delivery->pump();
  REQUIRE(next);
  CHECK(*next == f.clock.steady_now() + 2s);
  CHECK(f.results.empty());
  f.clock.advance(1999ms);
  f.delivery->pump();
  CHECK(f.slack.calls.size() == 1);
  f.clock.advance(1ms);
  f.delivery->pump();
  CHECK(f.slack.calls.size() == 2);
  REQUIRE(f.results.count("notify:1:1"));
  CHECK(f.results["notify:1:1"].outcome == bus::JobOutcome::ok);
}

TEST_CASE("about one call per second per channel after a small burst") {
  Fixture f;
  for (int i = 1; i <= 5; ++i) {
    auto p = notice(i);
    p["channels"] = {"C" + std::to_string(i % 2)};  // two channels, each paced on its own
    f.submit("notify:" + std::to_string(i) + ":1", p);
  }
  f.delivery->pump();
  CHECK(f.slack.calls.size() == 5);  // within the burst of 3 per channel
  for (int i = 6; i <= 9; ++i) f.submit("notify:" + std::to_string(i) + ":1", notice(i));
  f.delivery->pump();
  const auto after_burst = f.slack.calls.size();
  CHECK(after_burst == 5 + 3);  // a fresh channel's burst of 3; the fourth waits
  f.clock.advance(1s);
  f.delivery->pump();
  CHECK(f.slack.calls.size() == after_burst + 1);
}

TEST_CASE("transient errors are retried with backoff, permanent ones fail once with the fix") {
  Fixture f;
  f.slack.script["chat.postMessage"].push_back({200, {{"ok", false}, {"error", "internal_error"}}, {}});
  f.slack.script["chat.postMessage"].push_back({503, json("down"), {}});
  f.submit("notify:1:1", notice(1));
  auto next = f.delivery->pump();
  REQUIRE(next);
  CHECK(*next - f.clock.steady_now() == 1s);  // backoff_min with the jitter at its top
  f.clock.advance(1s);
  next = f.delivery->pump();
  REQUIRE(next);
  CHECK(*next - f.clock.steady_now() == 2s);
  f.clock.advance(2s);
  f.delivery->pump();
  CHECK(f.results["notify:1:1"].outcome == bus::JobOutcome::ok);

  f.slack.script["chat.postMessage"].push_back({200, {{"ok", false}, {"error", "channel_not_found"}}, {}});
  f.slack.script["chat.postMessage"].push_back({200, {{"ok", false}, {"error", "channel_not_found"}}, {}});
  f.submit("notify:2:1", notice(2));
  f.submit("notify:3:1", notice(3));
  f.clock.advance(5s);
  f.delivery->pump();
  const auto& r = f.results["notify:2:1"];
  CHECK(r.outcome == bus::JobOutcome::fail);
  CHECK(r.reason.find("channel_not_found: ") == 0);
  CHECK(r.output["event"]["kind"] == "slack.delivery_failed");
  CHECK(r.output["event"]["attrs"]["error"] == "channel_not_found");
  const std::string log = f.log_out.str();
  CHECK(log.find("Slack delivery failed") != std::string::npos);
  CHECK(log.find("Slack delivery failed", log.find("Slack delivery failed") + 1) == std::string::npos);  // once
  CHECK(log.find("xoxb-secret-token") == std::string::npos);
}

TEST_CASE("cant_update_message: a new message, linked from the old thread, becomes the alert's message") {
  Fixture f;
  f.slack.script["chat.update"].push_back({200, {{"ok", false}, {"error", "cant_update_message"}}, {}});
  f.submit("notify:1:2", notice(1, "update", "acknowledged", std::pair{"C0OPS", "1690000000.000001"}));
  f.delivery->pump();
  f.clock.advance(5s);
  f.delivery->pump();
  const auto& r = f.results["notify:1:2"];
  CHECK(r.outcome == bus::JobOutcome::ok);
  CHECK(r.output["ts"] != "1690000000.000001");
  bool linked = false;
  for (const auto& c : f.slack.calls) linked = linked || (c.body.value("thread_ts", "") == "1690000000.000001");
  CHECK(linked);
}

TEST_CASE(
    "cant_update_message with another edit waiting: one new message carries the newest state") {
  Fixture f;
  f.slack.script["chat.update"].push_back(
      {200, {{"ok", false}, {"error", "cant_update_message"}}, {}});
  f.slack.script["chat.update"].push_back(
      {200, {{"ok", false}, {"error", "cant_update_message"}}, {}});
  f.slack.while_in_flight = [&] {
    f.submit("notify:1:3",
             notice(1, "resolved", "resolved", std::pair{"C0OPS", "1690000000.000001"}));
  };
  f.submit("notify:1:2",
           notice(1, "update", "acknowledged", std::pair{"C0OPS", "1690000000.000001"}));
  for (int i = 0; i < 5; ++i) {
    f.delivery->pump();
    f.clock.advance(5s);
  }
  std::vector<json> new_messages;
  for (const auto& c : f.slack.calls) {
    if (c.method == "chat.postMessage" && !c.body.contains("thread_ts"))
      new_messages.push_back(c.body);
  }
  REQUIRE(new_messages.size() == 1);
  CHECK(new_messages[0].dump().find("esolved") != std::string::npos);
  REQUIRE(f.results.size() == 2);
  CHECK(f.results["notify:1:2"].outcome == bus::JobOutcome::ok);
  CHECK(f.results["notify:1:3"].outcome == bus::JobOutcome::ok);
  CHECK(f.results["notify:1:2"].output["ts"] == f.results["notify:1:3"].output["ts"]);
}

TEST_CASE("200 new alerts at once in one channel cost far fewer than 200 calls") {
  Fixture f;
  for (int i = 1; i <= 200; ++i) f.submit("notify:" + std::to_string(i) + ":1", notice(i));
  for (int s = 0; s < 10; ++s) {
    f.delivery->pump();
    f.clock.advance(1s);
  }
  CHECK(f.results.size() == 200);
  CHECK(f.slack.calls.size() <= 5);
  CHECK(f.delivery->stats().digests >= 1);
  // Their later resolutions become replies in the digest's thread, grouped too.
  for (int i = 1; i <= 200; ++i) f.submit("notify:" + std::to_string(i) + ":2", notice(i, "resolved", "resolved"));
  for (int s = 0; s < 30; ++s) {
    f.delivery->pump();
    f.clock.advance(1s);
  }
  CHECK(f.results.size() == 400);
  CHECK(f.slack.calls.size() <= 30);
  CHECK(f.slack.count("chat.update") <= 3);  // the few alerts posted on their own before the storm
}

TEST_CASE("a reply job with a response_url answers there, ephemerally, without sending the bot token") {
  Fixture f;
  bus::Job job{"reply:1", "reply", {{"response_url", "https://hooks.slack.com/commands/T1/1/resp-abc"}, {"text", "Silenced disk-full for 2h"}}, 1,
               Duration{60'000}};
  f.delivery->submit(job, [&](bus::JobResult r) { f.results[r.job_id] = r; });
  f.delivery->pump();
  REQUIRE(f.slack.calls.size() == 1);
  CHECK(f.slack.calls[0].method == "resp-abc");
  CHECK(f.slack.calls[0].body["response_type"] == "ephemeral");
  CHECK(f.slack.calls[0].body["text"] == "Silenced disk-full for 2h");
  CHECK(f.slack.calls[0].body["replace_original"] == false);
  CHECK(f.slack.calls[0].headers.count("Authorization") == 0);
  REQUIRE(f.results.count("reply:1"));
  CHECK(f.results["reply:1"].outcome == bus::JobOutcome::ok);
  CHECK(f.results["reply:1"].output["via"] == "response_url");
}

TEST_CASE("a reply job without a response_url goes to chat.postEphemeral for its user, or to the thread for everyone") {
  Fixture f;
  bus::Job to_user{"reply:2", "reply", {{"channel", "C0OPS"}, {"user", "U0BOB"}, {"thread_ts", "1700000000.000100"}, {"text", "You may not run restart"}}, 1,
                   Duration{60'000}};
  bus::Job to_all{"reply:3", "reply", {{"channel", "C0OPS"}, {"thread_ts", "1700000000.000100"}, {"ephemeral", false}, {"text", "restart done"}}, 1,
                  Duration{60'000}};
  f.delivery->submit(to_user, [&](bus::JobResult r) { f.results[r.job_id] = r; });
  f.delivery->submit(to_all, [&](bus::JobResult r) { f.results[r.job_id] = r; });
  f.delivery->pump();
  REQUIRE(f.slack.calls.size() == 2);
  CHECK(f.slack.calls[0].method == "chat.postEphemeral");
  CHECK(f.slack.calls[0].body["user"] == "U0BOB");
  CHECK(f.slack.calls[0].body["thread_ts"] == "1700000000.000100");
  CHECK(f.slack.calls[0].headers["Authorization"] == "Bearer xoxb-secret-token");
  CHECK(f.slack.calls[1].method == "chat.postMessage");
  CHECK(f.slack.calls[1].body["text"] == "restart done");
  CHECK(f.results["reply:2"].outcome == bus::JobOutcome::ok);
  CHECK(f.results["reply:3"].outcome == bus::JobOutcome::ok);
  CHECK(f.delivery->stats().responses == 2);
}

TEST_CASE("an expired response_url fails its reply job at once, and a reply with nowhere to go is refused") {
  Fixture f;
  f.slack.script["resp-old"].push_back({404, json("expired_url"), std::nullopt});
  bus::Job job{"reply:4", "reply", {{"response_url", "https://hooks.slack.com/commands/T1/1/resp-old"}, {"text", "late"}}, 1, Duration{60'000}};
  f.delivery->submit(job, [&](bus::JobResult r) { f.results[r.job_id] = r; });
  f.delivery->pump();
  REQUIRE(f.results.count("reply:4"));
  CHECK(f.results["reply:4"].outcome == bus::JobOutcome::fail);
  CHECK(f.results["reply:4"].reason.find("expired_url") != std::string::npos);
  CHECK(f.slack.calls.size() == 1);  // not retried

  bus::Job lost{"reply:5", "reply", {{"text", "to nobody"}}, 1, Duration{60'000}};
  f.delivery->submit(lost, [&](bus::JobResult r) { f.results[r.job_id] = r; });
  REQUIRE(f.results.count("reply:5"));
  CHECK(f.results["reply:5"].outcome == bus::JobOutcome::fail);
}
