// Slack's HTTP endpoints.
#include "vigie/chat/slack_http.h"

#include <nlohmann/json.hpp>

#include "vigie/chat/signature.h"
#include "vigie/core/text.h"

namespace vigie::chat {
namespace {

using nlohmann::json;
using net::HttpResponse;

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "<@U0VIGIE> restart shop-api" → "restart shop-api": the bot's own mention is not the command.
std::string strip_leading_mention(std::string text) {
  while (!text.empty() && text.front() == ' ') text.erase(0, 1);
  if (text.rfind("<@", 0) == 0) {
    const auto end = text.find('>');
    if (end != std::string::npos) text.erase(0, end + 1);
  }
  while (!text.empty() && text.front() == ' ') text.erase(0, 1);
  return text;
}

bus::Event make_event(std::string id, std::string kind, TimePoint now, json attrs) {
  bus::Event e;
  e.id = std::move(id);
  e.source = "slack";
  e.kind = std::move(kind);
  e.time = e.received_at = now;
  e.attrs = std::move(attrs);
  return e;
}

}  // namespace

std::vector<bus::Event> inbound_events(const SlackInbound& in, TimePoint now) {
  std::vector<bus::Event> out;
  const json& p = in.payload;
  switch (in.kind) {
    case SlackInboundKind::events_api: {
      if (str(p, "type") != "event_callback") return out;
      const json ev = p.value("event", json::object());
      const std::string type = str(ev, "type");
      // Bots (Vigie itself included) and edits/joins never become commands: no loops.
      if (ev.contains("bot_id") || ev.contains("subtype")) return out;
      const bool dm = type == "message" && str(ev, "channel_type") == "im";
      if (type != "app_mention" && !dm) return out;
      out.push_back(make_event("slack:" + str(p, "event_id"), "chat.command", now,
                               {{"user", str(ev, "user")},
                                {"channel", str(ev, "channel")},
                                {"text", strip_leading_mention(str(ev, "text"))},
                                {"ts", str(ev, "ts")},
                                {"thread_ts", str(ev, "thread_ts")},
                                {"via", dm ? "dm" : "mention"}}));
      return out;
    }
    case SlackInboundKind::slash_command: {
      const std::string id = !str(p, "trigger_id").empty() ? str(p, "trigger_id")
                                                           : str(p, "user_id") + ":" + std::to_string(to_unix_ms(now));
      out.push_back(make_event("slack:cmd:" + id, "chat.command", now,
                               {{"user", str(p, "user_id")},
                                {"channel", str(p, "channel_id")},
                                {"text", str(p, "text")},
                                {"command", str(p, "command")},
                                {"response_url", str(p, "response_url")},
                                {"via", "slash"}}));
      return out;
    }
    case SlackInboundKind::interactive: {
      if (str(p, "type") != "block_actions") return out;
      const json user = p.value("user", json::object());
      const json container = p.value("container", json::object());
      const json channel = p.value("channel", json::object());
      for (const auto& a : p.value("actions", json::array())) {
        const std::string action_id = str(a, "action_id");
        out.push_back(make_event("slack:act:" + str(a, "action_ts") + ":" + action_id, "chat.action", now,
                                 {{"user", str(user, "id")},
                                  {"channel", !str(channel, "id").empty() ? str(channel, "id") : str(container, "channel_id")},
                                  {"message_ts", str(container, "message_ts")},
                                  {"action_id", action_id},
                                  {"value", str(a, "value")},
                                  {"response_url", str(p, "response_url")}}));
      }
      return out;
    }
  }
  return out;
}

std::string inbound_team(const SlackInbound& in) {
  const json& p = in.payload;
  if (in.kind == SlackInboundKind::interactive) return str(p.value("team", json::object()), "id");
  return str(p, "team_id");
}

namespace {
void count_refused(Metrics* metrics, const char* reason, const char* transport) {
  if (!metrics) return;
  metrics
      ->counter("vigie_slack_requests_refused_total",
                "Inbound Slack requests refused, by reason (signature, team) and transport",
                {{"reason", reason}, {"transport", transport}})
      .inc();
}

const char* kind_name(SlackInboundKind kind) {
  switch (kind) {
    case SlackInboundKind::events_api:
      return "events_api";
    case SlackInboundKind::slash_command:
      return "slash_command";
    case SlackInboundKind::interactive:
      return "interactive";
  }
  return "";
}
}  // namespace

bool team_refused(const SlackInbound& in, const SlackInboundGuard& guard, const Logger& log,
                  const char* transport) {
  if (guard.team_id.empty()) return false;
  const std::string team = inbound_team(in);
  if (team == guard.team_id) return false;
  // Team ids are no secret: both are logged so an operator sees a wrong team_id at once.
  log.warn("Slack request refused: not from the workspace in [slack] team_id",
           {{"transport", transport},
            {"kind", kind_name(in.kind)},
            {"team", team.empty() ? "(none)" : team},
            {"expected", guard.team_id}});
  count_refused(guard.metrics, "team", transport);
  return true;
}

SlackHttpEndpoints::SlackHttpEndpoints(std::string signing_secret, Clock& clock, Logger log,
                                       SlackInboundGuard guard)
    : secret_(std::move(signing_secret)),
      clock_(clock),
      log_(std::move(log)),
      guard_(std::move(guard)) {}

bool RecentIds::contains(const std::string& id) const {
  std::lock_guard lock(mutex_);
  return ids_.count(id) > 0;
}

bool RecentIds::insert(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (!ids_.insert(id).second) return false;
  order_.push_back(id);
  if (order_.size() > capacity_) {
    ids_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

SlackInboundReply inbound_receipt(const SlackInbound& in) {
  if (in.kind != SlackInboundKind::slash_command) return {};
  return {json{{"response_type", "ephemeral"}, {"text", "On it…"}}};
}

std::optional<SlackHttpOutcome> SlackHttpEndpoints::handle(const net::HttpRequest& req) {
  const bool events = req.path == "/slack/events";
  const bool commands = req.path == "/slack/commands";
  const bool interactive = req.path == "/slack/interactive";
  if (!events && !commands && !interactive) return std::nullopt;
  if (req.method != "POST") return SlackHttpOutcome{HttpResponse::json_error(405, "method not allowed", "use POST"), {}};

  // Authenticity first: nothing in a forged body is ever parsed.
  const TimePoint now = clock_.system_now();
  const auto check = verify_slack_signature(secret_, req.header("X-Slack-Request-Timestamp"),
                                            req.header("X-Slack-Signature"), req.body, now);
  if (check != SignatureCheck::ok) {
    log_.warn("Slack request refused", {{"path", req.path}, {"why", signature_check_name(check)}, {"remote", req.remote}});
    count_refused(guard_.metrics, "signature", "http");
    return SlackHttpOutcome{HttpResponse::json_error(401, "invalid Slack signature", signature_check_name(check)), {}};
  }

  SlackInbound in;
  std::string event_id;
  if (auto retry = req.header("X-Slack-Retry-Num")) in.retry_num = std::atoi(retry->c_str());
  if (events) {
    if (json_nesting_depth(req.body) > kMaxJsonDepth) return SlackHttpOutcome{HttpResponse::json_error(400, "JSON nested too deeply"), {}};
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return SlackHttpOutcome{HttpResponse::json_error(400, "malformed JSON", "an Events API body is a JSON object"), {}};
    }
    if (str(body, "type") == "url_verification") {
      return SlackHttpOutcome{HttpResponse::json(200, json{{"challenge", str(body, "challenge")}}.dump()), {}};
    }
    event_id = str(body, "event_id");
    in.kind = SlackInboundKind::events_api;
    in.payload = std::move(body);
  } else {
    const auto form = net::parse_form(req.body);
    if (commands) {
      in.kind = SlackInboundKind::slash_command;
      in.payload = json::object();
      for (const auto& [k, v] : form) in.payload[k] = v;
      if (!in.payload.contains("command")) {
        return SlackHttpOutcome{HttpResponse::json_error(400, "not a slash command", "no 'command' field"), {}};
      }
    } else {
      auto it = form.find("payload");
      if (it == form.end() || json_nesting_depth(it->second) > kMaxJsonDepth) {
        return SlackHttpOutcome{HttpResponse::json_error(400, "malformed interaction", "expected payload=<JSON>"), {}};
      }
      in.kind = SlackInboundKind::interactive;
      in.payload = json::parse(it->second, nullptr, false);
      if (in.payload.is_discarded() || !in.payload.is_object()) {
        return SlackHttpOutcome{HttpResponse::json_error(400, "malformed interaction", "payload is not a JSON object"), {}};
      }
    }
  }
  if (team_refused(in, guard_, log_, "http")) {
    // 403, not a 200 with an ephemeral "not allowed": Slack's own dashboards and the sender see a
    // refusal rather than a success, and nothing is stored (an attacker holding the signing
    // secret gets no write into the store). Events API deliveries are the only ones Slack
    // retries on a non-2xx (3 times); X-Slack-No-Retry stops that, so nothing loops.
    auto refused = HttpResponse::json_error(403, "workspace not allowed",
                                            "the request's team is not [slack] team_id");
    refused.headers.emplace_back("X-Slack-No-Retry", "1");
    return SlackHttpOutcome{std::move(refused), {}};
  }
  if (!event_id.empty() && seen_->contains(event_id)) {
    // A retry of a delivery already stored (x-slack-retry-num): acknowledged, not redone.
    return SlackHttpOutcome{HttpResponse::json(200, R"({"ok":true,"duplicate":true})"), {}};
  }
  SlackHttpOutcome out;
  out.events = inbound_events(in, now);
  if (!event_id.empty()) {
    if (out.events.empty()) {
      seen_->insert(event_id);  // nothing to store: taken now
    } else {
      out.on_stored = [seen = seen_, event_id] { seen->insert(event_id); };
    }
  }
  // Slash commands get a visible receipt; the answer follows through response_url.
  const auto receipt = inbound_receipt(in);
  out.response = receipt.payload ? HttpResponse::json(200, receipt.payload->dump())
                                 : HttpResponse::json(200, R"({"ok":true})");
  return out;
}

namespace {
void redact_strings(json& v, const SecretRegistry& secrets) {
  if (v.is_string()) {
    v = secrets.redact(v.get_ref<const std::string&>());
  } else if (v.is_structured()) {
    for (auto& child : v) redact_strings(child, secrets);
  }
}
}  // namespace

void redact_secrets(std::vector<bus::Event>& events, const SecretRegistry& secrets) {
  for (auto& e : events) redact_strings(e.attrs, secrets);
}

}  // namespace vigie::chat
