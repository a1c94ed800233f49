// Slack Socket Mode: Slack's inbound requests over a WebSocket that Vigie opens, so no public URL
// is needed. apps.connections.open (with the app-level token xapp-…) gives a single-use wss://
// URL; after Slack's `hello`, every envelope (events_api, slash_commands, interactive) becomes
// the same SlackInbound the HTTP endpoints produce and the same `chat.command` / `chat.action`
// events (`inbound_events`), which the sink stores; only then is the envelope acknowledged with
// its envelope_id (and a receipt for slash commands), so an envelope whose events could not be
// stored is delivered again by Slack. With `team_id` set, an envelope from another workspace (or
// naming none) is acknowledged, so Slack does not deliver it again, and not acted on. A
// `disconnect` (warning, refresh_requested) opens the new connection before the old one is closed;
// a dropped connection is opened again with exponential backoff and jitter on the injected clock.
// Pings and the idle timeout are the WebSocket client's (net/websocket.h). One thread of its own;
// neither the token nor the URL is logged.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigie/bus/event.h"
#include "vigie/chat/inbound.h"
#include "vigie/core/clock.h"
#include "vigie/core/log.h"
#include "vigie/core/metrics.h"
#include "vigie/net/http_client.h"
#include "vigie/net/url.h"
#include "vigie/net/websocket.h"

namespace vigie::chat {

struct SocketModeOptions {
  net::Url base_url;  // the Web API base ([slack] base_url); apps.connections.open is called there
  std::string app_token;            // app-level token (xapp-…) with the connections:write scope
  std::string team_id;              // [slack] team_id: envelopes of other workspaces are refused
  net::WebSocketOptions websocket;  // connect and idle timeouts (a ping at half the idle time), TLS
  Duration hello_timeout{10'000};   // real time, after the handshake, for Slack's `hello`
  // Reconnection after a drop or a failed attempt: initial * 2^(failures-1), at most max, each
  // wait drawn in [half, all] of that (jitter, so many instances do not reconnect in step).
  Duration backoff_initial{1'000};
  Duration backoff_max{120'000};
  // After a disconnect, the old connection stays open (and read) until its replacement said
  // hello and then this long without a message from it (injected clock).
  Duration drain{2'000};
  Duration read_slice{100};  // real time one read waits before the loop checks stop and timers
  Metrics* metrics = nullptr;
};

// One Socket Mode message parsed apart from any connection: what the client acts on, and what
// the fuzzer feeds. Untrusted until proven otherwise: deep nesting, non-objects, missing ids and
// payloads of the wrong shape are told apart so the client can skip, or ack and ignore, them.
struct SocketMessage {
  enum class What {
    not_json,           // not a JSON object, or nested too deeply: skipped
    hello,              // the connection is ready (num_connections, debug_info)
    disconnect,         // Slack asks for a new connection (`reason`)
    no_envelope_id,     // skipped: nothing to acknowledge
    unknown_type,       // acknowledged, ignored (Slack would resend it forever)
    malformed_payload,  // acknowledged, ignored
    request,            // `inbound` is an Events API, slash command or interactive request
  };
  What what = What::not_json;
  std::string type, reason, envelope_id;
  std::string event_id;  // an Events API envelope's event_id ("" otherwise)
  SlackInbound inbound;
  bool accepts_response_payload = false;
  int num_connections = 0;
  std::int64_t approximate_connection_time = 0;
};
SocketMessage parse_socket_message(const std::string& text);

// Stores one envelope's events; true once every one is durably stored (or already was). Called
// on the client's thread; may block (the ack waits for it, within Slack's 3 seconds).
using SocketModeSink = std::function<bool(std::vector<bus::Event>)>;

struct SocketModeStatus {
  // "stopped", "connecting", "connected", or "waiting" (to reconnect, until next_attempt).
  std::string state = "stopped";
  std::size_t open_connections = 0;      // said hello and not closed (two during a refresh)
  std::uint64_t connections_opened = 0;  // hellos received since start
  std::uint64_t reconnects = 0;          // connections opened after the first one
  std::uint64_t envelopes_acked = 0;
  std::uint64_t envelopes_not_stored = 0;   // left unacknowledged for Slack to deliver again
  std::uint64_t failures = 0;               // consecutive failed attempts (reset by a hello)
  std::string last_error;                   // never holds the token or the URL
  std::optional<SteadyPoint> next_attempt;  // while waiting
};

class SocketModeClient {
 public:
  // `random01` gives the jitter draws in [0, 1); tests fix it.
  SocketModeClient(SocketModeOptions options, net::HttpClient& http, Clock& clock, Logger log,
                   SocketModeSink sink, std::function<double()> random01 = {});
  ~SocketModeClient();
  SocketModeClient(const SocketModeClient&) = delete;
  SocketModeClient& operator=(const SocketModeClient&) = delete;

  // Starts the thread: it connects at once. Idempotent.
  void start();
  // Closes every connection and joins the thread. Envelopes not yet acked are Slack's to resend.
  void stop();
  SocketModeStatus status() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// One line for `status` and logs: "connected (1 connection, 2 reconnects)", "waiting to
// reconnect (…)".
std::string describe(const SocketModeStatus& status, SteadyPoint now);

}  // namespace vigie::chat
