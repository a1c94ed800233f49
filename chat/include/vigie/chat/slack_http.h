// Slack's HTTP endpoints: POST /slack/events (Events API), /slack/commands (slash commands) and
// /slack/interactive (buttons). Every request's signature is checked over the raw body before
// anything is parsed (401 and a log line without the secret otherwise); URL verification is
// answered; Events API deliveries are deduplicated by event_id (Slack retries with
// x-slack-retry-num); bot messages and subtypes are ignored. What remains becomes SlackInbound,
// and then bus events (`chat.command`, `chat.action`) that the HTTP layer stores before it answers.
#pragma once

#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "vigie/bus/event.h"
#include "vigie/chat/inbound.h"
#include "vigie/core/clock.h"
#include "vigie/core/log.h"
#include "vigie/net/http.h"

namespace vigie::chat {

// What an endpoint decided: answer now (`response`), or store `events` first and then answer
// `response` (503 instead when they could not be stored, so Slack retries).
struct SlackHttpOutcome {
  net::HttpResponse response;
  std::vector<bus::Event> events;
};

class SlackHttpEndpoints {
 public:
  SlackHttpEndpoints(std::string signing_secret, Clock& clock, Logger log);
  // nullopt when the path is not one of Slack's.
  std::optional<SlackHttpOutcome> handle(const net::HttpRequest& request);

 private:
  bool seen_before(const std::string& event_id);
  std::string secret_;
  Clock& clock_;
  Logger log_;
  std::mutex mutex_;
  std::set<std::string> seen_;
  std::deque<std::string> seen_order_;
};

// The bus events for one inbound Slack request (both transports): `chat.command` for mentions,
// direct messages and slash commands; `chat.action` per button. Empty for what Vigie ignores
// (bot messages, edits, other event types). Ids derive from Slack's own, so retries deduplicate.
std::vector<bus::Event> inbound_events(const SlackInbound& in, TimePoint now);

}  // namespace vigie::chat
