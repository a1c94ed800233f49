// Generic webhooks: mapping by config, HMAC and token checks before parsing, names safe in paths.
#include <catch2/catch.hpp>

#include <map>

#include "vigie/collectors/webhook.h"
#include "vigie/net/crypto.h"

using namespace vigie;
using namespace vigie::collectors;

namespace {
const TimePoint kNow = *parse_rfc3339("2026-11-22T10:00:00Z");
WebhookConfig deploys() {
  WebhookConfig c;
  c.name = "deploys";
  c.kind = "deploy.finished";
  c.id_field = "deploy_id";
  c.time_field = "finished_at";
  return c;
}
auto headers(std::map<std::string, std::string> h) {
  return [h = std::move(h)](std::string_view name) -> std::optional<std::string> {
    auto it = h.find(std::string(name));
    if (it == h.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST_CASE("one object or an array maps to events with id, time and attrs") {
  auto r = parse_webhook(deploys(), R"({"deploy_id":"d-1","app":"shop-api","finished_at":"2026-11-22T09:59:00Z"})", kNow);
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].id == "deploys:d-1");
  CHECK((*r)[0].kind == "deploy.finished");
  CHECK((*r)[0].source == "webhook");
  CHECK((*r)[0].attrs["app"] == "shop-api");
  CHECK((*r)[0].time == *parse_rfc3339("2026-11-22T09:59:00Z"));
  auto many = parse_webhook(deploys(), R"([{"deploy_id":1,"finished_at":1795341600},{"deploy_id":"x"}])", kNow);
  REQUIRE(many);
  CHECK((*many)[0].id == "deploys:1");
  CHECK((*many)[0].time == from_unix_ms(1'795'341'600'000));
  CHECK((*many)[1].time == kNow);
}

TEST_CASE("without an id field the id is a hash of the object: a re-send is a duplicate") {
  auto c = deploys();
  c.id_field.clear();
  auto a = parse_webhook(c, R"({"x":1})", kNow);
  auto b = parse_webhook(c, R"({"x":1})", kNow);
  auto d = parse_webhook(c, R"({"x":2})", kNow);
  CHECK((*a)[0].id == (*b)[0].id);
  CHECK((*a)[0].id != (*d)[0].id);
}

TEST_CASE("bad bodies name the problem") {
  CHECK(parse_webhook(deploys(), "nope", kNow).error().error == "malformed JSON");
  CHECK(parse_webhook(deploys(), R"({"app":"x"})", kNow).error().detail ==
        "item 0 has no string or integer 'deploy_id'");
  CHECK(parse_webhook(deploys(), R"([1])", kNow).error().detail == "item 0 is not a JSON object");
  CHECK(parse_webhook(deploys(), R"({"deploy_id":"a","finished_at":"soon"})", kNow).error().error ==
        "invalid time");
}

TEST_CASE("HMAC-SHA256 over the raw body, with or without the sha256= prefix") {
  auto c = deploys();
  c.hmac_secret = "whsec-test-key";
  const std::string body = R"({"deploy_id":"d-1"})";
  const std::string sig = "3a7e318d1683b5775303f32bc084d262c80fe6a9f529fdf061be20e929792efb";
  CHECK(vigie::net::hmac_sha256_hex("whsec-test-key", body) == sig);
  CHECK(verify_webhook(c, body, headers({{"X-Signature-256", sig}})) == WebhookAuth::ok);
  CHECK(verify_webhook(c, body, headers({{"X-Signature-256", "sha256=" + sig}})) == WebhookAuth::ok);
  CHECK(verify_webhook(c, body + " ", headers({{"X-Signature-256", sig}})) == WebhookAuth::invalid);
  CHECK(verify_webhook(c, body, headers({})) == WebhookAuth::missing);
}

TEST_CASE("shared token") {
  auto c = deploys();
  c.shared_secret = "tok-123456";
  CHECK(verify_webhook(c, "{}", headers({{"X-Webhook-Token", "tok-123456"}})) == WebhookAuth::ok);
  CHECK(verify_webhook(c, "{}", headers({{"X-Webhook-Token", "tok-123457"}})) == WebhookAuth::invalid);
}

TEST_CASE("webhook names cannot traverse paths") {
  CHECK(valid_webhook_name("deploys"));
  CHECK(valid_webhook_name("ci_builds-2"));
  for (const char* bad : {"", "..", "../etc", "a/b", "a.b", "%2e%2e"}) CHECK_FALSE(valid_webhook_name(bad));
}

TEST_CASE("deeply nested bodies are refused before parsing, not a stack overflow") {
  const std::string deep = "{\"deploy_id\":\"d\",\"a\":" + std::string(400000, '[') + std::string(400000, ']') + "}";
  auto r = parse_webhook(deploys(), deep, kNow);
  REQUIRE_FALSE(r);
  CHECK(r.error().detail == "nested deeper than 64 levels");
  auto am = parse_alertmanager_alerts("[" + std::string(100000, '{') + "]", kNow);
  REQUIRE_FALSE(am);
  // Brackets inside strings do not count.
  CHECK(parse_webhook(deploys(), R"({"deploy_id":"[[[[{{{{","msg":"]]]]"})", kNow).has_value());
}
