// HttpServer: Beast sessions after the Boost.Beast 1.74 async server example. No exception
// leaves a handler: Beast errors arrive as error codes, and the user handler is called inside a
// try block that turns a throw into a 500.
#include "vigie/net/http_server.h"

#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include <unistd.h>

namespace vigie::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;

namespace {

HttpRequest to_request(const http::request<http::string_body>& req, const std::string& remote) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  const auto q = out.target.find('?');
  out.path = out.target.substr(0, q);
  if (q != std::string::npos) out.query = out.target.substr(q + 1);
  for (const auto& field : req) {
    out.headers.emplace(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = req.body();
  out.remote = remote;
  return out;
}

http::response<http::string_body> to_beast(const HttpResponse& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "vigie");
  res.set(http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  res.body() = r.body;
  res.prepare_payload();
  return res;
}

}  // namespace

// What outlives the server: a handler may keep a Respond after the server is gone (an ingest ack
// arriving late). Responding then must do nothing, and a session destroyed while the io_context
// shuts down must not touch freed memory.
struct ServerState {
  std::mutex mutex;
  bool running = true;  // guarded by mutex: posting to the io_context is allowed while true
  std::atomic<std::size_t> connections{0};
};

struct HttpServer::Impl {
  Options options;
  HttpHandler handler;
  Logger log;
  std::shared_ptr<ServerState> state = std::make_shared<ServerState>();
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::optional<local::acceptor> local_acceptor;  // with options.unix_socket, instead of acceptor
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::mutex done_mutex;
  std::condition_variable done_cv;
  int running_threads = 0;
  std::uint16_t port = 0;

  Impl(Options o, HttpHandler h, Logger l)
      : options(std::move(o)), handler(std::move(h)), log(std::move(l)) {}

  template <class Acceptor>
  void accept(Acceptor& on);
};

namespace {

// One connection, over TCP or a unix domain socket (Protocol): the HTTP is the same.
template <class Protocol>
class Session : public std::enable_shared_from_this<Session<Protocol>> {
 public:
  using std::enable_shared_from_this<Session<Protocol>>::shared_from_this;

  Session(typename Protocol::socket&& socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server), state_(server.state), timer_(stream_.get_executor()) {
    if constexpr (std::is_same_v<Protocol, tcp>) {
      beast::error_code ec;
      auto ep = stream_.socket().remote_endpoint(ec);
      if (!ec) remote_ = ep.address().to_string();
    } else {
      remote_ = "unix";
    }
    ++state_->connections;
  }
  ~Session() { --state_->connections; }

  void run() {
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::read, shared_from_this()));
  }

 private:
  void read() {
    if (server_.stopping) return close();
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
    stream_.expires_after(server_.options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      return close();
    }
    if (ec == http::error::body_limit) {
      return send(HttpResponse::json_error(413, "body too large",
                                           "the limit is " + std::to_string(server_.options.max_body_bytes) + " bytes"),
                  11, false);
    }
    if (ec == http::error::header_limit) {
      return send(HttpResponse::json_error(431, "headers too large"), 11, false);
    }
    if (ec) {
      return send(HttpResponse::json_error(400, "malformed HTTP request", ec.message()), 11, false);
    }
    auto& req = parser_->get();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    HttpRequest request = to_request(req, remote_);
    stream_.expires_never();

    // The Respond given to the handler holds the session weakly: only the pending timer below
    // keeps it alive, so a Respond kept past the server's life owns nothing.
    std::weak_ptr<Session> weak = shared_from_this();
    auto state = state_;
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Respond respond = [weak, state, answered](HttpResponse response) {
      if (answered->exchange(true)) return;  // a second answer is a handler bug: ignored
      std::lock_guard lock(state->mutex);
      if (!state->running) return;
      auto self = weak.lock();
      if (!self) return;
      asio::post(self->stream_.get_executor(), [self, r = std::move(response)]() mutable {
        self->timer_.cancel();
        self->send(r, self->version_, self->keep_alive_);
      });
    };
    // A handler that never answers must not hold the connection forever.
    timer_.expires_after(server_.options.handler_timeout);
    timer_.async_wait([self = shared_from_this(), respond](beast::error_code wait_ec) {
      if (!wait_ec) respond(HttpResponse::json_error(503, "request timed out", "try again"));
    });
    try {
      server_.handler(std::move(request), respond);
    } catch (const std::exception& e) {
      server_.log.error("handler threw", {{"error", e.what()}});
      respond(HttpResponse::json_error(500, "internal error"));
    } catch (...) {
      respond(HttpResponse::json_error(500, "internal error"));
    }
  }

  void send(const HttpResponse& response, unsigned version, bool keep_alive) {
    if (server_.stopping) keep_alive = false;
    res_ = std::make_shared<http::response<http::string_body>>(to_beast(response, version, keep_alive));
    stream_.expires_after(server_.options.write_timeout);
    http::async_write(stream_, *res_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this(), keep_alive));
  }

  void on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    res_.reset();
    if (ec || !keep_alive) return close();
    read();
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(Protocol::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::basic_stream<Protocol> stream_;
  HttpServer::Impl& server_;
  std::shared_ptr<ServerState> state_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> res_;
  std::string remote_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
};

}  // namespace

template <class Acceptor>
void HttpServer::Impl::accept(Acceptor& on) {
  using Protocol = typename Acceptor::protocol_type;
  on.async_accept(asio::make_strand(ioc), [this, &on](beast::error_code ec,
                                                      typename Protocol::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping) return;
      log.warn("accept failed", {{"error", ec.message()}});
    } else if (state->connections >= options.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);
      log.warn("connection refused: too many open", {{"limit", options.max_connections}});
    } else {
      std::make_shared<Session<Protocol>>(std::move(socket), *this)->run();
    }
    if (!stopping) accept(on);
  });
}

tl::expected<std::unique_ptr<HttpServer>, std::string> HttpServer::start(const Options& options,
                                                                       HttpHandler handler,
                                                                       Logger log) {
  auto impl = std::make_unique<Impl>(options, std::move(handler), std::move(log));
  beast::error_code ec;
  if (!options.unix_socket.empty()) {
    // A socket file left by a previous run would make bind fail: the caller owns the path.
    ::unlink(options.unix_socket.c_str());
    local::endpoint endpoint{options.unix_socket};
    auto& acceptor = impl->local_acceptor.emplace(impl->ioc);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return tl::unexpected("cannot listen on unix socket " + options.unix_socket + ": " + ec.message());
    impl->accept(acceptor);
  } else {
    const auto address = asio::ip::make_address(options.address, ec);
    if (ec) return tl::unexpected("invalid listen address '" + options.address + "'");
    tcp::endpoint endpoint{address, options.port};
    impl->acceptor.open(endpoint.protocol(), ec);
    if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) impl->acceptor.bind(endpoint, ec);
    if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return tl::unexpected("cannot listen on " + options.address + ":" +
                            std::to_string(options.port) + ": " + ec.message());
    }
    impl->port = impl->acceptor.local_endpoint().port();
    impl->accept(impl->acceptor);
  }
  const int n = std::max(1, options.threads);
  impl->running_threads = n;
  Impl* raw = impl.get();
  for (int i = 0; i < n; ++i) {
    impl->threads.emplace_back([raw] {
      raw->ioc.run();
      std::lock_guard lock(raw->done_mutex);
      --raw->running_threads;
      raw->done_cv.notify_all();
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::port() const { return impl_->port; }

std::size_t HttpServer::open_connections() const { return impl_->state->connections; }

void HttpServer::stop(std::chrono::milliseconds drain) {
  if (impl_->threads.empty()) return;
  impl_->stopping = true;
  asio::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    if (impl->local_acceptor) impl->local_acceptor->close(ec);
  });
  {
    // Sessions finish their request in flight and close; idle keep-alive reads end at their
    // read timeout, or when the drain period is over.
    std::unique_lock lock(impl_->done_mutex);
    impl_->done_cv.wait_for(lock, drain, [&] { return impl_->running_threads == 0; });
  }
  {
    std::lock_guard lock(impl_->state->mutex);
    impl_->state->running = false;  // from now on a late Respond does nothing
  }
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  if (!impl_->options.unix_socket.empty()) ::unlink(impl_->options.unix_socket.c_str());
}

std::optional<std::pair<std::string, std::uint16_t>> split_host_port(std::string_view listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string host(listen.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const auto p = listen.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || ptr != p.data() + p.size() || port > 65535) return std::nullopt;
  if (host == "localhost") host = "127.0.0.1";
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

}  // namespace vigie::net
