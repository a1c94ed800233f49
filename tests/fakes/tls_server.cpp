// TlsServer: one thread running an io_context; a session per connection, templated on the stream
// (plain tcp_stream or ssl_stream over it). Everything but the counters and the recorded names
// lives on that thread.
#include "tls_server.h"

#include <utility>  // Asio 1.74 needs it before its headers under GCC 12 with C++20

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace vigie::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct TlsServer::Impl {
  Options options;
  // Before the io_context: sessions still queued when it is destroyed hold SSL objects.
  asio::ssl::context ssl{asio::ssl::context::tls_server};
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  std::uint16_t port = 0;
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> handshakes{0};
  std::atomic<std::size_t> requests{0};
  mutable std::mutex mutex;
  std::string last_sni;  // guarded by mutex, as the two below
  std::string last_host;
  std::string last_request;

  explicit Impl(Options o) : options(std::move(o)) {}
  void accept();
};

namespace {

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  Session(tcp::socket&& socket, TlsServer::Impl& server)
      : server_(server), stream_(make(std::move(socket), server)) {}

  void start() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return;  // the client refused our certificate: expected
                                ++self->server_.handshakes;
                                const char* sni = SSL_get_servername(self->stream_.native_handle(),
                                                                     TLSEXT_NAMETYPE_host_name);
                                std::lock_guard lock(self->server_.mutex);
                                self->server_.last_sni = sni ? sni : "";
                                self->read();
                              });
    } else {
      read();
    }
  }

 private:
  static Stream make(tcp::socket&& socket, TlsServer::Impl& server) {
    if constexpr (kTls) {
      return Stream(std::move(socket), server.ssl);
    } else {
      (void)server;
      return Stream(std::move(socket));
    }
  }

  void read() {
    // No timeout on the wait for a request: a kept-alive client may sit idle for the whole test.
    beast::get_lowest_layer(stream_).expires_never();
    request_ = {};
    http::async_read(stream_, buffer_, request_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec) return close();
    ++served_;
    ++server_.requests;
    {
      std::lock_guard lock(server_.mutex);
      server_.last_host = std::string(request_[http::field::host]);
      server_.last_request = std::string(request_.method_string()) + " " + std::string(request_.target());
    }
    const auto& options = server_.options;
    if (options.drop_request > 0 && served_ >= options.drop_request) return close();
    // Never answering: wait for a next request that will not come, which keeps the session
    // (and the connection) open until the client gives up.
    if (!options.respond || (options.stall_request > 0 && served_ >= options.stall_request)) return read();
    response_ = {static_cast<http::status>(options.status), request_.version()};
    response_.set(http::field::server, "vigie-test-tls");
    response_.set(http::field::content_type, "text/plain");
    response_.keep_alive(request_.keep_alive());
    response_.body() = request_.method() == http::verb::head ? "" : options.body;
    switch (options.framing) {
      case TlsServer::Options::Framing::content_length:
        response_.prepare_payload();
        if (request_.method() == http::verb::head) response_.content_length(options.body.size());
        break;
      case TlsServer::Options::Framing::chunked:
        response_.chunked(true);
        break;
      case TlsServer::Options::Framing::until_close:
        response_.keep_alive(false);
        break;
    }
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
    http::async_write(stream_, response_,
                      [self = this->shared_from_this()](beast::error_code write_ec, std::size_t) {
                        if (write_ec || self->server_.options.close_after_response ||
                            !self->response_.keep_alive()) {
                          return self->close();
                        }
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).close();
  }

  TlsServer::Impl& server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::size_t served_ = 0;
};

}  // namespace

void TlsServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // the acceptor was closed: the server is stopping
    ++connections;
    if (options.tls) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(std::move(socket), *this)->start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(std::move(socket), *this)->start();
    }
    accept();
  });
}

TlsServer::TlsServer(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto& impl = *impl_;
  if (impl.options.tls) {
    beast::error_code ec;
    impl.ssl.use_certificate_chain_file(impl.options.cert_file, ec);
    if (!ec) impl.ssl.use_private_key_file(impl.options.key_file, asio::ssl::context::pem, ec);
    if (ec) throw std::runtime_error("TlsServer: cannot load certificate or key: " + ec.message());
  }
  const tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), 0};
  impl.acceptor.open(endpoint.protocol());
  impl.acceptor.bind(endpoint);
  impl.acceptor.listen();
  impl.port = impl.acceptor.local_endpoint().port();
  impl.accept();
  impl.thread = std::thread([&impl] { impl.ioc.run(); });
}

TlsServer::~TlsServer() {
  impl_->ioc.stop();
  impl_->thread.join();
}

std::uint16_t TlsServer::port() const { return impl_->port; }
std::size_t TlsServer::connections() const { return impl_->connections; }
std::size_t TlsServer::handshakes() const { return impl_->handshakes; }
std::size_t TlsServer::requests() const { return impl_->requests; }

std::string TlsServer::last_sni() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->last_sni;
}

std::string TlsServer::last_host() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->last_host;
}

std::string TlsServer::last_request() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->last_request;
}

}  // namespace vigie::testing
