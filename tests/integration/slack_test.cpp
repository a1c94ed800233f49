// Slack end to end with the real modules on an injected clock: the engine's notify jobs go
// through the delivery queue and the real HTTP client to the fake Slack; clicks come back through
// the signed HTTP endpoints and act on the engine. What a user sees in the channel is asserted
// on the fake's record of messages, edits and thread replies.
#include <catch2/catch.hpp>

#include <mutex>
#include <sstream>

#include "fake_slack.h"
#include "vigie/actions/kinds.h"
#include "vigie/actions/slack_delivery.h"
#include "vigie/chat/buttons.h"
#include "vigie/chat/slack_http.h"
#include "vigie/net/http_client.h"
#include "vigie/rules/engine.h"
#include "vigie/rules/rule_set.h"

using namespace vigie;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::FakeSlack;

namespace {

const std::string kSigningSecret = "5ec2e7-signing-secret-for-tests";
const std::string kBotToken = "xoxb-fake-bot";

const char* kRules = R"(
[[rule]]
name = "disk-full"
when = 'kind == "disk" and used > 90'
resolve_when = 'kind == "disk" and used < 80'
group_by = ["host"]
severity = "critical"
summary = "disk full on {{labels.host}}"
notify = ["C0OPS"]
)";

struct SlackWorld {
  FakeSlack slack{kBotToken};
  std::ostringstream log_out;
  std::shared_ptr<SecretRegistry> secrets = [] {
    auto s = std::make_shared<SecretRegistry>();
    s->add(kSigningSecret);
    s->add(kBotToken);
    return s;
  }();
  Logging logging{LogLevel::info, secrets, log_out};
  FakeClock clock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<rules::Engine> engine;
  std::unique_ptr<net::HttpClient> http;
  std::unique_ptr<actions::slack::SlackDelivery> delivery;
  chat::SlackHttpEndpoints endpoints{kSigningSecret, clock, logging.logger("slack-http")};
  std::mutex mutex;
  std::vector<bus::JobResult> results;
  std::vector<bus::Event> stored;  // every event the engine stored, results included
  int seq = 0;

  SlackWorld() {
    auto s = store::Store::open(":memory:");
    REQUIRE(s);
    store = std::move(*s);
    config::KindCatalog kinds;
    actions::register_builtin_actions(kinds);
    rules::RuleLoadContext ctx;
    ctx.action_kinds = &kinds;
    config::Diagnostics d;
    auto set = rules::load_rule_texts({{"rules.toml", kRules}}, ctx, d);
    INFO(d.render_text());
    REQUIRE(set);
    engine = std::make_unique<rules::Engine>(*store, clock, logging.logger("engine"),
                                             rules::EngineOptions{"C0OPS", 30s, 3});
    engine->set_output_sink([this](rules::EngineOutput out) { take(std::move(out)); });
    engine->set_rules(set);
    REQUIRE(engine->restore());

    net::HttpClientOptions ho;
    ho.request_timeout = 5s;
    http = net::make_http_client(ho, logging.logger("http"));
    actions::slack::DeliveryOptions o;
    o.base_url = *net::parse_url(slack.base_url());
    o.token = kBotToken;
    o.default_channel = "C0OPS";
    delivery = std::make_unique<actions::slack::SlackDelivery>(o, *http, clock, logging.logger("slack"),
                                                               [] { return 0.5; });
  }

  void take(rules::EngineOutput out) {
    REQUIRE(out.ok);
    for (auto& e : out.events) stored.push_back(e);
    for (const auto& j : out.jobs) {
      if (j.kind != "notify") continue;
      bus::Job job{j.id, j.kind, j.payload, 1, 60s};
      delivery->submit(job, [this](bus::JobResult r) {
        std::lock_guard lock(mutex);
        results.push_back(std::move(r));
      });
    }
  }

  // The engine side of a job result: the outbox row, the message's ts, the result event.
  void finish_results() {
    std::vector<bus::JobResult> done;
    {
      std::lock_guard lock(mutex);
      done.swap(results);
    }
    for (const auto& r : done) {
      take(engine->job_finished(r.job_id, r.outcome == bus::JobOutcome::ok, r.output));
      if (auto it = r.output.find("event"); it != r.output.end()) {
        bus::Event e;
        e.id = "result:" + r.job_id;
        e.source = "worker";
        e.kind = (*it)["kind"].get<std::string>();
        e.time = e.received_at = clock.system_now();
        e.attrs = it->value("attrs", json::object());
        take(engine->ingest({e}));
      }
    }
  }

  // Sends what is due now, feeding results back, without moving the clock.
  void pump_now() {
    for (int i = 0; i < 50; ++i) {
      delivery->pump();
      const bool had_results = [&] {
        std::lock_guard lock(mutex);
        return !results.empty();
      }();
      finish_results();
      if (!had_results) return;
    }
  }

  // Runs the queue to empty, moving the clock to each wait's end (rate limits, Retry-After).
  void settle() {
    for (int i = 0; i < 1000 && delivery->pending() > 0; ++i) {
      pump_now();
      if (delivery->pending() == 0) break;
      auto next = delivery->pump();
      finish_results();
      if (next && *next > clock.steady_now()) clock.advance(std::chrono::duration_cast<Duration>(*next - clock.steady_now()));
    }
    REQUIRE(delivery->pending() == 0);
    finish_results();
  }

  void disk(const std::string& host, int used) {
    bus::Event e;
    e.id = "e" + std::to_string(++seq);
    e.source = "test";
    e.kind = "disk";
    e.time = e.received_at = clock.system_now();
    e.attrs = {{"host", host}, {"used", used}};
    take(engine->ingest({e}));
  }

  // A request to Vigie's Slack endpoints; when accepted, its events are stored and buttons act.
  int post_to_vigie(const std::string& path, const std::string& body, net::Headers headers) {
    net::HttpRequest r;
    r.method = "POST";
    r.path = r.target = path;
    r.body = body;
    r.headers = std::move(headers);
    auto out = endpoints.handle(r);
    REQUIRE(out);
    if (!out->events.empty()) {
      auto events = out->events;
      auto ingested = engine->ingest(events);
      REQUIRE(ingested.ok);
      for (std::size_t i = 0; i < events.size(); ++i) {
        if (ingested.results[i].status != bus::IngestStatus::stored) continue;
        if (auto o = chat::apply_alert_button(*engine, *store, events[i], clock.system_now())) take(std::move(*o));
      }
      take(std::move(ingested));
    }
    return out->response.status;
  }

  static std::string click_body(const std::string& action_id, std::int64_t alert_id, const std::string& ts,
                                const std::string& user, const std::string& action_ts) {
    json payload{{"type", "block_actions"},
                 {"user", {{"id", user}}},
                 {"container", {{"type", "message"}, {"message_ts", ts}, {"channel_id", "C0OPS"}}},
                 {"channel", {{"id", "C0OPS"}}},
                 {"actions", json::array({{{"action_id", action_id}, {"value", std::to_string(alert_id)}, {"action_ts", action_ts}}})}};
    std::string encoded;
    for (unsigned char c : payload.dump()) {
      static const char* hex = "0123456789ABCDEF";
      if (std::isalnum(c)) {
        encoded += static_cast<char>(c);
      } else {
        encoded += '%';
        encoded += hex[c >> 4];
        encoded += hex[c & 15];
      }
    }
    return "payload=" + encoded;
  }

  std::int64_t only_alert_id() {
    const auto open = *store->open_alerts();
    REQUIRE(open.size() == 1);
    return open[0].id;
  }

  static std::string blocks_text(const FakeSlack::Message& m) { return m.blocks.dump(); }
  static bool has_button(const FakeSlack::Message& m, const std::string& action_id) {
    return m.blocks.dump().find("\"action_id\":\"" + action_id + "\"") != std::string::npos;
  }
};

}  // namespace

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
