// Metrics render in the Prometheus text format.
#include <catch2/catch.hpp>

#include "vigie/core/metrics.h"

using namespace vigie;

TEST_CASE("counters, gauges and histograms render as Prometheus text") {
  Metrics m;
  m.counter("vigie_events_total", "Events accepted", {{"source", "sentry"}}).inc(3);
  m.counter("vigie_events_total", "Events accepted", {{"source", "sentry"}}).inc();
  m.counter("vigie_events_total", "Events accepted", {{"source", "web\"hook"}}).inc();
  m.gauge("vigie_alerts", "Alerts by state", {{"state", "firing"}}).set(2);
  auto& h = m.histogram("vigie_store_commit_seconds", "Commit latency", {0.001, 0.01});
  h.observe(0.0005);
  h.observe(0.005);
  h.observe(1);
  const std::string text = m.render();
  CHECK(text.find("# TYPE vigie_events_total counter\n") != std::string::npos);
  CHECK(text.find("vigie_events_total{source=\"sentry\"} 4\n") != std::string::npos);
  CHECK(text.find("vigie_events_total{source=\"web\\\"hook\"} 1\n") != std::string::npos);
  CHECK(text.find("vigie_alerts{state=\"firing\"} 2\n") != std::string::npos);
  CHECK(text.find("vigie_store_commit_seconds_bucket{le=\"0.001\"} 1\n") != std::string::npos);
  CHECK(text.find("vigie_store_commit_seconds_bucket{le=\"0.01\"} 2\n") != std::string::npos);
  CHECK(text.find("vigie_store_commit_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find("vigie_store_commit_seconds_count 3\n") != std::string::npos);
}
