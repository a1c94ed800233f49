// A fake Slack for tests and the demo: in-process, 127.0.0.1, port 0. It answers the Web API
// methods Vigie calls (chat.postMessage, chat.update, chat.postEphemeral, reactions.add,
// apps.connections.open, and POSTs to response_url) with the documented response shapes and
// errors, keeps the messages it was sent (with their edits and thread replies), records every
// request, fails on demand (429 with Retry-After, ok:false errors, 5xx), serves a Socket Mode
// endpoint that sends envelopes and disconnects, and signs requests as Slack does.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigie/core/time.h"
#include "vigie/net/http.h"

namespace vigie::testing {

class FakeSlack {
 public:
  // One Web API call (or response_url POST) as received.
  struct Request {
    std::string method;  // "chat.postMessage", ..., or "response_url"
    std::string path;
    net::Headers headers;
    std::string body;
    nlohmann::json args;  // the JSON body, or the form fields as a JSON object of strings
    int status = 0;       // what the fake answered
    std::string error;    // Slack's `error` when it answered ok:false
  };

  struct Message {
    std::string channel, ts, thread_ts;  // thread_ts empty for a top-level message
    std::string text;
    nlohmann::json blocks = nlohmann::json::array();
    int edits = 0;  // chat.update calls applied to it
  };

  // The bot token (xoxb-...) and app token (xapp-...) the fake accepts; others get invalid_auth.
  explicit FakeSlack(std::string bot_token = "xoxb-fake-bot", std::string app_token = "xapp-fake-app");
  ~FakeSlack();
  FakeSlack(const FakeSlack&) = delete;
  FakeSlack& operator=(const FakeSlack&) = delete;

  // http://127.0.0.1:<port>/api — the value of [slack] base_url.
  std::string base_url() const;
  // A response_url the fake records POSTs to ("http://127.0.0.1:<port>/response/<name>").
  std::string response_url(const std::string& name) const;

  std::vector<Request> requests() const;
  std::size_t count(const std::string& method) const;
  // The first request (past or future) for which pred holds, waiting up to `timeout`.
  std::optional<Request> wait_for_request(const std::function<bool(const Request&)>& pred,
                                          std::chrono::milliseconds timeout) const;

  // The next call of `method` fails: `status` 429 adds Retry-After (seconds) when given; other
  // statuses answer {"ok":false,"error":error} (200 is how Slack reports most errors). Queued in
  // order, one per call.
  void fail_next(const std::string& method, int status, std::string error = {},
                 std::optional<int> retry_after = std::nullopt);

  // From now on, calls of `method` are applied and recorded as usual but their answers are held
  // back until release_held(): "Slack acted, the caller never heard" — a crash test kills Vigie
  // while an answer is held. wait_held waits (bounded) until `count` answers are held.
  void hold_answers(const std::string& method);
  bool wait_held(std::size_t count, std::chrono::milliseconds timeout) const;
  void release_held();  // sends every held answer (to a caller that may be gone) and stops holding

  std::vector<Message> messages() const;  // top-level messages, in posting order
  std::vector<Message> replies(const std::string& channel, const std::string& thread_ts) const;
  std::optional<Message> message(const std::string& channel, const std::string& ts) const;

  // --- Socket Mode ---------------------------------------------------------------------------
  // Connections opened through apps.connections.open (each gets "hello" on connect).
  std::size_t socket_connections() const;
  std::size_t open_socket_connections() const;
  bool wait_for_socket_connections(std::size_t count, std::chrono::milliseconds timeout) const;
  // Sends an envelope on the newest open connection; @return its envelope_id.
  std::string send_envelope(const std::string& type, nlohmann::json payload,
                            bool accepts_response_payload = false, int retry_attempt = 0);
  // {"type":"disconnect","reason":reason} on the newest open connection.
  void send_disconnect(const std::string& reason);
  // The ack for `envelope_id` ({"envelope_id":...,"payload"?:...}), waiting up to `timeout`.
  std::optional<nlohmann::json> wait_for_ack(const std::string& envelope_id,
                                             std::chrono::milliseconds timeout) const;
  // How many acks for `envelope_id` arrived so far (a redelivery handled twice shows 2).
  std::size_t acks(const std::string& envelope_id) const;
  // Any text (garbage included) on the newest connection.
  void send_socket_text(std::string text);
  // Cuts every Socket Mode connection without a close frame (a network failure).
  void drop_socket_connections();
  // For each connection in order, how many others were open when it was accepted: a client that
  // opens the new connection before closing the old one shows 1 for the replacement.
  std::vector<std::size_t> open_socket_connections_at_connect() const;

  // X-Slack-Request-Timestamp and X-Slack-Signature for `body` at `now`, as Slack computes them.
  static net::Headers signed_headers(const std::string& signing_secret, const std::string& body,
                                     TimePoint now);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::testing
