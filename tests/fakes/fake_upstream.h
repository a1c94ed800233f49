// What every provider fake shares (Heroku, DigitalOcean, Rackspace, Docker, the Sentry and
// NewRelic APIs): a real net::HttpServer on 127.0.0.1, port 0 (or a unix socket), every request
// recorded as received with the status it got, and failures queued on demand (the next requests
// get a given status, body and headers before the fake's own logic runs). A fake supplies its
// wire behaviour as one function; it runs under the fake's lock, one request at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vigie/net/http.h"

namespace vigie::testing {

struct RecordedRequest {
  std::string method;
  std::string path;   // not decoded
  std::string query;  // not decoded
  net::Headers headers;
  std::string body;
  int status = 0;  // what the fake answered

  std::optional<std::string> header(const std::string& name) const;
  std::optional<std::string> query_param(const std::string& name) const;
};

// "/apps/shop/dynos/web.1" → {"apps", "shop", "dynos", "web.1"} (segments percent-decoded).
std::vector<std::string> path_segments(const std::string& path);

class FakeUpstream {
 public:
  // Answers one request; called with the fake's lock held.
  using Handler = std::function<net::HttpResponse(const RecordedRequest&)>;

  // `unix_socket` empty: TCP on 127.0.0.1, port 0. Throws std::runtime_error when it cannot listen.
  FakeUpstream(std::string name, Handler handler, std::string unix_socket = {});
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  std::string base_url() const;  // "http://127.0.0.1:<port>" ("http://localhost" on a socket)

  std::vector<RecordedRequest> requests() const;
  // Requests whose method is `method` and whose path starts with `path_prefix`.
  std::size_t count(const std::string& method, const std::string& path_prefix = "/") const;

  // The next request (whatever it is) gets this answer instead of the fake's. Queued in order.
  void fail_next(int status, std::string body,
                 std::vector<std::pair<std::string, std::string>> headers = {});

  // Runs `fn` under the lock the handler runs under (a fake's state changes from tests).
  void locked(const std::function<void()>& fn) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::testing
