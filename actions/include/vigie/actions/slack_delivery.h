// Slack delivery for the worker: the engine's notify jobs become chat.postMessage, chat.update and
// thread replies, through a queue per channel that keeps Slack's pace (about one message per
// second per channel with a small burst), honours HTTP 429 Retry-After, coalesces pending edits of
// one message into one call, groups a storm of new alerts into one digest message, retries
// transient errors with jittered backoff and reports permanent ones once, with their fix.
//
// Passive and clock-driven: submit() queues from any thread; pump() sends what is due now on the
// injected clock and says when to call again. A driver thread (start()) does that in production;
// tests call pump() themselves after moving a FakeClock.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "vigie/bus/jobs.h"
#include "vigie/core/clock.h"
#include "vigie/core/log.h"
#include "vigie/net/http_client.h"
#include "vigie/net/url.h"

namespace vigie::actions::slack {

struct DeliveryOptions {
  net::Url base_url;                      // the Web API, e.g. https://slack.com/api
  std::string token;                      // the bot token (xoxb-...), sent as a Bearer header only
  double per_second = 1.0;                // calls per channel per second, sustained
  double burst = 3;                       // calls per channel that may go at once
  std::size_t storm_threshold = 5;        // more new alerts than this waiting in a channel: one digest
  int max_attempts = 5;                   // transient failures before a job fails
  Duration backoff_min{1'000}, backoff_max{60'000};
  std::string default_channel;            // when a job names none
};

// Slack's `error` codes that retrying will not fix, with what to do about each.
std::optional<std::string> permanent_error_fix(std::string_view error);
bool retryable_error(std::string_view error);

class SlackDelivery {
 public:
  using Done = std::function<void(bus::JobResult)>;
  struct Stats {
    std::size_t calls = 0, posts = 0, updates = 0, replies = 0, digests = 0, coalesced = 0, rate_limited = 0,
                retries = 0, failed = 0, responses = 0;
    std::size_t messages_known =
        0;  // alerts whose message this worker remembers (none once resolved)
  };

  SlackDelivery(DeliveryOptions options, net::HttpClient& http, Clock& clock, Logger log,
                std::function<double()> random01 = {});
  ~SlackDelivery();
  SlackDelivery(const SlackDelivery&) = delete;
  SlackDelivery& operator=(const SlackDelivery&) = delete;

  // Queues a notify or reply job (see docs/slack.md for both payloads); `done` runs once with its result (ok: output has channel, ts, alert_id and
  // an `event` for the engine to store; fail: the reason). Thread-safe.
  void submit(const bus::Job& job, Done done);
  // Sends everything due now. @return when something waits for time to pass (rate limit,
  // Retry-After, backoff), or nothing when the queues are empty.
  std::optional<SteadyPoint> pump();

  // A thread that pumps whenever work arrives or a wait ends (production; not with a FakeClock).
  void start();
  void stop();

  std::size_t pending() const;
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::actions::slack
