// Blocking loopback HTTP client over POSIX sockets.
#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace vigie::testing {

HttpClient::HttpClient(std::uint16_t port, int timeout_ms) : port_(port), timeout_ms_(timeout_ms) {}

HttpClient::~HttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool HttpClient::connect() {
  if (fd_ >= 0) return true;
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  pending_.clear();
  return true;
}

HttpResult HttpClient::request(const std::string& method, const std::string& target,
                               const std::string& body,
                               const std::map<std::string, std::string>& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    std::string lower = k;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    has_type = has_type || lower == "content-type";
  }
  if (!body.empty() && !has_type) req += "Content-Type: application/json\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return raw(req);
}

HttpResult HttpClient::raw(const std::string& bytes) {
  if (!connect()) return {};
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (413) and close before reading everything
    sent += static_cast<std::size_t>(n);
  }
  return read_response();
}

HttpResult HttpClient::read_response() {
  HttpResult result;
  char buf[65536];
  auto fill = [&]() -> bool {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t header_end;
  while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) {
      ::close(fd_);
      fd_ = -1;
      return result;
    }
  }
  const std::string head = pending_.substr(0, header_end);
  pending_.erase(0, header_end + 4);
  const auto sp = head.find(' ');
  result.status = std::atoi(head.c_str() + sp + 1);
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos) {
    const std::size_t next = head.find("\r\n", pos + 2);
    const std::string line = head.substr(pos + 2, next == std::string::npos ? next : next - pos - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string key = line.substr(0, colon);
      std::transform(key.begin(), key.end(), key.begin(), ::tolower);
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      result.headers[key] = value;
    }
    pos = next;
  }
  const std::size_t length = result.headers.count("content-length")
                                 ? std::stoul(result.headers["content-length"])
                                 : 0;
  while (pending_.size() < length) {
    if (!fill()) break;
  }
  result.body = pending_.substr(0, length);
  pending_.erase(0, std::min(length, pending_.size()));
  if (result.headers["connection"] == "close") {
    ::close(fd_);
    fd_ = -1;
  }
  return result;
}

}  // namespace vigie::testing
