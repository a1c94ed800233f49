// A canned-response HTTP/1.1 server for HTTP client tests: 127.0.0.1, port 0, its own thread.
// With TLS (the default) it presents the given certificate (tests/fixtures/tls/cert.pem); plain,
// it is a server the test controls where the real one cannot be made to misbehave: one that
// never answers, that closes kept-alive connections, that counts connections. Every request gets
// the same response. Beast stays in the .cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace vigie::testing {

class TlsServer {
 public:
  struct Options {
    bool tls = true;
    std::string cert_file;  // PEM certificate chain and key, required with tls
    std::string key_file;
    int status = 200;
    std::string body = "hello";
    // How the body is delimited: Content-Length, chunked encoding, or the connection's end.
    enum class Framing { content_length, chunked, until_close };
    Framing framing = Framing::content_length;
    // false: read requests and never answer them (client timeouts); the connection stays open.
    bool respond = true;
    // Announce keep-alive but close the connection right after each response: an upstream whose
    // idle timeout is shorter than the client's, leaving the client a dead pooled connection.
    bool close_after_response = false;
    // When > 0: the Nth request on a connection (1-based) and later ones are read and the
    // connection is closed unanswered, as a server does that closes an idle connection just as
    // a request arrives.
    std::size_t drop_request = 0;
    // When > 0: the Nth request on a connection (1-based) and later ones are read and never
    // answered, the connection left open: an upstream that hangs on a kept-alive connection.
    std::size_t stall_request = 0;
  };

  // Binds and starts serving; aborts the test (throws std::runtime_error) when it cannot.
  explicit TlsServer(Options options);
  ~TlsServer();
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  std::uint16_t port() const;
  std::size_t connections() const;  // TCP connections accepted
  std::size_t handshakes() const;   // TLS handshakes completed
  std::size_t requests() const;     // requests read in full, answered or not
  std::string last_sni() const;     // server name the client sent ("" when none)
  std::string last_host() const;    // Host header of the last request
  std::string last_request() const; // "METHOD target" of the last request

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::testing
