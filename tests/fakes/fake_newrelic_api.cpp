// The fake NewRelic incident acknowledge/close endpoints.
#include "fake_newrelic_api.h"

#include <nlohmann/json.hpp>

namespace vigie::testing {
namespace {

using nlohmann::json;

net::HttpResponse error(int status, const std::string& title) {
  return net::HttpResponse::json(status, json{{"error", {{"title", title}}}}.dump());
}

}  // namespace

FakeNewRelicApi::FakeNewRelicApi(std::string api_key)
    : api_key_(std::move(api_key)),
      upstream_("fake-newrelic-api", [this](const RecordedRequest& r) { return answer(r); }) {}

void FakeNewRelicApi::add_incident(const std::string& id, std::string state) {
  upstream_.locked([&] { incidents_[id] = std::move(state); });
}

std::string FakeNewRelicApi::state(const std::string& id) const {
  std::string out;
  upstream_.locked([&] { out = incidents_.at(id); });
  return out;
}

net::HttpResponse FakeNewRelicApi::answer(const RecordedRequest& r) {
  const auto key = r.header("Api-Key") ? r.header("Api-Key") : r.header("X-Api-Key");
  if (key != api_key_) return error(401, "The API key provided is invalid");
  const auto seg = path_segments(r.path);
  // /v2/alerts_incidents/{id}/acknowledge.json | close.json
  if (r.method != "PUT" || seg.size() != 4 || seg[0] != "v2" || seg[1] != "alerts_incidents" ||
      (seg[3] != "acknowledge.json" && seg[3] != "close.json")) {
    return error(404, "Route not found");
  }
  auto it = incidents_.find(seg[2]);
  if (it == incidents_.end()) return error(404, "Incident not found");
  const bool close = seg[3] == "close.json";
  if (it->second == "closed") return error(422, "Incident is already closed");
  if (!close && it->second == "acknowledged") return error(422, "Incident is already acknowledged");
  it->second = close ? "closed" : "acknowledged";
  json incident{{"id", std::stoll(it->first)},
                {"opened_at", 1767225600000LL},
                {"incident_preference", "PER_POLICY"},
                {"links", {{"policy_id", 42}, {"violations", json::array()}}}};
  if (close) incident["closed_at"] = 1767229200000LL;
  return net::HttpResponse::json(200, json{{"incident", incident}}.dump());
}

}  // namespace vigie::testing
