// The WebSocket client for Slack Socket Mode (wss://): a blocking connection used from one
// thread, with keep-alive pings, an idle timeout that ends a connection whose server went silent,
// and the same TLS verification as the HTTP client. Beast stays in net/src.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "vigie/core/log.h"
#include "vigie/core/time.h"
#include "vigie/net/http_client.h"
#include "vigie/net/url.h"

namespace vigie::net {

struct WebSocketOptions {
  Duration connect_timeout{10'000};  // resolve + TCP + TLS + the WebSocket handshake
  // Nothing heard from the server for half of this: a ping goes out; for all of it: the
  // connection ends with a timeout error.
  Duration idle_timeout{60'000};
  bool verify_peer = true;
  std::string ca_file;  // PEM bundle of trusted CAs; empty: the system store
  std::size_t max_message_bytes = 1u << 20;
  std::string user_agent = "vigie";
};

// Not thread-safe: one thread reads, writes and closes. Pings, pongs and the idle timeout run
// only inside read and write, so the owner calls read in a loop (with a timeout of a second or
// so when it has other work). After an error the connection is finished: every later call
// returns that error again.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  // Waits up to `timeout` for the next text message; nullopt-in-value when none arrived yet
  // (the read stays pending for the next call). Binary messages are skipped.
  virtual tl::expected<std::optional<std::string>, ClientError> read(Duration timeout) = 0;
  // Sends one text message; waits at most idle_timeout for the send to complete.
  virtual tl::expected<void, ClientError> write(std::string_view text) = 0;
  // Sends a close frame and waits for the server's, at most connect_timeout. Idempotent; the
  // destructor closes too.
  virtual void close() = 0;
};

// Connects to a ws:// or wss:// URL (the target, query included, is the handshake's request
// target). Errors as for HttpClient: invalid_url, resolve, connect, tls, timeout, protocol (the
// server refused the upgrade).
tl::expected<std::unique_ptr<WebSocketConnection>, ClientError> connect_websocket(
    const Url& url, WebSocketOptions options, Logger log);

}  // namespace vigie::net
