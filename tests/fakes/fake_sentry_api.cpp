// The fake Sentry issue update endpoint.
#include "fake_sentry_api.h"

#include <nlohmann/json.hpp>

#include <set>

namespace vigie::testing {
namespace {

using nlohmann::json;

net::HttpResponse detail(int status, const std::string& text) {
  return net::HttpResponse::json(status, json{{"detail", text}}.dump());
}

}  // namespace

FakeSentryApi::FakeSentryApi(std::string token, std::string org)
    : token_(std::move(token)),
      org_(std::move(org)),
      upstream_("fake-sentry-api", [this](const RecordedRequest& r) { return answer(r); }) {}

void FakeSentryApi::add_issue(const std::string& id, std::string status) {
  upstream_.locked([&] { issues_[id] = std::move(status); });
}

std::string FakeSentryApi::status(const std::string& id) const {
  std::string out;
  upstream_.locked([&] { out = issues_.at(id); });
  return out;
}

void FakeSentryApi::set_read_only_token(std::string token) {
  upstream_.locked([&] { read_only_token_ = std::move(token); });
}

void FakeSentryApi::rate_limit_next(long long reset_epoch) {
  upstream_.fail_next(
      429,
      R"({"detail":"You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds"})",
      {{"X-Sentry-Rate-Limit-Limit", "40"},
       {"X-Sentry-Rate-Limit-Remaining", "0"},
       {"X-Sentry-Rate-Limit-Reset", std::to_string(reset_epoch)}});
}

net::HttpResponse FakeSentryApi::answer(const RecordedRequest& r) {
  const auto auth = r.header("Authorization").value_or("");
  if (!read_only_token_.empty() && auth == "Bearer " + read_only_token_) {
    return detail(403, "You do not have permission to perform this action.");
  }
  if (auth != "Bearer " + token_) return detail(401, "Invalid token");
  const auto seg = path_segments(r.path);
  // /api/0/organizations/{org}/issues/{id}/
  if (r.method != "PUT" || seg.size() != 6 || seg[0] != "api" || seg[1] != "0" ||
      seg[2] != "organizations" || seg[4] != "issues" || r.path.back() != '/') {
    return detail(404, "The requested resource does not exist");
  }
  if (seg[3] != org_) return detail(404, "The requested resource does not exist");
  auto it = issues_.find(seg[5]);
  if (it == issues_.end()) return detail(404, "The requested resource does not exist");
  const json body = json::parse(r.body, nullptr, false);
  if (!body.is_object()) return detail(400, "Invalid JSON");
  if (body.contains("status")) {
    static const std::set<std::string> kStatuses{"resolved", "resolvedInNextRelease", "unresolved",
                                                 "ignored"};
    if (!body["status"].is_string() || !kStatuses.count(body["status"].get<std::string>())) {
      return net::HttpResponse::json(
          400, json{{"status", json::array({body["status"].dump() + " is not a valid choice."})}}
                   .dump());
    }
    it->second = body["status"].get<std::string>() == "resolvedInNextRelease"
                     ? "resolved"
                     : body["status"].get<std::string>();
  }
  json issue{{"id", it->first},
             {"shortId", "SHOP-API-" + it->first},
             {"status", it->second},
             {"statusDetails", body.value("statusDetails", json::object())},
             {"title", "ZeroDivisionError: division by zero"}};
  if (body.contains("substatus")) issue["substatus"] = body["substatus"];
  return net::HttpResponse::json(200, issue.dump());
}

}  // namespace vigie::testing
