// A small blocking HTTP/1.1 client for tests: loopback only, every call bounded by a socket
// timeout. Keeps the connection when asked so keep-alive can be tested.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace vigie::testing {

struct HttpResult {
  int status = 0;  // 0: no response (connection closed, timed out)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, int timeout_ms = 10'000);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult request(const std::string& method, const std::string& target,
                     const std::string& body = {},
                     const std::map<std::string, std::string>& headers = {});
  // Sends raw bytes (malformed requests) and reads one response.
  HttpResult raw(const std::string& bytes);
  bool connected() const { return fd_ >= 0; }

 private:
  bool connect();
  HttpResult read_response();
  std::uint16_t port_;
  int timeout_ms_;
  int fd_ = -1;
  std::string pending_;
};

}  // namespace vigie::testing
