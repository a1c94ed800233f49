// The fake DigitalOcean droplet actions API.
#include "fake_digitalocean.h"

#include <nlohmann/json.hpp>

namespace vigie::testing {
namespace {

using nlohmann::json;

void add_rate_headers(net::HttpResponse& r, int remaining) {
  r.headers.emplace_back("ratelimit-limit", "5000");
  r.headers.emplace_back("ratelimit-remaining", std::to_string(remaining));
  r.headers.emplace_back("ratelimit-reset", "1767229200");
}

net::HttpResponse error(int status, const std::string& id, const std::string& message) {
  auto r = net::HttpResponse::json(status, json{{"id", id}, {"message", message}}.dump());
  add_rate_headers(r, 4999);
  return r;
}

}  // namespace

FakeDigitalOcean::FakeDigitalOcean(std::string token)
    : token_(std::move(token)),
      upstream_("fake-digitalocean", [this](const RecordedRequest& r) { return answer(r); }) {}

void FakeDigitalOcean::add_droplet(const std::string& id) {
  upstream_.locked([&] { droplets_.insert(id); });
}

void FakeDigitalOcean::finish_after(int polls, std::string outcome) {
  upstream_.locked([&] {
    polls_until_done_ = polls;
    outcome_ = std::move(outcome);
  });
}

int FakeDigitalOcean::polls() const {
  int n = 0;
  upstream_.locked([&] { n = polls_; });
  return n;
}

std::vector<std::string> FakeDigitalOcean::actions() const {
  std::vector<std::string> out;
  upstream_.locked([&] { out = created_; });
  return out;
}

void FakeDigitalOcean::rate_limit_next(long long reset_epoch, std::optional<int> retry_after) {
  std::vector<std::pair<std::string, std::string>> headers{
      {"ratelimit-limit", "5000"},
      {"ratelimit-remaining", "0"},
      {"ratelimit-reset", std::to_string(reset_epoch)}};
  if (retry_after) headers.emplace_back("retry-after", std::to_string(*retry_after));
  upstream_.fail_next(429, R"({"id":"too_many_requests","message":"API Rate limit exceeded."})",
                      std::move(headers));
}

net::HttpResponse FakeDigitalOcean::answer(const RecordedRequest& r) {
  if (r.header("Authorization") != "Bearer " + token_) {
    return error(401, "unauthorized", "Unable to authenticate you.");
  }
  const auto seg = path_segments(r.path);
  auto action_json = [](const Action& a, const std::string& status) {
    const bool done = status != "in-progress";
    return json{{"action",
                 {{"id", std::stoll(a.id)},
                  {"status", status},
                  {"type", a.type},
                  {"started_at", "2026-01-01T00:00:00Z"},
                  {"completed_at", done ? json("2026-01-01T00:00:40Z") : json(nullptr)},
                  {"resource_id", std::stoll(a.droplet)},
                  {"resource_type", "droplet"},
                  {"region", {{"name", "New York 3"}, {"slug", "nyc3"}}},
                  {"region_slug", "nyc3"}}}};
  };
  // POST /v2/droplets/{id}/actions
  if (r.method == "POST" && seg.size() == 4 && seg[0] == "v2" && seg[1] == "droplets" &&
      seg[3] == "actions") {
    if (r.header("Content-Type").value_or("").find("application/json") != 0) {
      return error(415, "unsupported_media_type", "Content-Type must be application/json.");
    }
    if (!droplets_.count(seg[2])) {
      return error(404, "not_found", "The resource you were accessing could not be found.");
    }
    const json body = json::parse(r.body, nullptr, false);
    static const std::set<std::string> kTypes{"reboot", "power_cycle", "shutdown", "power_off",
                                              "power_on"};
    if (!body.is_object() || !body.contains("type") || !body["type"].is_string() ||
        !kTypes.count(body["type"].get<std::string>())) {
      return error(422, "unprocessable_entity", "Type is not a valid droplet action.");
    }
    Action a{std::to_string(next_id_++), seg[2], body["type"].get<std::string>(), outcome_,
             polls_until_done_};
    by_id_[a.id] = a;
    created_.push_back(a.droplet + ":" + a.type);
    auto resp = net::HttpResponse::json(201, action_json(a, "in-progress").dump());
    add_rate_headers(resp, 4998);
    return resp;
  }
  // GET /v2/actions/{id} or /v2/droplets/{d}/actions/{id}
  const bool short_form = seg.size() == 3 && seg[0] == "v2" && seg[1] == "actions";
  const bool long_form =
      seg.size() == 5 && seg[0] == "v2" && seg[1] == "droplets" && seg[3] == "actions";
  if (r.method == "GET" && (short_form || long_form)) {
    auto it = by_id_.find(seg.back());
    if (it == by_id_.end() || (long_form && it->second.droplet != seg[2])) {
      return error(404, "not_found", "The resource you were accessing could not be found.");
    }
    ++polls_;
    Action& a = it->second;
    std::string status = "in-progress";
    if (a.polls_left > 0) {
      --a.polls_left;
    } else {
      status = a.outcome;
    }
    auto resp = net::HttpResponse::json(200, action_json(a, status).dump());
    add_rate_headers(resp, 4997);
    return resp;
  }
  return error(404, "not_found", "The resource you were accessing could not be found.");
}

}  // namespace vigie::testing
