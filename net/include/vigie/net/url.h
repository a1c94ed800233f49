// URLs as upstream `base_url`s are written: scheme, host, port, path and query, split once so
// the HTTP and WebSocket clients never re-parse; percent-encoding of path segments and query
// values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigie::net {

struct Url {
  std::string scheme;  // "http", "https", "ws" or "wss"
  std::string host;    // without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string target;  // path and query, at least "/"

  bool tls() const { return scheme == "https" || scheme == "wss"; }
  // "host:port" as a Host header wants it (the port only when not the scheme's default).
  std::string host_header() const;
  std::string to_string() const;
  bool operator==(const Url&) const = default;
};

// Parses an absolute http(s) or ws(s) URL (default ports 80 and 443). No user info, no fragments:
// nothing is returned for those, for other schemes, empty hosts and bad ports. Which schemes a
// client accepts is the client's business (HttpClient refuses ws, the WebSocket client http).
std::optional<Url> parse_url(std::string_view text);

// Joins a base URL's path with a relative path: ("https://x/api", "chat.postMessage") gives
// target "/api/chat.postMessage".
Url join(const Url& base, std::string_view path);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);

}  // namespace vigie::net
