// The Slack world the Slack end-to-end tests share: the real engine, store, delivery queue and
// real HTTP client on an injected clock, talking to the fake Slack (directly, or through the
// fault proxy for fault injection), and Vigie's signed Slack endpoints fed back into the engine.
#pragma once

#include <catch2/catch.hpp>

#include <mutex>
#include <sstream>

#include "fake_slack.h"
#include "fault_proxy.h"
#include "vigie/actions/kinds.h"
#include "vigie/actions/slack_delivery.h"
#include "vigie/chat/buttons.h"
#include "vigie/chat/commands.h"
#include "vigie/chat/slack_http.h"
#include "vigie/net/http_client.h"
#include "vigie/rules/engine.h"
#include "vigie/rules/rule_set.h"

namespace vigie::testing {

using nlohmann::json;
using namespace std::chrono_literals;

inline const std::string kSigningSecret = "5ec2e7-signing-secret-for-tests";
inline const std::string kBotToken = "xoxb-fake-bot";

inline const char* kRules = R"(
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
  std::unique_ptr<FaultProxy> proxy;
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
  std::unique_ptr<chat::ChatCommands> chat;
  std::unique_ptr<net::HttpClient> http;
  std::unique_ptr<actions::slack::SlackDelivery> delivery;
  Metrics metrics;
  chat::SlackHttpEndpoints endpoints;
  std::mutex mutex;
  std::vector<bus::JobResult> results;
  std::vector<store::Job> jobs;    // every job the engine or the chat created
  std::vector<bus::Event> stored;  // every event the engine stored, results included
  int seq = 0;

  // With `behind_proxy`, every Web API call goes through `proxy` (faults on demand) and the HTTP
  // client gives up after 1 s (a hang or a slow body costs that much real time).
  // `rules_text`: the rule file (kRules by default); `oncall`: the users holding the role that may
  // handle alerts when clicks go through the chat commands (post_to_vigie with `via_chat`);
  // `team_id`: the endpoints' [slack] team_id (empty: any workspace's requests are taken).
  explicit SlackWorld(bool behind_proxy = false, const std::string& rules_text = kRules,
                      std::vector<std::string> oncall = {"U0BOB"}, std::string team_id = {})
      : endpoints(kSigningSecret, clock, logging.logger("slack-http"),
                  chat::SlackInboundGuard{std::move(team_id), &metrics}) {
    auto s = store::Store::open(":memory:");
    REQUIRE(s);
    store = std::move(*s);
    config::KindCatalog kinds;
    actions::register_builtin_actions(kinds);
    rules::RuleLoadContext ctx;
    ctx.action_kinds = &kinds;
    config::Diagnostics d;
    auto set = rules::load_rule_texts({{"rules.toml", rules_text}}, ctx, d);
    INFO(d.render_text());
    REQUIRE(set);
    engine = std::make_unique<rules::Engine>(*store, clock, logging.logger("engine"),
                                             rules::EngineOptions{"C0OPS", 30s, 3});
    engine->set_output_sink([this](rules::EngineOutput out) { take(std::move(out)); });
    engine->set_rules(set);
    REQUIRE(engine->restore());
    chat = std::make_unique<chat::ChatCommands>(*engine, *store, clock, logging.logger("chat"));
    chat->set_rules(set);
    config::AccessConfig access;
    access.roles["oncall"] = std::move(oncall);
    chat->set_access(chat::Access(access));

    net::HttpClientOptions ho;
    ho.request_timeout = behind_proxy ? 1s : 5s;
    if (behind_proxy) proxy = std::make_unique<FaultProxy>(slack.base_url());
    http = net::make_http_client(ho, logging.logger("http"));
    actions::slack::DeliveryOptions o;
    o.base_url = *net::parse_url(proxy ? proxy->base_url() : slack.base_url());
    o.token = kBotToken;
    o.default_channel = "C0OPS";
    delivery = std::make_unique<actions::slack::SlackDelivery>(
        o, *http, clock, logging.logger("slack"), [] { return 0.5; });
  }

  void take(rules::EngineOutput out) {
    REQUIRE(out.ok);
    for (auto& e : out.events) stored.push_back(e);
    for (const auto& j : out.jobs) {
      jobs.push_back(j);
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
      if (next && *next > clock.steady_now())
        clock.advance(std::chrono::duration_cast<Duration>(*next - clock.steady_now()));
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

  // A request to Vigie's Slack endpoints; when accepted, its events are stored and buttons act:
  // directly, or with `via_chat` through the chat commands and their access checks, as the daemon.
  int post_to_vigie(const std::string& path, const std::string& body, net::Headers headers,
                    bool via_chat = false) {
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
        if (via_chat) {
          if (auto o = chat->handle(events[i])) take(std::move(*o));
          continue;
        }
        if (auto o = chat::apply_alert_button(*engine, *store, events[i], clock.system_now()))
          take(std::move(*o));
      }
      take(std::move(ingested));
    }
    return out->response.status;
  }

  static std::string click_body(const std::string& action_id, std::int64_t alert_id,
                                const std::string& ts, const std::string& user,
                                const std::string& action_ts, const std::string& team = "T0VIGIE") {
    json payload{{"type", "block_actions"},
                 {"team", {{"id", team}}},
                 {"user", {{"id", user}, {"team_id", team}}},
                 {"container", {{"type", "message"}, {"message_ts", ts}, {"channel_id", "C0OPS"}}},
                 {"channel", {{"id", "C0OPS"}}},
                 {"actions", json::array({{{"action_id", action_id},
                                           {"value", std::to_string(alert_id)},
                                           {"action_ts", action_ts}}})}};
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

}  // namespace vigie::testing
