// The Beast WebSocket client. The connection owns its io_context and runs it only inside read,
// write and close, on the caller's thread: one read stays pending across calls (a read that
// timed out for the caller keeps waiting for the next message), and Beast's timer sends the
// keep-alive pings and ends a connection whose server went silent. Handlers capture `this`
// safely: the io_context is a member, never run once the object is gone, and destroyed last.
#include "vigie/net/websocket.h"

#include "client_transport.h"

#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <chrono>
#include <type_traits>

namespace vigie::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using detail::client_error;

namespace {

// How long abort_and_drain waits for abandoned operations once the socket is closed; they
// complete at once, this only bounds a surprise.
constexpr Duration kDrain{1'000};

template <class NextLayer>
class BeastWebSocket final : public WebSocketConnection {
  static constexpr bool kTls = !std::is_same_v<NextLayer, beast::tcp_stream>;

 public:
  BeastWebSocket(WebSocketOptions options, Logger log, std::shared_ptr<asio::ssl::context> tls)
      : options_(std::move(options)),
        log_(std::move(log)),
        tls_(std::move(tls)),
        ws_(make_stream(ioc_, tls_.get())),
        wait_timer_(ioc_) {}

  ~BeastWebSocket() override {
    close();
    // Closing the socket completes what is pending; poll runs those handlers without waiting
    // for Beast's idle timer, which stays armed after a failure. Whatever is left is destroyed
    // with the io_context, never run.
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    ioc_.restart();
    ioc_.poll();
  }

  tl::expected<void, ClientError> connect(const Url& url) {
    const auto deadline = detail::deadline_after(ioc_, options_.connect_timeout);
    if constexpr (kTls) {
      auto peer = detail::set_tls_peer(ws_.next_layer().native_handle(), url.host, options_.verify_peer);
      if (!peer) return fail(peer.error());
    }
    auto& tcp = beast::get_lowest_layer(ws_);
    auto connected = detail::connect_tcp(ioc_, tcp, url.host, url.port, deadline, {});
    if (!connected) return fail(connected.error());
    if constexpr (kTls) {
      tcp.expires_at(deadline);
      const auto ec = detail::run_one(ioc_, [&](auto handler) {
        ws_.next_layer().async_handshake(asio::ssl::stream_base::client, std::move(handler));
      });
      if (ec) return fail(detail::tls_handshake_error(ec, ws_.next_layer().native_handle(), url.host));
    }
    // From here the WebSocket stream's own timeouts apply; the tcp_stream's would cut a long
    // idle read short.
    tcp.expires_never();
    websocket::stream_base::timeout timeouts;
    timeouts.handshake_timeout = options_.connect_timeout;
    timeouts.idle_timeout = options_.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [agent = options_.user_agent](websocket::request_type& req) {
          req.set(http::field::user_agent, agent);
        }));
    ws_.read_message_max(options_.max_message_bytes);

    // Members, not locals, hold the handshake's result: an abandoned operation's handler may
    // still run later, in the destructor's drain.
    ws_.async_handshake(response_, url.host_header(), url.target, [this](beast::error_code ec) {
      handshake_ec_ = ec;
      handshake_done_ = true;
    });
    if (!run_until([&] { return handshake_done_; }, deadline)) {
      abort_and_drain([&] { return handshake_done_; });
      return fail(client_error(ClientErrorKind::timeout,
                               "WebSocket handshake with " + url.host + " timed out"));
    }
    const auto ec = handshake_ec_;
    if (ec == beast::error::timeout) {
      return fail(client_error(ClientErrorKind::timeout,
                               "WebSocket handshake with " + url.host + " timed out"));
    }
    if (ec) {
      std::string message = "WebSocket handshake with " + url.host + " failed: " + ec.message();
      if (response_.result_int() != 0) message += " (HTTP " + std::to_string(response_.result_int()) + ")";
      return fail(client_error(ClientErrorKind::protocol, std::move(message)));
    }
    // The target is not logged: Slack's carries a connection ticket.
    log_.info("connected", {{"host", url.host}, {"port", url.port}, {"tls", kTls}});
    return {};
  }

  tl::expected<std::optional<std::string>, ClientError> read(Duration timeout) override {
    try {
      return read_message(timeout);
    } catch (const std::exception& e) {
      return fail(client_error(ClientErrorKind::protocol, std::string("reading failed: ") + e.what()));
    }
  }

  tl::expected<void, ClientError> write(std::string_view text) override {
    try {
      return write_message(text);
    } catch (const std::exception& e) {
      return fail(client_error(ClientErrorKind::protocol, std::string("writing failed: ") + e.what()));
    }
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    try {
      if (!failed_ && ws_.is_open()) {
        ws_.async_close(websocket::close_code::normal,
                        [this](beast::error_code) { close_done_ = true; });
        // Beast bounds the close handshake by handshake_timeout too; this wait is the backstop.
        // A pending read ends as well, once the server's close frame arrives.
        const auto finished = [this] { return close_done_ && !read_pending_; };
        if (!run_until(finished, detail::deadline_after(ioc_, options_.connect_timeout))) {
          abort_and_drain(finished);
        }
      }
    } catch (const std::exception& e) {
      log_.debug("closing failed", {{"error", e.what()}});
    }
    if (!failed_) failed_ = client_error(ClientErrorKind::protocol, "the connection was closed");
  }

 private:
  tl::expected<std::optional<std::string>, ClientError> read_message(Duration timeout) {
    if (failed_) return tl::unexpected(*failed_);
    if (!read_pending_ && !read_done_) start_read();
    run_until([&] { return read_done_; }, detail::deadline_after(ioc_, timeout));
    if (!read_done_) return std::optional<std::string>{};
    read_done_ = false;
    if (read_ec_) return fail(stream_error(read_ec_, "reading"));
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    return std::optional<std::string>{std::move(text)};
  }

  tl::expected<void, ClientError> write_message(std::string_view text) {
    if (failed_) return tl::unexpected(*failed_);
    // A copy the operation owns: if the write is abandoned, nothing points into the caller's text.
    write_buffer_.assign(text);
    write_done_ = false;
    ws_.text(true);
    ws_.async_write(asio::buffer(write_buffer_), [this](beast::error_code ec, std::size_t) {
      write_ec_ = ec;
      write_done_ = true;
    });
    if (!run_until([&] { return write_done_; }, detail::deadline_after(ioc_, options_.idle_timeout))) {
      // The server stopped taking data (its buffers are full): the connection is of no more use.
      abort_and_drain([&] { return write_done_; });
      return fail(client_error(ClientErrorKind::timeout, "sending a message timed out"));
    }
    if (write_ec_) return fail(stream_error(write_ec_, "writing"));
    return {};
  }

  static websocket::stream<NextLayer> make_stream(asio::io_context& ioc, asio::ssl::context* tls) {
    if constexpr (kTls) {
      return websocket::stream<NextLayer>(ioc, *tls);
    } else {
      (void)tls;
      return websocket::stream<NextLayer>(ioc);
    }
  }

  void start_read() {
    read_pending_ = true;
    ws_.async_read(buffer_, [this](beast::error_code ec, std::size_t) {
      if (!ec && !ws_.got_text()) {
        // Slack speaks text only; a binary message is nothing this client can hand on.
        buffer_.consume(buffer_.size());
        start_read();
        return;
      }
      read_pending_ = false;
      read_ec_ = ec;
      read_done_ = true;
    });
  }

  // Runs the io_context, one handler at a time, until `done()` or `deadline`; returns done().
  template <class Done>
  bool run_until(Done done, SteadyPoint deadline) {
    // A generation per wait: an expiry queued by an earlier wait must not end this one.
    const auto generation = ++wait_generation_;
    bool expired = false;
    wait_timer_.expires_at(deadline);
    wait_timer_.async_wait([this, generation, &expired](beast::error_code ec) {
      if (!ec && generation == wait_generation_) expired = true;
    });
    while (!done() && !expired) {
      ioc_.restart();
      ioc_.run_one();
    }
    ++wait_generation_;  // `expired` dies with this frame: a late expiry must not touch it
    wait_timer_.cancel();
    return done();
  }

  // Gives up on the connection: closing the socket completes every pending operation with an
  // error, which lets the handlers run before their state goes away.
  template <class Done>
  void abort_and_drain(Done done) {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    run_until(done, detail::deadline_after(ioc_, kDrain));
  }

  ClientError stream_error(const beast::error_code& ec, std::string_view step) {
    if (ec == websocket::error::closed) {
      const auto& reason = ws_.reason();
      std::string message = "the server closed the connection (code " + std::to_string(reason.code);
      if (!reason.reason.empty()) message += ": " + std::string(reason.reason.data(), reason.reason.size());
      return client_error(ClientErrorKind::protocol, message + ")");
    }
    if (ec == beast::error::timeout) {
      return client_error(ClientErrorKind::timeout,
                          "nothing heard from the server for " +
                              std::to_string(options_.idle_timeout.count()) + "ms");
    }
    if (ec == websocket::error::message_too_big) {
      return client_error(ClientErrorKind::body_too_large,
                          "message over " + std::to_string(options_.max_message_bytes) + " bytes");
    }
    return client_error(ClientErrorKind::protocol, std::string(step) + " failed: " + ec.message());
  }

  tl::unexpected<ClientError> fail(ClientError error) {
    if (!failed_) {
      log_.debug("connection failed", {{"error", client_error_name(error.kind)},
                                       {"detail", error.message}});
      failed_ = error;
    }
    return tl::unexpected(std::move(error));
  }

  // Declared first so it is destroyed last: the stream and the timer use its services.
  asio::io_context ioc_;
  const WebSocketOptions options_;
  const Logger log_;
  std::shared_ptr<asio::ssl::context> tls_;  // null for ws://
  websocket::stream<NextLayer> ws_;
  asio::steady_timer wait_timer_;
  std::uint64_t wait_generation_ = 0;
  websocket::response_type response_;
  bool handshake_done_ = false;
  beast::error_code handshake_ec_;
  bool close_done_ = false;
  beast::flat_buffer buffer_;
  bool read_pending_ = false;
  bool read_done_ = false;  // a result (message or error) waits in buffer_ / read_ec_
  beast::error_code read_ec_;
  std::string write_buffer_;
  bool write_done_ = false;
  beast::error_code write_ec_;
  bool closed_ = false;
  std::optional<ClientError> failed_;  // set once: every later call returns it
};

template <class NextLayer>
tl::expected<std::unique_ptr<WebSocketConnection>, ClientError> open(
    const Url& url, WebSocketOptions options, Logger log, std::shared_ptr<asio::ssl::context> tls) {
  auto conn = std::make_unique<BeastWebSocket<NextLayer>>(std::move(options), std::move(log),
                                                          std::move(tls));
  auto connected = conn->connect(url);
  if (!connected) return tl::unexpected(connected.error());
  return std::unique_ptr<WebSocketConnection>(std::move(conn));
}

}  // namespace

tl::expected<std::unique_ptr<WebSocketConnection>, ClientError> connect_websocket(
    const Url& url, WebSocketOptions options, Logger log) {
  try {
    if (url.scheme != "ws" && url.scheme != "wss") {
      return tl::unexpected(client_error(ClientErrorKind::invalid_url,
                                         "scheme '" + url.scheme + "' is not ws or wss"));
    }
    if (url.host.empty() || url.port == 0 || url.target.empty() || url.target[0] != '/') {
      return tl::unexpected(client_error(ClientErrorKind::invalid_url,
                                         "incomplete URL " + url.scheme + "://" + url.host_header()));
    }
    if (!url.tls()) return open<beast::tcp_stream>(url, std::move(options), std::move(log), nullptr);
    auto tls = detail::make_tls_context(options.verify_peer, options.ca_file);
    if (!tls) return tl::unexpected(tls.error());
    if (!options.verify_peer) log.warn("TLS peer verification is off");
    return open<beast::ssl_stream<beast::tcp_stream>>(url, std::move(options), std::move(log),
                                                      std::move(*tls));
  } catch (const std::exception& e) {
    return tl::unexpected(client_error(ClientErrorKind::protocol,
                                       std::string("WebSocket connection failed: ") + e.what()));
  } catch (...) {
    return tl::unexpected(client_error(ClientErrorKind::protocol, "WebSocket connection failed"));
  }
}

}  // namespace vigie::net
