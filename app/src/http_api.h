// Vigie's HTTP API as one handler: routes to ingest (Alertmanager API and webhook, generic
// webhooks), health, metrics and reload. Only acknowledges an ingest request after every event
// in it is durably stored (or was already): 2xx then, 400 for malformed input, 401 for a bad
// signature, 413 from the server for big bodies, 503 when the engine or store cannot take it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "vigie/bus/ingest.h"
#include "vigie/chat/slack_http.h"
#include "vigie/collectors/webhook.h"
#include "vigie/core/clock.h"
#include "vigie/core/metrics.h"
#include "vigie/net/http.h"

namespace vigie::app {

struct HttpApi {
  Clock* clock = nullptr;
  std::string role = "all";  // named in the 404 of a route another role's process serves
  Metrics* metrics = nullptr;
  // Sends events to the engine; the callback gets one result per event once acked. Unset in
  // engine and worker processes: their ingest routes answer 404.
  std::function<void(std::vector<bus::Event>, bus::IngestCallback)> submit;
  // ok, and a reason when not ok.
  std::function<std::pair<bool, std::string>()> health;
  // Reloads rules; the callback gets ok and the diagnostics text. Unset outside the engine.
  std::function<void(std::function<void(bool, std::string)>)> reload;
  std::vector<collectors::WebhookConfig> webhooks;
  // Slack's /slack/* endpoints (http mode), when [slack] is configured.
  std::function<std::optional<chat::SlackHttpOutcome>(const net::HttpRequest&)> slack;
};

net::HttpHandler make_http_handler(HttpApi api);

}  // namespace vigie::app
