// The fault-injecting proxy: an accept thread and a thread per client connection, blocking
// POSIX sockets polled together with a wake pipe so that stopping interrupts every wait (a hang
// included). One upstream connection per request, closed after its answer.
#include "fault_proxy.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace vigie::testing {

std::string_view fault_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::status_429:
      return "429";
    case FaultKind::status_500:
      return "500";
    case FaultKind::status_503:
      return "503";
    case FaultKind::hang:
      return "hang";
    case FaultKind::reset:
      return "reset";
    case FaultKind::slow_body:
      return "slow_body";
    case FaultKind::truncated:
      return "truncated";
    case FaultKind::not_json:
      return "not_json";
  }
  return "?";
}

std::vector<FaultKind> all_faults() {
  return {FaultKind::status_429, FaultKind::status_500, FaultKind::status_503, FaultKind::hang,
          FaultKind::reset,      FaultKind::slow_body,  FaultKind::truncated,  FaultKind::not_json};
}

namespace {

// An HTTP message as bytes: the header block (through the blank line) and the body.
struct Message {
  std::string head;
  std::string body;
};

std::optional<std::size_t> content_length(const std::string& head) {
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return std::nullopt;
  return static_cast<std::size_t>(std::stoull(lower.substr(at + 17)));
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

std::string with_content_length(const std::string& head, std::size_t n) {
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return head;
  const auto end = head.find("\r\n", at + 2);
  return head.substr(0, at) + "\r\nContent-Length: " + std::to_string(n) + head.substr(end);
}

std::string canned(int status, const std::string& reason, const std::string& content_type,
                   const std::string& body, const std::string& extra = {}) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

}  // namespace

struct FaultProxy::Impl {
  // Upstream: TCP port (with a URL prefix) or a unix socket path.
  std::string upstream_url;
  std::uint16_t upstream_port = 0;
  std::string upstream_unix;
  std::string listen_unix;
  std::uint16_t port = 0;

  int listen_fd = -1;
  int wake[2] = {-1, -1};
  std::atomic<bool> stopping{false};
  std::thread acceptor;

  mutable std::mutex mutex;
  std::deque<Fault> faults;
  std::size_t served = 0, requests = 0;
  std::vector<std::thread> sessions;

  // Waits until `fd` is readable (or writable); false when stopping.
  bool wait(int fd, short events, int timeout_ms = -1) const {
    pollfd p[2] = {{fd, events, 0}, {wake[0], POLLIN, 0}};
    while (!stopping) {
      const int n = ::poll(p, 2, timeout_ms);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      if (p[1].revents) return false;
      return true;
    }
    return false;
  }

  bool write_all(int fd, std::string_view data) const {
    while (!data.empty()) {
      if (!wait(fd, POLLOUT)) return false;
      const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one message: headers, then Content-Length bytes (or, with `to_eof` and none given, up
  // to the end of the connection). `buffer` keeps bytes read past it (pipelined requests).
  std::optional<Message> read_message(int fd, std::string& buffer, bool to_eof) const {
    char chunk[16384];
    auto fill = [&]() {
      if (!wait(fd, POLLIN)) return false;
      const auto n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
      return true;
    };
    std::size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    Message m;
    m.head = buffer.substr(0, end + 4);
    buffer.erase(0, end + 4);
    const auto length = content_length(m.head);
    if (length) {
      while (buffer.size() < *length) {
        if (!fill()) return std::nullopt;
      }
      m.body = buffer.substr(0, *length);
      buffer.erase(0, *length);
    } else if (to_eof) {
      while (fill()) {
      }
      m.body.swap(buffer);
    }
    return m;
  }

  int connect_upstream() const {
    if (!upstream_unix.empty()) {
      const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::strncpy(addr.sun_path, upstream_unix.c_str(), sizeof addr.sun_path - 1);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
      }
      return fd;
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(upstream_port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  // The fake's answer to `request`, with the fake's address rewritten to the proxy's.
  std::optional<Message> forward(const Message& request) const {
    const int fd = connect_upstream();
    if (fd < 0) return std::nullopt;
    std::optional<Message> answer;
    if (write_all(fd, request.head + request.body)) {
      std::string buffer;
      answer = read_message(fd, buffer, true);
    }
    ::close(fd);
    if (answer && upstream_port != 0) {
      const std::string from = "127.0.0.1:" + std::to_string(upstream_port);
      const std::string to = "127.0.0.1:" + std::to_string(port);
      answer->body = replace_all(answer->body, from, to);
      answer->head = with_content_length(replace_all(answer->head, from, to), answer->body.size());
    }
    return answer;
  }

  std::optional<Fault> take_fault(const std::string& path) {
    std::lock_guard lock(mutex);
    ++requests;
    for (auto it = faults.begin(); it != faults.end(); ++it) {
      if (path.rfind(it->path_prefix, 0) == 0) {
        Fault f = *it;
        faults.erase(it);
        ++served;
        return f;
      }
    }
    return std::nullopt;
  }

  // Serves one client connection until it closes, a fault ends it, or the proxy stops.
  void session(int fd) {
    std::string buffer;
    while (!stopping) {
      auto request = read_message(fd, buffer, false);
      if (!request) break;
      const auto sp1 = request->head.find(' ');
      const auto sp2 = request->head.find_first_of(" ?", sp1 + 1);
      const std::string path = request->head.substr(sp1 + 1, sp2 - sp1 - 1);
      const auto fault = take_fault(path);
      if (!fault) {
        auto answer = forward(*request);
        if (!answer || !write_all(fd, answer->head + answer->body)) break;
        continue;
      }
      std::optional<Message> answer;
      if (fault->after_upstream || fault->kind == FaultKind::slow_body ||
          fault->kind == FaultKind::truncated) {
        answer = forward(*request);
        if (!answer) break;
      }
      if (!serve_fault(fd, *fault, answer)) break;
    }
    ::close(fd);  // after SO_LINGER {1, 0} (reset), this sends the RST
  }

  // false: the connection is done with (closed, reset or hung until the client left).
  bool serve_fault(int fd, const Fault& f, const std::optional<Message>& answer) {
    const std::string error = R"({"ok":false,"error":"injected fault )" +
                              std::string(fault_name(f.kind)) + R"(","detail":"injected fault"})";
    switch (f.kind) {
      case FaultKind::status_429:
        return write_all(fd, canned(429, "Too Many Requests", "application/json", error,
                                    "Retry-After: " + std::to_string(f.retry_after) + "\r\n"));
      case FaultKind::status_500:
        return write_all(fd, canned(500, "Internal Server Error", "application/json", error));
      case FaultKind::status_503:
        return write_all(fd, canned(503, "Service Unavailable", "application/json", error));
      case FaultKind::not_json:
        return write_all(fd, canned(200, "OK", "text/html",
                                    "<html><body><h1>502 Bad Gateway</h1></body></html>"));
      case FaultKind::hang: {
        // Until the client gives up (its timeout) and closes, or the proxy stops.
        char c;
        while (wait(fd, POLLIN) && ::recv(fd, &c, 1, 0) > 0) {
        }
        return false;
      }
      case FaultKind::reset: {
        linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        return false;
      }
      case FaultKind::truncated:
        write_all(fd, answer->head + answer->body.substr(0, answer->body.size() / 2));
        return false;
      case FaultKind::slow_body: {
        // An answer without a body (Docker's 204) trickles its header block instead: otherwise
        // it would arrive whole, at once.
        const bool bodiless = answer->body.empty();
        if (!bodiless && !write_all(fd, answer->head)) return false;
        const std::string& slow = bodiless ? answer->head : answer->body;
        const std::size_t n = slow.size();
        const std::size_t piece = std::max<std::size_t>(1, n / static_cast<std::size_t>(f.chunks));
        for (std::size_t at = 0; at < n; at += piece) {
          // Interruptible pause: the wake pipe ends it at once when the proxy stops.
          pollfd p{wake[0], POLLIN, 0};
          ::poll(&p, 1, static_cast<int>(f.delay.count()));
          if (stopping || !write_all(fd, slow.substr(at, piece))) return false;
        }
        return true;
      }
    }
    return false;
  }

  void accept_loop() {
    while (wait(listen_fd, POLLIN)) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(mutex);
      sessions.emplace_back([this, fd] { session(fd); });
    }
  }
};

FaultProxy::FaultProxy(std::string upstream) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  if (upstream.rfind("http://", 0) == 0) {
    m.upstream_url = upstream;
    const auto colon = upstream.find(':', 7);
    if (colon == std::string::npos) throw std::runtime_error("fault proxy: no port in " + upstream);
    m.upstream_port = static_cast<std::uint16_t>(std::stoi(upstream.substr(colon + 1)));
    m.listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(m.listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("fault proxy: cannot bind");
    socklen_t len = sizeof addr;
    ::getsockname(m.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    m.port = ntohs(addr.sin_port);
  } else {
    m.upstream_unix = upstream;
    m.listen_unix = upstream + ".proxy";
    ::unlink(m.listen_unix.c_str());
    m.listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, m.listen_unix.c_str(), sizeof addr.sun_path - 1);
    if (::bind(m.listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("fault proxy: cannot bind " + m.listen_unix);
  }
  if (::listen(m.listen_fd, 64) != 0 || ::pipe2(m.wake, O_CLOEXEC) != 0)
    throw std::runtime_error("fault proxy: cannot listen");
  m.acceptor = std::thread([&m] { m.accept_loop(); });
}

FaultProxy::~FaultProxy() {
  auto& m = *impl_;
  m.stopping = true;
  [[maybe_unused]] const auto n = ::write(m.wake[1], "x", 1);
  m.acceptor.join();
  std::vector<std::thread> sessions;
  {
    std::lock_guard lock(m.mutex);
    sessions.swap(m.sessions);
  }
  for (auto& t : sessions) t.join();
  ::close(m.listen_fd);
  ::close(m.wake[0]);
  ::close(m.wake[1]);
  if (!m.listen_unix.empty()) ::unlink(m.listen_unix.c_str());
}

std::string FaultProxy::base_url() const {
  if (!impl_->listen_unix.empty()) return "http://localhost";
  const std::string from = "127.0.0.1:" + std::to_string(impl_->upstream_port);
  return replace_all(impl_->upstream_url, from, "127.0.0.1:" + std::to_string(impl_->port));
}

std::string FaultProxy::socket_path() const { return impl_->listen_unix; }

void FaultProxy::fail_next(Fault fault, int times) {
  std::lock_guard lock(impl_->mutex);
  for (int i = 0; i < times; ++i) impl_->faults.push_back(fault);
}

std::size_t FaultProxy::pending() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->faults.size();
}

std::size_t FaultProxy::served() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->served;
}

std::size_t FaultProxy::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

}  // namespace vigie::testing
