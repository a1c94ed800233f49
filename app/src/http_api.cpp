// Routing and the ingest endpoints.
#include "http_api.h"

#include <nlohmann/json.hpp>

#include "vigie/collectors/alertmanager.h"

namespace vigie::app {
namespace {

using net::HttpRequest;
using net::HttpResponse;
using net::Respond;

// Answers an ingest request from the per-event results.
void answer(const std::vector<bus::IngestResult>& results, const std::string& source, Metrics* metrics,
            const Respond& respond, bool alertmanager_api) {
  std::size_t stored = 0, duplicates = 0, rejected = 0, retry = 0;
  std::string reason;
  for (const auto& r : results) {
    switch (r.status) {
      case bus::IngestStatus::stored: ++stored; break;
      case bus::IngestStatus::duplicate: ++duplicates; break;
      case bus::IngestStatus::rejected:
        ++rejected;
        reason = r.reason;
        break;
      default:
        ++retry;
        reason = std::string(bus::ingest_status_name(r.status)) + (r.reason.empty() ? "" : ": " + r.reason);
    }
  }
  if (metrics) {
    metrics->counter("vigie_events_stored_total", "Events stored, by source", {{"source", source}}).inc(static_cast<double>(stored));
    metrics->counter("vigie_events_deduplicated_total", "Events acked as duplicates, by source", {{"source", source}}).inc(static_cast<double>(duplicates));
    metrics->counter("vigie_events_rejected_total", "Events refused, by source", {{"source", source}}).inc(static_cast<double>(rejected));
  }
  if (retry > 0) {
    // Some events may be stored, some not: the sender retries all, and dedup makes that safe.
    respond(HttpResponse::json_error(503, "not stored, retry", reason));
    return;
  }
  if (rejected > 0) {
    respond(HttpResponse::json_error(400, "events rejected", reason));
    return;
  }
  if (alertmanager_api) {
    respond(HttpResponse::json(200, ""));
    return;
  }
  respond(HttpResponse::json(200, nlohmann::json{{"stored", stored}, {"duplicates", duplicates}}.dump()));
}

// The `path` label of vigie_http_requests_total: the route, never the raw path, so a scanner's
// random URLs cannot grow the metrics (and the process's memory) by one series each.
std::string path_group_of(const std::string& path) {
  static constexpr const char* kRoutes[] = {"/healthz",          "/metrics",      "/-/reload",
                                            "/api/v2/alerts",    "/slack/events", "/slack/commands",
                                            "/slack/interactive"};
  if (path.rfind("/webhooks/", 0) == 0) return "/webhooks/*";
  for (const char* route : kRoutes) {
    if (path == route) return route;
  }
  return "other";
}

}  // namespace

net::HttpHandler make_http_handler(HttpApi api) {
  auto shared = std::make_shared<HttpApi>(std::move(api));
  return [api = shared](HttpRequest req, Respond respond) {
    const std::string path = req.path;
    // Replies may come later, on another thread: capture by value.
    const std::string path_group = path_group_of(path);
    auto count = [metrics = api->metrics, path_group](int status) {
      if (metrics) {
        metrics->counter("vigie_http_requests_total", "HTTP requests by path group and status",
                         {{"path", path_group}, {"status", std::to_string(status)}}).inc();
      }
    };
    auto reply = [count, respond](HttpResponse r) {
      count(r.status);
      respond(std::move(r));
    };
    auto method_is = [&](const char* m) {
      if (req.method == m) return true;
      reply(HttpResponse::json_error(405, "method not allowed", std::string("use ") + m));
      return false;
    };
    const TimePoint now = api->clock->system_now();

    if (path == "/healthz") {
      if (!method_is("GET")) return;
      auto [ok, why] = api->health();
      reply(ok ? HttpResponse::json(200, R"({"status":"ok"})")
               : HttpResponse::json(503, nlohmann::json{{"status", "unavailable"}, {"reason", why}}.dump()));
      return;
    }
    if (path == "/metrics") {
      if (!method_is("GET")) return;
      reply(HttpResponse::text(200, api->metrics->render(), "text/plain; version=0.0.4"));
      return;
    }
    auto served_elsewhere = [&](const char* what, const char* where) {
      reply(HttpResponse::json_error(404, std::string(what) + " is not served by this process",
                                     "this process runs role " + api->role + "; " + where));
    };
    if (path == "/-/reload") {
      if (!method_is("POST")) return;
      if (!api->reload) return served_elsewhere("reload", "POST /-/reload to the engine, or send it SIGHUP");
      api->reload([reply](bool ok, std::string diagnostics) {
        reply(ok ? HttpResponse::json(200, R"({"reloaded":true})")
                 : HttpResponse::json_error(400, "reload failed; the last good rule set keeps running", diagnostics));
      });
      return;
    }
    const bool ingest_route = path == "/api/v2/alerts" || path.rfind("/webhooks/", 0) == 0;
    if (ingest_route && !api->submit) return served_elsewhere("event intake", "send events to the collector");
    if (path == "/api/v2/alerts" || path == "/webhooks/alertmanager") {
      if (!method_is("POST")) return;
      const bool api_v2 = path == "/api/v2/alerts";
      auto events = api_v2 ? collectors::parse_alertmanager_alerts(req.body, now)
                           : collectors::parse_alertmanager_webhook(req.body, now);
      if (!events) {
        reply(HttpResponse::json_error(400, events.error().error, events.error().detail));
        return;
      }
      if (events->empty()) {
        reply(api_v2 ? HttpResponse::json(200, "") : HttpResponse::json(200, R"({"stored":0,"duplicates":0})"));
        return;
      }
      api->submit(std::move(*events), [reply, metrics = api->metrics, api_v2](std::vector<bus::IngestResult> r) {
        answer(r, "alertmanager", metrics, reply, api_v2);
      });
      return;
    }
    if (path.rfind("/webhooks/", 0) == 0) {
      if (!method_is("POST")) return;
      const std::string name = path.substr(10);
      if (!collectors::valid_webhook_name(name)) {
        reply(HttpResponse::json_error(404, "unknown webhook", "webhook names are letters, digits, '-' and '_'"));
        return;
      }
      const collectors::WebhookConfig* hook = nullptr;
      for (const auto& w : api->webhooks) {
        if (w.name == name) hook = &w;
      }
      if (!hook) {
        reply(HttpResponse::json_error(404, "unknown webhook", "no [webhooks." + name + "] in vigie.toml"));
        return;
      }
      const auto auth = collectors::verify_webhook(*hook, req.body, [&req](std::string_view h) { return req.header(h); });
      if (auth != collectors::WebhookAuth::ok) {
        reply(HttpResponse::json_error(401, auth == collectors::WebhookAuth::missing ? "missing signature" : "bad signature"));
        return;
      }
      auto events = collectors::parse_webhook(*hook, req.body, now);
      if (!events) {
        reply(HttpResponse::json_error(400, events.error().error, events.error().detail));
        return;
      }
      api->submit(std::move(*events), [reply, metrics = api->metrics, source = hook->source](std::vector<bus::IngestResult> r) {
        answer(r, source, metrics, reply, false);
      });
      return;
    }
    if (api->slack && path.rfind("/slack/", 0) == 0) {
      if (auto outcome = api->slack(req)) {
        if (outcome->events.empty()) return reply(std::move(outcome->response));
        // Answered once stored: a 503 makes Slack deliver again, and the event id deduplicates.
        api->submit(std::move(outcome->events),
                    [reply, metrics = api->metrics, ok = std::move(outcome->response),
                     on_stored = std::move(outcome->on_stored)](std::vector<bus::IngestResult> r) {
                      for (const auto& one : r) {
                        if (one.status != bus::IngestStatus::stored && one.status != bus::IngestStatus::duplicate) {
                          return reply(HttpResponse::json_error(503, "not stored, retry", one.reason));
                        }
                      }
                      on_stored();
                      if (metrics) {
                        metrics->counter("vigie_events_stored_total", "Events stored, by source", {{"source", "slack"}})
                            .inc(static_cast<double>(r.size()));
                      }
                      reply(ok);
                    });
        return;
      }
    }
    reply(HttpResponse::json_error(404, "not found", path));
  };
}

}  // namespace vigie::app
