// The versioned event codec: exact round trips, and refusal of what it cannot read.
#include <catch2/catch.hpp>

#include "vigie/bus/codec.h"

using namespace vigie;
using namespace vigie::bus;

namespace {
Event sample() {
  Event e;
  e.id = "sentry:4242:count=17";
  e.source = "sentry";
  e.kind = "sentry.issue";
  e.time = from_unix_ms(1'795'341'600'123);
  e.received_at = from_unix_ms(1'795'341'601'000);
  e.attrs = {{"project", "shop-api"},
             {"level", "error"},
             {"count", 17},
             {"ratio", 0.25},
             {"resolved", false},
             {"entity", {{"name", "web.1"}, {"tags", {"a", "b"}}}},
             {"big_id", "9007199254740993"},
             {"none", nullptr}};
  return e;
}
}  // namespace

TEST_CASE("an event survives encode and decode exactly") {
  const Event e = sample();
  auto back = decode_event(encode_event(e));
  REQUIRE(back);
  CHECK(*back == e);
}

TEST_CASE("the body carries its version") {
  auto j = nlohmann::json::parse(encode_event(sample()));
  CHECK(j["v"] == kCodecVersion);
  CHECK(j["time"] == "2026-11-22T10:00:00.123Z");
}

TEST_CASE("an unknown version is rejected rather than guessed") {
  auto j = event_to_json(sample());
  j["v"] = 2;
  auto r = decode_event(j.dump());
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "unsupported event body version 2 (this build reads version 1)");
  j.erase("v");
  CHECK_FALSE(decode_event(j.dump()));
}

TEST_CASE("malformed bodies give a reason, never an exception") {
  CHECK(decode_event("not json").error().message == "event body is not valid JSON");
  CHECK(decode_event("[1,2]").error().message == "event body is not a JSON object");
  auto j = event_to_json(sample());
  j["time"] = "yesterday";
  CHECK(decode_event(j.dump()).error().message == "event field 'time' is not an RFC 3339 time");
  j = event_to_json(sample());
  j["attrs"] = "x";
  CHECK(decode_event(j.dump()).error().message == "event field 'attrs' is not an object");
  j = event_to_json(sample());
  j["id"] = 5;
  CHECK(decode_event(j.dump()).error().message == "event field 'id' is missing or not a string");
  j = event_to_json(sample());
  j["kind"] = "";
  CHECK(decode_event(j.dump()).error().message == "event field 'kind' is empty");
}

TEST_CASE("invalid UTF-8 in an attribute is encoded, not thrown") {
  Event e = sample();
  e.attrs["message"] = std::string("bad \xff\xfe bytes");
  const std::string body = encode_event(e);
  auto back = decode_event(body);
  REQUIRE(back);
  CHECK(back->attrs["message"].get<std::string>().find("bad ") == 0);
}
