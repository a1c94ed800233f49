// The outbound HTTP(S) client every collector and action shares (Slack, NewRelic, Heroku...):
// one blocking `send` per request, safe from several threads, keep-alive connections pooled per
// (scheme, host, port), certificate and host name verification on by default, every step bounded
// in time, response bodies bounded in size. Callers see plain values; Beast stays in net/src.
// HttpClient is the seam: tests of the modules above substitute a fake for it.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "vigie/core/log.h"
#include "vigie/core/time.h"
#include "vigie/net/http.h"
#include "vigie/net/url.h"

namespace vigie::net {

struct ClientRequest {
  std::string method = "GET";
  Url url;  // http or https
  // Sent as given. Host and User-Agent are added unless present; Content-Length is computed.
  // Values are never logged (Authorization carries secrets).
  Headers headers;
  std::string body;
  // Bounds writing this request and reading its response when shorter than the client's
  // request_timeout (it never lengthens it): what is left of a collector's poll, say.
  std::optional<Duration> timeout;
};

struct ClientResponse {
  int status = 0;
  Headers headers;  // a repeated header's values are joined with ", "
  std::string body;

  std::optional<std::string> header(std::string_view name) const;
};

enum class ClientErrorKind {
  invalid_url,     // the request cannot be sent as given: scheme, empty host, CR/LF in a header
  resolve,         // the host name did not resolve
  connect,         // no TCP connection (refused, unreachable)
  tls,             // handshake or certificate verification failed, or the CA file is unusable
  timeout,         // a step took longer than its timeout
  protocol,        // the peer broke HTTP/WebSocket (closed early, malformed response, close frame)
  body_too_large,  // the response body (or WebSocket message) is over the limit
};

struct ClientError {
  ClientErrorKind kind;
  std::string message;

  // Whether trying again later may succeed: true for resolve, connect, timeout and protocol.
  // A TLS failure or an over-large body will fail the same way again.
  bool retryable() const;
};

// "invalid_url", "resolve", ... as they appear in logs and events.
std::string_view client_error_name(ClientErrorKind kind);

struct HttpClientOptions {
  Duration connect_timeout{5'000};   // resolve + TCP connect + TLS handshake
  Duration request_timeout{30'000};  // writing the request + reading the whole response
  std::size_t max_body_bytes = 8u << 20;
  bool verify_peer = true;
  std::string ca_file;  // PEM bundle of trusted CAs; empty: the system store
  std::string user_agent = "vigie";
  std::size_t max_idle_per_host = 4;  // keep-alive connections kept per (scheme, host, port)
  // Host name → IP address to connect to instead of resolving the name (curl's --resolve): SNI
  // and certificate verification still use the URL's host. Tests and pinned upstreams.
  std::map<std::string, std::string> resolve;
  // When set, every request goes over this unix domain socket (the Docker Engine API's
  // /var/run/docker.sock) instead of TCP: the URL gives only the target and the Host header,
  // and must be http (https is refused with invalid_url).
  std::string unix_socket;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends one request and reads the whole response. Blocks; any status is a response, only
  // transport failures are errors. Never throws.
  virtual tl::expected<ClientResponse, ClientError> send(const ClientRequest& request) = 0;
};

// The Beast client. A CA file that cannot be loaded makes every send fail with kind tls (the
// failure is also logged once here).
std::unique_ptr<HttpClient> make_http_client(HttpClientOptions options, Logger log);

}  // namespace vigie::net
