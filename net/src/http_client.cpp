// The Beast HTTP(S) client. Every connection owns an io_context, so a `send` runs all of its
// asynchronous operations on the calling thread (async only to get Beast's per-operation
// timeouts); threads share nothing but the TLS context and the idle pool, under a mutex.
// No exception leaves `send`: Beast errors arrive as error codes, and anything thrown (bad_alloc,
// a Beast precondition) becomes an error value.
#include "vigie/net/http_client.h"

#include "client_transport.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <mutex>
#include <optional>
#include <vector>

namespace vigie::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
using detail::client_error;

std::optional<std::string> ClientResponse::header(std::string_view name) const {
  const auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

bool ClientError::retryable() const {
  switch (kind) {
    case ClientErrorKind::resolve:
    case ClientErrorKind::connect:
    case ClientErrorKind::timeout:
    case ClientErrorKind::protocol:
      return true;
    case ClientErrorKind::invalid_url:
    case ClientErrorKind::tls:
    case ClientErrorKind::body_too_large:
      return false;
  }
  return false;
}

std::string_view client_error_name(ClientErrorKind kind) {
  switch (kind) {
    case ClientErrorKind::invalid_url: return "invalid_url";
    case ClientErrorKind::resolve: return "resolve";
    case ClientErrorKind::connect: return "connect";
    case ClientErrorKind::tls: return "tls";
    case ClientErrorKind::timeout: return "timeout";
    case ClientErrorKind::protocol: return "protocol";
    case ClientErrorKind::body_too_large: return "body_too_large";
  }
  return "unknown";
}

namespace {

// Response headers beyond this are a broken or hostile upstream, not a bigger buffer's job.
constexpr std::uint32_t kMaxResponseHeaderBytes = 64 << 10;

using Request = http::request<http::string_body>;

// RFC 9110 token characters: what a method and a header name may hold.
bool is_token(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

// A CR or LF in a header value would let it smuggle headers or a second request.
bool is_field_value(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Methods a server must treat as safe to repeat (RFC 9110 9.2.2): only those are sent again
// when a kept-alive connection turns out dead.
bool is_idempotent(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"}) {
    if (method == m) return true;
  }
  return false;
}

// The path without the query for logs: queries may carry API keys.
std::string log_path(const Url& url) { return url.target.substr(0, url.target.find('?')); }

// A pooled connection is worth reusing only if the server has neither closed it nor sent
// anything while it sat idle: peek without blocking, and keep it only when there is nothing.
template <class Socket>
bool stale_socket(Socket& socket) {
  if (!socket.is_open()) return true;
  beast::error_code ec;
  socket.non_blocking(true, ec);
  if (ec) return true;
  char byte = 0;
  socket.receive(asio::buffer(&byte, 1), Socket::message_peek, ec);
  beast::error_code ignored;
  socket.non_blocking(false, ignored);
  return ec != asio::error::would_block;
}

// One connection, idle in the pool or used by exactly one send: TCP, TLS over TCP, or a unix
// domain socket (HttpClientOptions::unix_socket).
struct Connection {
  // Declared first so it is destroyed last: the streams use its services.
  asio::io_context ioc;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  std::optional<beast::basic_stream<local>> unix_stream;
  beast::flat_buffer buffer;

  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  bool stale() { return unix_stream ? stale_socket(unix_stream->socket()) : stale_socket(tcp().socket()); }
};

struct Exchange {
  std::optional<ClientError> error;
  // The request failed before any byte of a response arrived: on a reused connection, the
  // server had closed it, and the request can go again on a new one.
  bool nothing_received = false;
  bool keep_alive = false;
  http::response<http::string_body> response;
};

ClientError transfer_error(const beast::error_code& ec, std::string_view step,
                           const HttpClientOptions& options, Duration budget) {
  if (ec == beast::error::timeout) {
    return client_error(ClientErrorKind::timeout,
                        std::string(step) + " timed out (after " + std::to_string(budget.count()) + "ms)");
  }
  if (ec == http::error::body_limit) {
    return client_error(ClientErrorKind::body_too_large,
                        "response body over " + std::to_string(options.max_body_bytes) + " bytes");
  }
  return client_error(ClientErrorKind::protocol, std::string(step) + " failed: " + ec.message());
}

template <class Stream>
Exchange exchange_on(Stream& stream, Connection& conn, Request& request,
                     const HttpClientOptions& options, Duration budget) {
  Exchange out;
  // One budget for writing and reading: the expiry stays set across both operations.
  beast::get_lowest_layer(stream).expires_after(budget);
  auto ec = detail::run_one(conn.ioc, [&](auto handler) {
    http::async_write(stream, request, std::move(handler));
  });
  if (ec) {
    out.nothing_received = true;
    out.error = transfer_error(ec, "sending the request", options, budget);
    return out;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.max_body_bytes);
  parser.header_limit(kMaxResponseHeaderBytes);
  // A response to HEAD announces a body it does not carry.
  if (request.method() == http::verb::head) parser.skip(true);
  // The header first: Beast 1.74 lets a Content-Length over body_limit through when the parser
  // is eager, as async_read makes it (boostorg/beast#2183), so that one case is checked here.
  // Chunked and read-to-close bodies are held to body_limit by the parser itself.
  ec = detail::run_one(conn.ioc, [&](auto handler) {
    http::async_read_header(stream, conn.buffer, parser, std::move(handler));
  });
  if (!ec && !parser.is_done() && parser.content_length() &&
      *parser.content_length() > options.max_body_bytes) {
    ec = http::error::body_limit;
  }
  if (!ec && !parser.is_done()) {
    ec = detail::run_one(conn.ioc, [&](auto handler) {
      http::async_read(stream, conn.buffer, parser, std::move(handler));
    });
  }
  if (ec) {
    out.nothing_received = !parser.got_some() && conn.buffer.size() == 0;
    out.error = transfer_error(ec, "reading the response", options, budget);
    return out;
  }
  out.keep_alive = parser.keep_alive();
  out.response = parser.release();
  return out;
}

class BeastHttpClient final : public HttpClient {
 public:
  BeastHttpClient(HttpClientOptions options, Logger log)
      : options_(std::move(options)), log_(std::move(log)) {
    auto ctx = detail::make_tls_context(options_.verify_peer, options_.ca_file);
    if (ctx) {
      tls_ = std::move(*ctx);
    } else {
      tls_error_ = ctx.error();
      log_.error("HTTPS disabled", {{"error", ctx.error().message}});
    }
    if (!options_.verify_peer) log_.warn("TLS peer verification is off");
  }

  tl::expected<ClientResponse, ClientError> send(const ClientRequest& request) override {
    try {
      auto result = send_checked(request);
      if (!result) {
        log_.debug("request failed", {{"method", request.method},
                                      {"host", request.url.host},
                                      {"path", log_path(request.url)},
                                      {"error", client_error_name(result.error().kind)},
                                      {"detail", result.error().message}});
      }
      return result;
    } catch (const std::exception& e) {
      return tl::unexpected(client_error(ClientErrorKind::protocol,
                                         std::string("request failed: ") + e.what()));
    } catch (...) {
      return tl::unexpected(client_error(ClientErrorKind::protocol, "request failed"));
    }
  }

 private:
  tl::expected<ClientResponse, ClientError> send_checked(const ClientRequest& request) {
    const Url& url = request.url;
    if (url.scheme != "http" && url.scheme != "https") {
      return tl::unexpected(client_error(ClientErrorKind::invalid_url,
                                         "scheme '" + url.scheme + "' is not http or https"));
    }
    if (!options_.unix_socket.empty() && url.tls()) {
      return tl::unexpected(client_error(ClientErrorKind::invalid_url,
                                         "https is not supported over a unix socket"));
    }
    if (url.host.empty() || url.port == 0 || url.target.empty() || url.target[0] != '/') {
      return tl::unexpected(client_error(ClientErrorKind::invalid_url,
                                         "incomplete URL '" + url.to_string() + "'"));
    }
    if (!is_token(request.method)) {
      return tl::unexpected(client_error(ClientErrorKind::invalid_url,
                                         "invalid method '" + request.method + "'"));
    }
    for (const auto& [name, value] : request.headers) {
      if (!is_token(name) || !is_field_value(value)) {
        // The value is not shown: it may be a credential.
        return tl::unexpected(client_error(ClientErrorKind::invalid_url,
                                           "invalid header '" + name + "'"));
      }
    }
    if (url.tls() && !tls_) return tl::unexpected(*tls_error_);

    Request beast_request = to_beast(request);
    const std::string key = options_.unix_socket.empty() ? url.scheme + "://" + url.host_header()
                                                         : "unix:" + options_.unix_socket;

    const Duration budget =
        request.timeout ? std::min(*request.timeout, options_.request_timeout) : options_.request_timeout;
    if (auto conn = take_idle(key)) {
      Exchange reused = exchange(*conn, beast_request, budget);
      if (!reused.error) return finish(key, std::move(conn), std::move(reused));
      // Only a connection the server had closed is worth a second try; a server that took the
      // request and said nothing in time would make the caller wait the whole budget again.
      if (!reused.nothing_received || reused.error->kind == ClientErrorKind::timeout ||
          !is_idempotent(request.method)) {
        return tl::unexpected(*reused.error);
      }
      log_.debug("kept-alive connection closed by the server; retrying on a new one",
                 {{"host", url.host}, {"error", reused.error->message}});
    }
    auto conn = open(url);
    if (!conn) return tl::unexpected(conn.error());
    Exchange fresh = exchange(**conn, beast_request, budget);
    if (fresh.error) return tl::unexpected(*fresh.error);
    return finish(key, std::move(*conn), std::move(fresh));
  }

  Request to_beast(const ClientRequest& request) const {
    Request out;
    out.method_string(request.method);
    out.target(request.url.target);
    out.version(11);
    for (const auto& [name, value] : request.headers) out.insert(name, value);
    if (!request.headers.contains("host")) out.set(http::field::host, request.url.host_header());
    if (!request.headers.contains("user-agent")) out.set(http::field::user_agent, options_.user_agent);
    // The framing is ours to compute: a caller's stale Content-Length would desynchronise the
    // connection.
    out.erase(http::field::content_length);
    out.erase(http::field::transfer_encoding);
    out.body() = request.body;
    out.prepare_payload();
    return out;
  }

  Exchange exchange(Connection& conn, Request& request, Duration budget) {
    if (conn.unix_stream) return exchange_on(*conn.unix_stream, conn, request, options_, budget);
    return conn.tls ? exchange_on(*conn.tls, conn, request, options_, budget)
                    : exchange_on(*conn.plain, conn, request, options_, budget);
  }

  tl::expected<std::unique_ptr<Connection>, ClientError> open(const Url& url) {
    auto conn = std::make_unique<Connection>();
    const auto deadline = detail::deadline_after(conn->ioc, options_.connect_timeout);
    if (!options_.unix_socket.empty()) return open_unix(std::move(conn), deadline);
    if (url.tls()) {
      conn->tls.emplace(conn->ioc, *tls_);
      auto peer = detail::set_tls_peer(conn->tls->native_handle(), url.host, options_.verify_peer);
      if (!peer) return tl::unexpected(peer.error());
    } else {
      conn->plain.emplace(conn->ioc);
    }
    auto connected = detail::connect_tcp(conn->ioc, conn->tcp(), url.host, url.port, deadline,
                                         options_.resolve);
    if (!connected) return tl::unexpected(connected.error());
    if (conn->tls) {
      conn->tcp().expires_at(deadline);
      const auto ec = detail::run_one(conn->ioc, [&](auto handler) {
        conn->tls->async_handshake(asio::ssl::stream_base::client, std::move(handler));
      });
      if (ec) {
        return tl::unexpected(detail::tls_handshake_error(ec, conn->tls->native_handle(), url.host));
      }
    }
    log_.debug("connected", {{"host", url.host}, {"port", url.port}, {"tls", url.tls()}});
    return conn;
  }

  tl::expected<std::unique_ptr<Connection>, ClientError> open_unix(std::unique_ptr<Connection> conn,
                                                                   SteadyPoint deadline) {
    auto& stream = conn->unix_stream.emplace(conn->ioc);
    stream.expires_at(deadline);
    const auto ec = detail::run_one(conn->ioc, [&](auto handler) {
      stream.async_connect(local::endpoint(options_.unix_socket), std::move(handler));
    });
    if (ec == beast::error::timeout) {
      return tl::unexpected(client_error(ClientErrorKind::timeout,
                                         "connecting to unix socket " + options_.unix_socket +
                                             " timed out"));
    }
    if (ec) {
      return tl::unexpected(client_error(ClientErrorKind::connect,
                                         "cannot connect to unix socket " + options_.unix_socket +
                                             ": " + ec.message()));
    }
    log_.debug("connected", {{"socket", options_.unix_socket}});
    return conn;
  }

  tl::expected<ClientResponse, ClientError> finish(const std::string& key,
                                                   std::unique_ptr<Connection> conn,
                                                   Exchange result) {
    // Leftover bytes after a complete response mean the framing is off: never reuse that.
    if (result.keep_alive && conn->buffer.size() == 0) give_back(key, std::move(conn));
    ClientResponse out;
    out.status = static_cast<int>(result.response.result_int());
    for (const auto& field : result.response) {
      std::string name(field.name_string());
      auto [it, inserted] = out.headers.try_emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());
    }
    out.body = std::move(result.response.body());
    return out;
  }

  std::unique_ptr<Connection> take_idle(const std::string& key) {
    while (true) {
      std::unique_ptr<Connection> conn;
      {
        std::lock_guard lock(mutex_);
        auto it = idle_.find(key);
        if (it == idle_.end() || it->second.empty()) return nullptr;
        conn = std::move(it->second.back());  // the most recently used is the likeliest alive
        it->second.pop_back();
      }
      if (!conn->stale()) return conn;
      log_.debug("dropping a kept-alive connection the server closed", {{"pool", key}});
    }
  }

  void give_back(const std::string& key, std::unique_ptr<Connection> conn) {
    std::lock_guard lock(mutex_);
    auto& idle = idle_[key];
    if (idle.size() < options_.max_idle_per_host) idle.push_back(std::move(conn));
  }

  const HttpClientOptions options_;
  const Logger log_;
  std::shared_ptr<asio::ssl::context> tls_;  // null when the CA setup failed: see tls_error_
  std::optional<ClientError> tls_error_;
  std::mutex mutex_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;  // guarded by mutex_
};

}  // namespace

std::unique_ptr<HttpClient> make_http_client(HttpClientOptions options, Logger log) {
  return std::make_unique<BeastHttpClient>(std::move(options), std::move(log));
}

}  // namespace vigie::net
