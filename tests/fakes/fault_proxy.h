// Fault injection for every fake upstream: an HTTP proxy on 127.0.0.1, port 0 (or on a unix
// socket, for the Docker fake) that passes requests to a fake and answers the next ones with a
// planned fault instead — 429 with Retry-After, 500, 503, a hang past the client's timeout, a reset
// connection, a body trickled slower than the client's timeout, a truncated body, a body that is
// not JSON — either before the fake sees the request or after (the upstream acted, its answer was
// lost: what makes a retried chat.postMessage a duplicate). One mechanism for every fake, so a
// test can run the same table of faults against Slack, Sentry, NewRelic, Papertrail and the
// providers. Links the fake writes with its own address (Sentry's Link pagination) are rewritten
// to the proxy's, so a client following them stays behind the proxy. Plain sockets, no Beast.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vigie::testing {

enum class FaultKind {
  status_429,  // 429 with Retry-After (`retry_after` seconds) and a JSON error body
  status_500,  // 500 with a JSON error body
  status_503,  // 503 with a JSON error body
  hang,        // the request is read and never answered; the connection stays open
  reset,       // the connection is reset (RST) instead of an answer
  slow_body,   // the real answer's body (or, without one, its headers) trickled in `chunks`
               // pieces, `delay` apart
  truncated,   // the real answer's headers, half its body, then the connection closed
  not_json,    // 200 with an HTML page (a proxy's or load balancer's error page)
};

// "429", "500", "503", "hang", "reset", "slow_body", "truncated", "not_json".
std::string_view fault_name(FaultKind kind);
// Every kind, in the order above: what a table-driven test iterates.
std::vector<FaultKind> all_faults();

struct Fault {
  FaultKind kind = FaultKind::status_500;
  // Only requests whose path starts with this get the fault (others pass through).
  std::string path_prefix = "/";
  // true: the fake gets the request first and acts on it; the fault replaces its answer.
  bool after_upstream = false;
  int retry_after = 1;                   // seconds, for status_429
  std::chrono::milliseconds delay{200};  // between pieces, for slow_body
  int chunks = 5;                        // pieces, for slow_body
};

class FaultProxy {
 public:
  // `upstream`: the fake's base URL ("http://127.0.0.1:<port>[/prefix]") or, for a fake on a
  // unix socket, that socket's path (then the proxy listens on `<path>.proxy`).
  explicit FaultProxy(std::string upstream);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // The upstream URL with the proxy's address: what the client under test is pointed at.
  std::string base_url() const;
  // The proxy's unix socket path (a unix upstream only).
  std::string socket_path() const;

  // The next `times` requests matching the fault's path get it. Queued in order.
  void fail_next(Fault fault, int times = 1);
  // Faults not yet served.
  std::size_t pending() const;
  // Faults served, and requests read (faulted or not).
  std::size_t served() const;
  std::size_t requests() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::testing
