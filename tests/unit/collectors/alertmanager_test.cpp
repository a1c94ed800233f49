// Alertmanager's API and webhook bodies as events: labels as attrs, status, dedup ids.
#include <catch2/catch.hpp>

#include "vigie/collectors/alertmanager.h"

using namespace vigie;
using namespace vigie::collectors;

namespace {
const TimePoint kNow = *parse_rfc3339("2026-11-22T10:00:00Z");
}

TEST_CASE("postable alerts become alertmanager.alert events with labels as attrs") {
  auto r = parse_alertmanager_alerts(R"([{
    "labels": {"alertname": "DiskFull", "instance": "db1:9100", "severity": "page"},
    "annotations": {"summary": "disk 97% full"},
    "startsAt": "2026-11-22T09:58:00Z",
    "generatorURL": "http://prometheus/graph"
  }])", kNow);
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  const auto& e = (*r)[0];
  CHECK(e.kind == "alertmanager.alert");
  CHECK(e.source == "alertmanager");
  CHECK(e.attrs["alertname"] == "DiskFull");
  CHECK(e.attrs["annotations"]["summary"] == "disk 97% full");
  CHECK(e.attrs["status"] == "firing");
  CHECK(e.attrs["startsAt"] == "2026-11-22T09:58:00.000Z");
  CHECK(e.attrs["endsAt"] == "");
  CHECK(e.attrs["generatorURL"] == "http://prometheus/graph");
  CHECK(e.attrs["fingerprint"] == "b4d6630a68cc0c1c");
  CHECK(e.id == "am:b4d6630a68cc0c1c:2026-11-22T09:58:00.000Z:firing");
  CHECK(e.time == *parse_rfc3339("2026-11-22T09:58:00Z"));
}

TEST_CASE("an alert with Go's nanosecond times, as Prometheus sends them, is taken") {
  auto r = parse_alertmanager_alerts(R"([{
    "labels": {"alertname": "DiskFull"},
    "startsAt": "2026-11-22T09:58:00.123456789Z",
    "endsAt": "2026-11-22T10:03:00.123456789Z"
  }])",
                                     kNow);
  REQUIRE(r);
  CHECK((*r)[0].attrs["startsAt"] == "2026-11-22T09:58:00.123Z");
  CHECK((*r)[0].attrs["endsAt"] == "2026-11-22T10:03:00.123Z");
  CHECK((*r)[0].attrs["status"] == "firing");
}

TEST_CASE("the same alert re-sent has the same id, resolving it gives a new one") {
  const std::string firing = R"([{"labels":{"alertname":"A"},"startsAt":"2026-11-22T09:00:00Z"}])";
  auto a = parse_alertmanager_alerts(firing, kNow);
  auto b = parse_alertmanager_alerts(firing, kNow + std::chrono::minutes(1));
  CHECK((*a)[0].id == (*b)[0].id);
  auto resolved = parse_alertmanager_alerts(
      R"([{"labels":{"alertname":"A"},"startsAt":"2026-11-22T09:00:00Z","endsAt":"2026-11-22T09:59:00Z"}])",
      kNow);
  CHECK((*resolved)[0].attrs["status"] == "resolved");  // endsAt in the past
  CHECK((*resolved)[0].id != (*a)[0].id);
  CHECK((*resolved)[0].time == *parse_rfc3339("2026-11-22T09:59:00Z"));
}

TEST_CASE("the zero time means now for startsAt and no end for endsAt") {
  auto r = parse_alertmanager_alerts(
      R"([{"labels":{"alertname":"A"},"startsAt":"0001-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z"}])",
      kNow);
  REQUIRE(r);
  CHECK((*r)[0].attrs["status"] == "firing");
  CHECK((*r)[0].attrs["endsAt"] == "");
  CHECK((*r)[0].time == kNow);
  // Without a start time the id does not change with each re-send.
  auto again = parse_alertmanager_alerts(R"([{"labels":{"alertname":"A"}}])", kNow + std::chrono::minutes(5));
  CHECK((*again)[0].id == (*r)[0].id);
}

TEST_CASE("the fingerprint ignores label order") {
  CHECK(label_fingerprint({{"b", "2"}, {"a", "1"}}) == label_fingerprint({{"a", "1"}, {"b", "2"}}));
  CHECK(label_fingerprint({}) == "cbf29ce484222325");  // FNV-1a 64 offset basis
}

TEST_CASE("webhook v4 bodies: group status, fingerprint given, receiver kept") {
  auto r = parse_alertmanager_webhook(R"({
    "version": "4", "status": "resolved", "receiver": "vigie", "groupKey": "{}:{alertname=\"A\"}",
    "alerts": [{"status": "resolved", "labels": {"alertname": "A"}, "annotations": {},
                "startsAt": "2026-11-22T09:00:00Z", "endsAt": "2026-11-22T09:30:00Z",
                "fingerprint": "c0ffee0000000001"}]
  })", kNow);
  REQUIRE(r);
  CHECK((*r)[0].attrs["status"] == "resolved");
  CHECK((*r)[0].attrs["receiver"] == "vigie");
  CHECK((*r)[0].id == "am:c0ffee0000000001:2026-11-22T09:00:00.000Z:resolved");
}

TEST_CASE("malformed bodies are refused with what is wrong") {
  auto detail = [](std::string_view body) {
    auto r = parse_alertmanager_alerts(body, kNow);
    REQUIRE_FALSE(r);
    return r.error().error + ": " + r.error().detail;
  };
  CHECK(detail("{") == "malformed JSON: the body is not valid JSON");
  CHECK(detail("{}") == "invalid body: expected a JSON array of alerts");
  CHECK(detail(R"([{"labels":{}}])") == "invalid alert: alert 0 has no labels (a non-empty object of strings)");
  CHECK(detail(R"([{"labels":{"a":1}}])") == "invalid alert: alert 0 label 'a' is not a string");
  CHECK(detail(R"([{"labels":{"a":"b"},"startsAt":"yesterday"}])") ==
        "invalid alert: alert 0 startsAt is not an RFC 3339 time");
  auto v = parse_alertmanager_webhook(R"({"version":"3","alerts":[]})", kNow);
  CHECK(v.error().error == "unsupported version");
}
