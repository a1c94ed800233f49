// TLS context, peer checks, deadlines and bounded connect shared by the HTTP and WebSocket
// clients (client_transport.h).
#include "client_transport.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace vigie::net::detail {

using tcp = asio::ip::tcp;

tl::expected<std::shared_ptr<asio::ssl::context>, ClientError> make_tls_context(
    bool verify_peer, const std::string& ca_file) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  // TLS 1.0 and 1.1 are deprecated (RFC 8996); every upstream we talk to speaks 1.2 or later.
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  beast::error_code ec;
  if (!verify_peer) {
    ctx->set_verify_mode(asio::ssl::verify_none, ec);
    return ctx;
  }
  ctx->set_verify_mode(asio::ssl::verify_peer, ec);
  if (ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) {
      return tl::unexpected(client_error(ClientErrorKind::tls,
                                         "cannot use the system CA store: " + ec.message()));
    }
  } else {
    ctx->load_verify_file(ca_file, ec);
    if (ec) {
      return tl::unexpected(client_error(ClientErrorKind::tls,
                                         "cannot load CA file '" + ca_file + "': " + ec.message()));
    }
  }
  return ctx;
}

tl::expected<void, ClientError> set_tls_peer(SSL* ssl, const std::string& host, bool verify_peer) {
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  const bool is_ip = !ec;
  if (!is_ip && !SSL_set_tlsext_host_name(ssl, host.c_str())) {
    return tl::unexpected(client_error(ClientErrorKind::tls, "cannot set SNI to '" + host + "'"));
  }
  if (!verify_peer) return {};
  // OpenSSL checks the certificate against these during the handshake: DNS SANs (or the CN when
  // there are none) for a name, IP SANs for an address.
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, address.to_string().c_str())
                       : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  if (ok != 1) {
    return tl::unexpected(client_error(ClientErrorKind::tls,
                                       "cannot verify the peer as '" + host + "'"));
  }
  return {};
}

ClientError tls_handshake_error(const beast::error_code& ec, SSL* ssl, const std::string& host) {
  if (ec == beast::error::timeout) {
    return client_error(ClientErrorKind::timeout, "TLS handshake with " + host + " timed out");
  }
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    return client_error(ClientErrorKind::tls, "certificate of " + host + " not trusted: " +
                                                  X509_verify_cert_error_string(verify));
  }
  return client_error(ClientErrorKind::tls, "TLS handshake with " + host + " failed: " + ec.message());
}

SteadyPoint deadline_after(asio::io_context& ioc, Duration timeout) {
  asio::steady_timer timer(ioc);
  timer.expires_after(timeout);
  return timer.expiry();
}

namespace {

// Shared between the caller and the resolver thread, which may outlive the caller's wait.
struct Resolution {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  beast::error_code ec;
  std::vector<tcp::endpoint> endpoints;
};

tl::expected<std::vector<tcp::endpoint>, ClientError> resolve_host(const std::string& host,
                                                                   std::uint16_t port,
                                                                   SteadyPoint deadline) {
  auto state = std::make_shared<Resolution>();
  std::thread([state, host, port] {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto results = resolver.resolve(host, std::to_string(port), ec);
    std::lock_guard lock(state->mutex);
    state->ec = ec;
    for (const auto& entry : results) state->endpoints.push_back(entry.endpoint());
    state->done = true;
    state->done_cv.notify_all();
  }).detach();
  std::unique_lock lock(state->mutex);
  if (!state->done_cv.wait_until(lock, deadline, [&] { return state->done; })) {
    return tl::unexpected(client_error(ClientErrorKind::timeout, "resolving " + host + " timed out"));
  }
  if (state->ec || state->endpoints.empty()) {
    return tl::unexpected(client_error(
        ClientErrorKind::resolve,
        "cannot resolve " + host + ": " + (state->ec ? state->ec.message() : "no address")));
  }
  return std::move(state->endpoints);
}

}  // namespace

tl::expected<void, ClientError> connect_tcp(asio::io_context& ioc, beast::tcp_stream& stream,
                                            const std::string& host, std::uint16_t port,
                                            SteadyPoint deadline,
                                            const std::map<std::string, std::string>& resolve) {
  std::vector<tcp::endpoint> endpoints;
  beast::error_code ec;
  const auto pinned = resolve.find(host);
  const auto literal = asio::ip::make_address(pinned != resolve.end() ? pinned->second : host, ec);
  if (!ec) {
    endpoints.emplace_back(literal, port);
  } else if (pinned != resolve.end()) {
    return tl::unexpected(client_error(ClientErrorKind::invalid_url,
                                       "the address given for " + host + " is not an IP address"));
  } else {
    auto resolved = resolve_host(host, port, deadline);
    if (!resolved) return tl::unexpected(resolved.error());
    endpoints = std::move(*resolved);
  }
  stream.expires_at(deadline);
  ec = run_one(ioc, [&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
  if (ec == beast::error::timeout) {
    return tl::unexpected(client_error(ClientErrorKind::timeout,
                                       "connecting to " + host + ":" + std::to_string(port) + " timed out"));
  }
  if (ec) {
    return tl::unexpected(client_error(ClientErrorKind::connect, "cannot connect to " + host + ":" +
                                                                     std::to_string(port) + ": " +
                                                                     ec.message()));
  }
  return {};
}

}  // namespace vigie::net::detail
