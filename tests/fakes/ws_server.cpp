// WsServer: one thread running an io_context, a session per connection templated on the stream
// under the WebSocket layer (tcp_stream, or ssl_stream over it). Sessions and their registry
// live on that thread; the public calls post to it. What tests read back (messages, counts) is
// under a mutex with a condition variable to wait on.
#include "ws_server.h"

#include <utility>  // Asio 1.74 needs it before its headers under GCC 12 with C++20

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace vigie::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// What the server asks of a session, whatever its stream type. Called on the server thread only.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void send(std::string text) = 0;
  virtual void close(websocket::close_reason reason) = 0;
  virtual void drop() = 0;
};

}  // namespace

struct WsServer::Impl {
  Options options;
  // Before the io_context: sessions still queued when it is destroyed hold SSL objects.
  asio::ssl::context ssl{asio::ssl::context::tls_server};
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  std::uint16_t port = 0;
  // Server thread only: open sessions by id (owning, so a session that reads nothing stays).
  std::map<std::size_t, std::shared_ptr<SessionBase>> sessions;
  std::size_t next_id = 0;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::vector<std::string> received;  // guarded by mutex, as the three below
  std::size_t connections = 0;
  std::size_t open = 0;
  std::string user_agent;

  explicit Impl(Options o) : options(std::move(o)) {}
  void accept();
  void opened(std::size_t id, std::shared_ptr<SessionBase> session, const std::string& agent) {
    sessions[id] = std::move(session);
    std::lock_guard lock(mutex);
    ++connections;
    ++open;
    user_agent = agent;
    changed.notify_all();
  }
  void closed(std::size_t id) {
    if (sessions.erase(id) == 0) return;
    std::lock_guard lock(mutex);
    --open;
    changed.notify_all();
  }
  void record(std::string text) {
    std::lock_guard lock(mutex);
    received.push_back(std::move(text));
    changed.notify_all();
  }
};

namespace {

template <class Next>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Next>> {
  static constexpr bool kTls = !std::is_same_v<Next, beast::tcp_stream>;

 public:
  Session(tcp::socket&& socket, WsServer::Impl& server)
      : server_(server), ws_(make(std::move(socket), server)) {}

  void start() {
    auto& tcp = beast::get_lowest_layer(ws_);
    tcp.expires_after(std::chrono::seconds(10));
    if constexpr (kTls) {
      ws_.next_layer().async_handshake(asio::ssl::stream_base::server,
                                       [self = this->shared_from_this()](beast::error_code ec) {
                                         if (!ec) self->read_upgrade();
                                       });
    } else {
      read_upgrade();
    }
  }

  void send(std::string text) override {
    if (closing_) return;
    queue_.push_back(std::move(text));
    if (!writing_) write_next();
  }

  void close(websocket::close_reason reason) override {
    if (closing_) return;
    closing_ = true;
    close_reason_ = reason;
    if (!writing_) write_next();
  }

  void drop() override {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    server_.closed(id_);
  }

 private:
  static websocket::stream<Next> make(tcp::socket&& socket, WsServer::Impl& server) {
    if constexpr (kTls) {
      return websocket::stream<Next>(std::move(socket), server.ssl);
    } else {
      (void)server;
      return websocket::stream<Next>(std::move(socket));
    }
  }

  // The upgrade request is read first so the target and headers can be recorded.
  void read_upgrade() {
    http::async_read(ws_.next_layer(), buffer_, upgrade_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) self->accept();
                     });
  }

  void accept() {
    beast::get_lowest_layer(ws_).expires_never();
    // No pings and no idle timeout from this side: a silent server must stay silent.
    websocket::stream_base::timeout timeouts;
    timeouts.handshake_timeout = std::chrono::seconds(10);
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.async_accept(upgrade_, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->id_ = ++self->server_.next_id;
      // The hook first, then the count: a test that saw connections() grow sees what the hook
      // did. Its send_to calls are posted, so they find the session registered.
      const std::string target(self->upgrade_.target());
      if (self->server_.options.on_connect) self->server_.options.on_connect(self->id_, target);
      self->server_.opened(self->id_, self, std::string(self->upgrade_[http::field::user_agent]));
      if (self->server_.options.read) self->read();
    });
  }

  void read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->server_.closed(self->id_);
      std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->server_.record(text);
      if (self->server_.options.on_message) self->server_.options.on_message(self->id_, text);
      self->read();
    });
  }

  // One write at a time (Beast's rule); the close frame goes after the queued messages.
  void write_next() {
    if (queue_.empty()) {
      if (closing_ && !close_sent_) {
        close_sent_ = true;
        writing_ = true;
        ws_.async_close(close_reason_, [self = this->shared_from_this()](beast::error_code) {
          self->writing_ = false;
          self->server_.closed(self->id_);
        });
      }
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                      self->writing_ = false;
                      self->queue_.pop_front();
                      if (ec) {
                        self->queue_.clear();
                        return self->server_.closed(self->id_);
                      }
                      self->write_next();
                    });
  }

  WsServer::Impl& server_;
  websocket::stream<Next> ws_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> upgrade_;
  std::size_t id_ = 0;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  websocket::close_reason close_reason_;
};

}  // namespace

void WsServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // the acceptor was closed: the server is stopping
    if (options.tls) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(std::move(socket), *this)->start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(std::move(socket), *this)->start();
    }
    accept();
  });
}

WsServer::WsServer() : WsServer(Options{}) {}

WsServer::WsServer(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto& impl = *impl_;
  if (impl.options.tls) {
    beast::error_code ec;
    impl.ssl.use_certificate_chain_file(impl.options.cert_file, ec);
    if (!ec) impl.ssl.use_private_key_file(impl.options.key_file, asio::ssl::context::pem, ec);
    if (ec) throw std::runtime_error("WsServer: cannot load certificate or key: " + ec.message());
  }
  const tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), 0};
  impl.acceptor.open(endpoint.protocol());
  impl.acceptor.bind(endpoint);
  impl.acceptor.listen();
  impl.port = impl.acceptor.local_endpoint().port();
  impl.accept();
  impl.thread = std::thread([&impl] { impl.ioc.run(); });
}

WsServer::~WsServer() {
  impl_->ioc.stop();
  impl_->thread.join();
  // Sessions and the handlers holding them go with the io_context; none runs again.
  impl_->sessions.clear();
}

std::uint16_t WsServer::port() const { return impl_->port; }

void WsServer::send(std::string text) {
  asio::post(impl_->ioc, [impl = impl_.get(), text = std::move(text)] {
    for (auto& [id, session] : impl->sessions) session->send(text);
  });
}

void WsServer::send_to(std::size_t id, std::string text) {
  asio::post(impl_->ioc, [impl = impl_.get(), id, text = std::move(text)]() mutable {
    if (auto it = impl->sessions.find(id); it != impl->sessions.end()) it->second->send(std::move(text));
  });
}

void WsServer::disconnect(std::uint16_t code, std::string reason) {
  asio::post(impl_->ioc, [impl = impl_.get(), code, reason = std::move(reason)] {
    websocket::close_reason why(static_cast<websocket::close_code>(code), reason);
    // close() may end a session, which erases it from the map: iterate over a copy.
    auto sessions = impl->sessions;
    for (auto& [id, session] : sessions) session->close(why);
  });
}

void WsServer::drop() {
  asio::post(impl_->ioc, [impl = impl_.get()] {
    auto sessions = impl->sessions;
    for (auto& [id, session] : sessions) session->drop();
  });
}

std::size_t WsServer::connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->connections;
}

std::size_t WsServer::open_connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->open;
}

std::vector<std::string> WsServer::received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received;
}

std::optional<std::string> WsServer::wait_for_message(
    const std::function<bool(const std::string&)>& pred, std::chrono::milliseconds timeout) const {
  std::optional<std::string> found;
  std::unique_lock lock(impl_->mutex);
  impl_->changed.wait_for(lock, timeout, [&] {
    for (const auto& m : impl_->received) {
      if (pred(m)) {
        found = m;
        return true;
      }
    }
    return false;
  });
  return found;
}

bool WsServer::wait_for_connections(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->connections >= count; });
}

bool WsServer::wait_for_no_open_connection(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->open == 0; });
}

std::string WsServer::last_user_agent() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->user_agent;
}

}  // namespace vigie::testing
