// Vigie's HTTP API as one handler: routes to ingest (Alertmanager API and webhook, generic
// webhooks), health, metrics and reload. Only acknowledges an ingest request after every event
// in it is durably stored (or was already): 2xx then, 400 for malformed input, 401 for a bad
// signature, 413 from the server for big bodies, 503 when the engine or store cannot take it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "vigie/bus/ingest.h"
#include "vigie/collectors/webhook.h"
#include "vigie/core/clock.h"
#include "vigie/core/metrics.h"
#include "vigie/net/http.h"

namespace vigie::app {

struct HttpApi {
  Clock* clock = nullptr;
  Metrics* metrics = nullptr;
  // Sends events to the engine; the callback gets one result per event once acked.
  std::function<void(std::vector<bus::Event>, bus::IngestCallback)> submit;
  // ok, and a reason when not ok.
  std::function<std::pair<bool, std::string>()> health;
  // Reloads rules; the callback gets ok and the diagnostics text.
  std::function<void(std::function<void(bool, std::string)>)> reload;
  std::vector<collectors::WebhookConfig> webhooks;
};

net::HttpHandler make_http_handler(HttpApi api);

}  // namespace vigie::app
