// A WebSocket server for client tests, general enough to carry the fake Slack Socket Mode
// endpoint later: 127.0.0.1, port 0, its own thread; plain ws, or wss with a given certificate.
// It records what clients send, pushes text to them, closes them with a close frame or drops
// them, counts connections, and calls hooks on connect and on each message (on its thread, where
// the hooks may call send_to and disconnect). Beast stays in the .cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vigie::testing {

class WsServer {
 public:
  struct Options {
    bool tls = false;
    std::string cert_file;  // PEM, required with tls
    std::string key_file;
    // false: complete the handshake, then never read: the client's pings go unanswered and
    // nothing it sends is received (a server gone silent).
    bool read = true;
    // Called after each handshake, before the first read: `id` names the connection for
    // send_to; `target` is the request target (path and query) the client asked for.
    std::function<void(std::size_t id, const std::string& target)> on_connect;
    // Called for each text message received, after it is recorded.
    std::function<void(std::size_t id, const std::string& text)> on_message;
  };

  // Binds and starts serving; throws std::runtime_error when it cannot.
  WsServer();
  explicit WsServer(Options options);
  ~WsServer();
  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  std::uint16_t port() const;
  // Queues a text message to every open connection / to one connection (ignored when closed).
  void send(std::string text);
  void send_to(std::size_t id, std::string text);
  // Sends a close frame (after queued messages) to every open connection.
  void disconnect(std::uint16_t code = 1000, std::string reason = {});
  // Closes every connection's socket without a close frame (a crash, a network cut).
  void drop();

  std::size_t connections() const;       // handshakes completed (and on_connect returned) so far
  std::size_t open_connections() const;  // handshakes completed and not yet closed
  std::vector<std::string> received() const;
  // The first received message (past or future) for which pred holds, waiting up to `timeout`.
  std::optional<std::string> wait_for_message(const std::function<bool(const std::string&)>& pred,
                                              std::chrono::milliseconds timeout) const;
  // Waits until `count` handshakes have completed; false on timeout.
  bool wait_for_connections(std::size_t count, std::chrono::milliseconds timeout) const;
  // Waits until no connection is open; false on timeout.
  bool wait_for_no_open_connection(std::chrono::milliseconds timeout) const;
  std::string last_user_agent() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::testing
