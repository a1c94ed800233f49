// HTTP messages as handlers see them: plain values with no Beast types, so request handling is a
// pure function of a request, tested without sockets, and only http_server.cpp includes Beast.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigie::net {

struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

using Headers = std::map<std::string, std::string, CaseInsensitiveLess>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // target up to '?', not decoded
  std::string query;   // after '?', not decoded
  Headers headers;
  std::string body;
  std::string remote;  // peer address

  std::optional<std::string> header(std::string_view name) const;
  // Decoded value of a query parameter.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  // {"error": error, "detail": detail} with the given status.
  static HttpResponse json_error(int status, std::string_view error, std::string_view detail = {});
  static HttpResponse json(int status, std::string body);
  static HttpResponse text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
};

// Completes a request; may be called from any thread, exactly once.
using Respond = std::function<void(HttpResponse)>;
// Handles a request, now or later (after events are durably stored, say).
using HttpHandler = std::function<void(HttpRequest, Respond)>;

// Decodes application/x-www-form-urlencoded text ("a=1&b=x%20y", '+' as space).
std::map<std::string, std::string> parse_form(std::string_view body);
std::string url_decode(std::string_view text);

}  // namespace vigie::net
