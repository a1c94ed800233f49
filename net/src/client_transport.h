// What the HTTP and WebSocket clients share below their protocols, so both connect, time out and
// verify peers the same way: the TLS client context (one function), SNI and peer-name checks per
// connection, bounded name resolution and TCP connect, and running one asynchronous operation on
// a connection's own io_context. Private to net/src: it includes Asio.
#pragma once

#include <utility>  // Asio 1.74 needs it before its headers under GCC 12 with C++20

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <tl/expected.hpp>

#include "vigie/core/time.h"
#include "vigie/net/http_client.h"

namespace vigie::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

inline ClientError client_error(ClientErrorKind kind, std::string message) {
  return ClientError{kind, std::move(message)};
}

// A TLS client context: TLS 1.2 or later; when verify_peer, the chain must lead to a CA of
// `ca_file` (PEM), or of the system store when that is empty. Thread-safe once built: every
// connection of a client shares it.
tl::expected<std::shared_ptr<asio::ssl::context>, ClientError> make_tls_context(
    bool verify_peer, const std::string& ca_file);

// Per connection, before the handshake: SNI with the host name (never an IP literal: RFC 6066),
// and, when verifying, the name or address the certificate must carry.
tl::expected<void, ClientError> set_tls_peer(SSL* ssl, const std::string& host, bool verify_peer);

// A failed TLS handshake as an error; says why certificate verification failed when it did.
ClientError tls_handshake_error(const beast::error_code& ec, SSL* ssl, const std::string& host);

// The instant `timeout` from now on the clock Asio's timers use. Network timeouts are real time
// by nature; taking the instant from a timer keeps this module free of direct clock reads.
SteadyPoint deadline_after(asio::io_context& ioc, Duration timeout);

// Resolves `host` (an IP literal or a `resolve` override skips resolution) and connects `stream`
// (on `ioc`, its io_context) to the first address that answers, all before `deadline`. Resolution runs on a helper thread:
// getaddrinfo cannot be cancelled, and a client must not hang on a slow DNS server.
tl::expected<void, ClientError> connect_tcp(asio::io_context& ioc, beast::tcp_stream& stream,
                                            const std::string& host, std::uint16_t port,
                                            SteadyPoint deadline,
                                            const std::map<std::string, std::string>& resolve);

// Starts one asynchronous operation with a completion handler recording its error, and runs the
// io_context until nothing is left to do. Only for streams with nothing else pending (the HTTP
// client); the operation's own timeout (tcp_stream expiry) bounds it.
template <class Start>
beast::error_code run_one(asio::io_context& ioc, Start&& start) {
  beast::error_code result = asio::error::operation_aborted;
  std::forward<Start>(start)([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

}  // namespace vigie::net::detail
