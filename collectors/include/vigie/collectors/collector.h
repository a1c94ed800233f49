// The collector contract (fluent-bit's input plugins, Envoy's extension factories): a kind is a
// factory that turns its validated [collectors.<name>] table into an instance; the instance's
// poll() performs one bounded poll — following pagination as far as its page budget allows — and
// returns events plus the cursor to resume from, or says to retry, to wait (rate limited), or that
// retrying will not help. A collector never sleeps, spawns threads or sets timers: the scheduler
// (scheduler.h) owns intervals, jitter, timeouts, backoff, health and the clock, and commits the
// cursor only after the events were acknowledged by the engine.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "vigie/bus/event.h"
#include "vigie/config/options.h"
#include "vigie/core/clock.h"
#include "vigie/core/log.h"
#include "vigie/core/time.h"
#include "vigie/net/http_client.h"

namespace vigie::collectors {

enum class PollStatus {
  ok,            // events (possibly none) and the next cursor
  retry,         // a transient failure (5xx, timeout, connection): back off and poll again
  rate_limited,  // the upstream said to wait: poll again after `retry_after`
  error,         // retrying the same way will fail again (bad token, unknown org): slow retries, loud health
};

struct PollResult {
  PollStatus status = PollStatus::ok;
  std::vector<bus::Event> events;
  // Where the next poll resumes, committed after `events` are acked; nullopt: unchanged. An
  // opaque string the collector alone reads (ids, timestamps, a JSON object of several).
  std::optional<std::string> cursor;
  // More pages wait beyond this poll's page budget: poll again at once (after the ack).
  bool more = false;
  Duration retry_after{0};  // rate_limited: at least this long
  std::string error;        // retry / rate_limited / error: what happened, without secrets
};

struct PollContext {
  std::optional<std::string> cursor;  // the last committed cursor; nullopt on the very first poll
  TimePoint now;                      // wall time on the injected clock (event times, "since")
  Duration timeout{20'000};           // the poll's whole budget; pass it on to each HTTP request
};

class Collector {
 public:
  virtual ~Collector() = default;
  // One poll. Blocking (HTTP), bounded by ctx.timeout, never throws: failures are results.
  virtual PollResult poll(const PollContext& ctx) = 0;
};

// What a factory gets: the validated table, the secrets it declared (resolved by the caller, by
// option name: "token" → the value), and the shared HTTP client.
struct CollectorSpec {
  std::string name;  // [collectors.<name>]
  std::string type;
  config::OptionValues options;
  std::map<std::string, std::string> secrets;
};

using CollectorFactory = std::function<tl::expected<std::unique_ptr<Collector>, std::string>(
    const CollectorSpec& spec, net::HttpClient& http, Logger log)>;

// The HTTP client one collector is given: it holds every request of a poll to the poll's budget
// (`timeout`), since a collector has no clock to do it. The scheduler starts the budget before each
// poll; a request may take at most what is left of it (or its own shorter timeout), and once it is
// spent no request is sent and the poll fails with a timeout error.
class PollBudget final : public net::HttpClient {
 public:
  PollBudget(net::HttpClient& inner, const Clock& clock) : inner_(inner), clock_(clock) {}
  // Starts a budget of `budget` from now.
  void start(Duration budget);
  tl::expected<net::ClientResponse, net::ClientError> send(const net::ClientRequest& request) override;

 private:
  net::HttpClient& inner_;
  const Clock& clock_;
  std::mutex mutex_;
  std::optional<SteadyPoint> deadline_;
  Duration budget_{0};
};

// The factory of a registered kind, or nullptr (kinds.cpp holds the one explicit list).
CollectorFactory collector_factory(std::string_view type);

// Helpers the kinds share.
// "<rel=next>"-style Link header → the URL whose rel is `rel` (and, for Sentry, results="true").
std::optional<std::string> link_with_rel(const std::string& link_header, std::string_view rel,
                                         bool require_results_true = false);

}  // namespace vigie::collectors
