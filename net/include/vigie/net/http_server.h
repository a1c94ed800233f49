// The HTTP/1.1 server (Boost.Beast): one session object per connection, each on its own strand,
// every step bounded by a timeout, header and body limits, keep-alive; over TCP or a unix socket. What a request means is
// the HttpHandler's business; this file only moves bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <tl/expected.hpp>

#include "vigie/core/log.h"
#include "vigie/net/http.h"

namespace vigie::net {

class HttpServer {
 public:
  struct Options {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;  // 0: the OS picks (tests); see port()
    // When set, listen on this unix domain socket path instead of address:port (an existing
    // file there is replaced, and removed on stop): local-only upstreams such as the Docker
    // Engine API's fake.
    std::string unix_socket;
    std::size_t max_body_bytes = 1 << 20;
    std::size_t max_header_bytes = 16 << 10;
    std::chrono::milliseconds read_timeout{30'000};    // a request must arrive in full within
    std::chrono::milliseconds write_timeout{30'000};
    std::chrono::milliseconds handler_timeout{30'000};  // a handler that never answers gets 503
    std::size_t max_connections = 1024;  // beyond: accepted and closed at once
    int threads = 1;
  };

  // Binds and starts serving on `options.threads` threads.
  static tl::expected<std::unique_ptr<HttpServer>, std::string> start(const Options& options,
                                                                       HttpHandler handler,
                                                                       Logger log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const;  // 0 on a unix socket
  std::size_t open_connections() const;
  // Stops accepting, lets requests in flight finish for up to `drain`, then closes everything.
  void stop(std::chrono::milliseconds drain = std::chrono::milliseconds(5000));

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "host:port" → address and port. @return nothing when malformed.
std::optional<std::pair<std::string, std::uint16_t>> split_host_port(std::string_view listen);

}  // namespace vigie::net
