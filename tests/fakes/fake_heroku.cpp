// The fake Heroku Platform API: routes, checks and documented error bodies.
#include "fake_heroku.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace vigie::testing {
namespace {

using nlohmann::json;

constexpr const char* kAccept = "application/vnd.heroku+json; version=3";

net::HttpResponse error(int status, const std::string& id, const std::string& message) {
  auto r = net::HttpResponse::json(status, json{{"id", id}, {"message", message}}.dump());
  r.headers.emplace_back("RateLimit-Remaining", "4499");
  return r;
}

net::HttpResponse ok(int status, const json& body) {
  auto r = net::HttpResponse::json(status, body.dump());
  r.headers.emplace_back("RateLimit-Remaining", "4499");
  return r;
}

}  // namespace

FakeHeroku::FakeHeroku(std::string token)
    : token_(std::move(token)),
      upstream_("fake-heroku", [this](const RecordedRequest& r) { return answer(r); }) {}

void FakeHeroku::add_app(const std::string& name, std::vector<std::string> dynos) {
  add_app(name, std::move(dynos), {{"web", Formation{}}});
}

void FakeHeroku::add_app(const std::string& name, std::vector<std::string> dynos,
                         std::map<std::string, Formation> formation) {
  upstream_.locked([&] { apps_[name] = App{std::move(dynos), std::move(formation)}; });
}

std::vector<std::string> FakeHeroku::restarts() const {
  std::vector<std::string> out;
  upstream_.locked([&] { out = restarts_; });
  return out;
}

FakeHeroku::Formation FakeHeroku::formation(const std::string& app, const std::string& type) const {
  Formation out;
  upstream_.locked([&] { out = apps_.at(app).formation.at(type); });
  return out;
}

void FakeHeroku::rate_limit_next() {
  upstream_.fail_next(429,
                      json{{"id", "rate_limit"},
                           {"message",
                            "Your account reached the API rate limit\n"
                            "Please wait a few minutes before making new requests"}}
                          .dump(),
                      {{"RateLimit-Remaining", "0"}});
}

net::HttpResponse FakeHeroku::answer(const RecordedRequest& r) {
  if (r.header("Accept") != kAccept) {
    return error(400, "bad_request",
                 "Please specify a version along with Heroku's API MIME type. For example, "
                 "`Accept: application/vnd.heroku+json; version=3`.");
  }
  if (r.header("Authorization") != "Bearer " + token_) {
    return error(401, "unauthorized", "Invalid credentials provided.");
  }
  const auto seg = path_segments(r.path);
  if (seg.size() < 3 || seg[0] != "apps") return error(404, "not_found", "Not found.");
  auto app = apps_.find(seg[1]);
  if (app == apps_.end()) return error(404, "not_found", "Couldn't find that app.");

  // DELETE /apps/{app}/dynos[/{dyno}]: restart all, or one.
  if (seg[2] == "dynos" && r.method == "DELETE" && seg.size() <= 4) {
    if (seg.size() == 4) {
      const auto& dynos = app->second.dynos;
      if (std::find(dynos.begin(), dynos.end(), seg[3]) == dynos.end()) {
        return error(404, "not_found", "Couldn't find that dyno.");
      }
      restarts_.push_back(seg[1] + "/" + seg[3]);
    } else {
      restarts_.push_back(seg[1] + "/*");
    }
    return ok(202, json::object());
  }
  // PATCH /apps/{app}/formation/{type} {"quantity":N,"size":"..."}
  if (seg[2] == "formation" && r.method == "PATCH" && seg.size() == 4) {
    auto f = app->second.formation.find(seg[3]);
    if (f == app->second.formation.end())
      return error(404, "not_found", "Couldn't find that formation.");
    const json body = json::parse(r.body, nullptr, false);
    if (!body.is_object()) return error(400, "bad_request", "Invalid JSON in request body.");
    if (body.contains("quantity")) {
      if (!body["quantity"].is_number_integer() || body["quantity"].get<int>() < 0) {
        return error(422, "invalid_params", "Quantity must be a non-negative integer.");
      }
      f->second.quantity = body["quantity"].get<int>();
    }
    if (body.contains("size")) {
      if (!body["size"].is_string() || body["size"].get<std::string>().empty()) {
        return error(422, "invalid_params", "Size must be a dyno size, e.g. standard-2X.");
      }
      f->second.size = body["size"].get<std::string>();
    }
    return ok(200, {{"app", {{"name", seg[1]}, {"id", "01234567-89ab-cdef-0123-456789abcdef"}}},
                    {"command", "bundle exec puma"},
                    {"id", "fedcba98-7654-3210-fedc-ba9876543210"},
                    {"quantity", f->second.quantity},
                    {"size", f->second.size},
                    {"type", seg[3]},
                    {"created_at", "2026-01-01T00:00:00Z"},
                    {"updated_at", "2026-01-01T00:00:00Z"}});
  }
  return error(404, "not_found", "Not found.");
}

}  // namespace vigie::testing
