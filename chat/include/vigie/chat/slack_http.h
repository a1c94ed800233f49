// Slack's HTTP endpoints: POST /slack/events (Events API), /slack/commands (slash commands) and
// /slack/interactive (buttons). Every request's signature is checked over the raw body before
// anything is parsed (401 and a log line without the secret otherwise); URL verification is
// answered; Events API deliveries are deduplicated by event_id (Slack retries with
// x-slack-retry-num); bot messages and subtypes are ignored; with `[slack] team_id`, a request
// from another workspace is refused (403, `team_refused`). What remains becomes SlackInbound,
// and then bus events (`chat.command`, `chat.action`) that the HTTP layer stores before it answers.
#pragma once

#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <functional>
#include <memory>
#include <vector>

#include "vigie/bus/event.h"
#include "vigie/chat/inbound.h"
#include "vigie/core/clock.h"
#include "vigie/core/log.h"
#include "vigie/core/metrics.h"
#include "vigie/net/http.h"

namespace vigie::chat {

// The ids of the last deliveries taken (event_id, envelope_id), so a retry is acknowledged and
// not redone. Bounded: the oldest are forgotten first (the store's event-id dedup still holds).
// Thread-safe.
class RecentIds {
 public:
  explicit RecentIds(std::size_t capacity = 10'000) : capacity_(capacity) {}
  bool contains(const std::string& id) const;
  // @return false when `id` was already there.
  bool insert(const std::string& id);

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::set<std::string> ids_;
  std::deque<std::string> order_;
};

// What an endpoint decided: answer now (`response`), or store `events` first and then answer
// `response` (503 instead when they could not be stored, so Slack retries). `on_stored` must be
// called once they are stored: only then is the delivery remembered, so a retry of one that
// could not be stored is taken again instead of being answered as a duplicate and lost.
struct SlackHttpOutcome {
  net::HttpResponse response;
  std::vector<bus::Event> events;
  std::function<void()> on_stored = [] {};
};

// Which inbound requests are taken, whichever transport they came by ([slack] team_id). Empty
// `team_id`: any workspace's (the signature, or the app token's connection, is the only check).
struct SlackInboundGuard {
  std::string team_id;
  Metrics* metrics = nullptr;  // vigie_slack_requests_refused_total; none in some tests
};

// The workspace an inbound request comes from: `team_id` of an Events API envelope or a slash
// command, `team.id` of an interaction payload; "" when it names none.
std::string inbound_team(const SlackInbound& in);

// True when `in` must not be acted on because it comes from another workspace than
// guard.team_id (or names none while one is set); then it was logged and counted in
// vigie_slack_requests_refused_total{reason="team",transport}. Both transports call it.
bool team_refused(const SlackInbound& in, const SlackInboundGuard& guard, const Logger& log,
                  const char* transport);

class SlackHttpEndpoints {
 public:
  SlackHttpEndpoints(std::string signing_secret, Clock& clock, Logger log,
                     SlackInboundGuard guard = {});
  // nullopt when the path is not one of Slack's.
  std::optional<SlackHttpOutcome> handle(const net::HttpRequest& request);

 private:
  std::string secret_;
  Clock& clock_;
  Logger log_;
  SlackInboundGuard guard_;
  std::shared_ptr<RecentIds> seen_ = std::make_shared<RecentIds>();  // outlives a pending request
};

// The bus events for one inbound Slack request (both transports): `chat.command` for mentions,
// direct messages and slash commands; `chat.action` per button. Empty for what Vigie ignores
// (bot messages, edits, other event types). Ids derive from Slack's own, so retries deduplicate.
std::vector<bus::Event> inbound_events(const SlackInbound& in, TimePoint now);

// Blanks every known secret value in the events' string attributes (both transports, before they
// are stored): a command quoting a token is kept as `[redacted]`, as its audit row is.
void redact_secrets(std::vector<bus::Event>& events, const SecretRegistry& secrets);

// What Slack gets back at once for an inbound request it stored (both transports): a visible
// receipt for slash commands (the answer follows through response_url), nothing otherwise.
SlackInboundReply inbound_receipt(const SlackInbound& in);

}  // namespace vigie::chat
