// The worker half of the chat command `logs <query> [since]`: the engine queues a `logs` job
// (chat/src/commands.cpp); a worker runs one bounded Papertrail search with the collector's own
// request and parsing code (vigie/collectors/papertrail.h) on a thread of its own, so its other
// jobs never wait behind HTTP, and sends the lines back to the asker as a `reply` job.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <tl/expected.hpp>

#include "vigie/bus/jobs.h"
#include "vigie/collectors/papertrail.h"
#include "vigie/config/config.h"
#include "vigie/core/log.h"
#include "vigie/net/http_client.h"

namespace vigie::app {

// Where `logs` searches: the first `papertrail` collector of vigie.toml (its base_url and token;
// its query, system_id and group_id are the collector's business, not the command's).
struct LogsSettings {
  std::string collector;  // its [collectors.<name>]; empty: none configured
  collectors::PapertrailEndpoint endpoint;
  std::string unavailable;  // why this worker cannot search (its token is not readable)
};

// Reads the settings; a token that cannot be read is reported in `unavailable`, not as an error:
// a worker without it still runs every other job.
LogsSettings logs_settings(const config::Config& cfg, Logging& logging);

// The reply text for a search (or for its failure) as the asker reads it in Slack.
std::string logs_reply_text(
    const nlohmann::json& payload,
    const tl::expected<collectors::PapertrailResponse, collectors::PapertrailError>& result);
// The `reply` job payload that answers a `logs` job with `text` (to the asker, as the engine's
// own replies go: through response_url, or ephemeral in the channel and thread).
nlohmann::json logs_reply_payload(const nlohmann::json& payload, const std::string& text);

class LogsSearcher {
 public:
  using Done = std::function<void(bus::JobResult)>;
  // Hands a reply job to whatever delivers replies (the Slack queue, or the log).
  using Deliver = std::function<void(const bus::Job& reply, Done done)>;

  LogsSearcher(LogsSettings settings, Logging& logging);
  ~LogsSearcher();
  LogsSearcher(const LogsSearcher&) = delete;
  LogsSearcher& operator=(const LogsSearcher&) = delete;

  // Runs a `logs` job in the background; `done` gets the job's result once its reply is sent.
  void submit(const bus::Job& job, Deliver deliver, Done done);
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::app
