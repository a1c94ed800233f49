// Field paths as rules write them: the event's own fields, attrs, nested attrs.
#include <catch2/catch.hpp>

#include "vigie/bus/event.h"

using namespace vigie;
using namespace vigie::bus;

namespace {
FieldPath path(std::string_view text) {
  auto p = FieldPath::parse(text);
  REQUIRE(std::holds_alternative<FieldPath>(p));
  return std::get<FieldPath>(p);
}
Event event() {
  Event e;
  e.id = "1";
  e.source = "newrelic";
  e.kind = "newrelic.violation";
  e.time = from_unix_ms(5000);
  e.attrs = {{"app", "shop-api"},
             {"error_rate", 0.07},
             {"kind", "attr-kind"},
             {"entity", {{"name", "web.1"}, {"id", 42}}},
             {"up", true}};
  return e;
}
}  // namespace

TEST_CASE("event fields and attrs resolve") {
  const Event e = event();
  CHECK(path("kind").lookup(e).string == "newrelic.violation");
  CHECK(path("source").lookup(e).string == "newrelic");
  CHECK(path("time").lookup(e).time == from_unix_ms(5000));
  CHECK(path("app").lookup(e).string == "shop-api");
  CHECK(path("attrs.app").lookup(e).string == "shop-api");
  CHECK(path("error_rate").lookup(e).number == Approx(0.07));
  CHECK(path("up").lookup(e).boolean);
  CHECK(path("entity.name").lookup(e).string == "web.1");
  CHECK(path("attrs.entity.id").lookup(e).number == 42);
  // attrs.kind reaches the attribute, kind the event's own kind.
  CHECK(path("attrs.kind").lookup(e).string == "attr-kind");
}

TEST_CASE("missing fields are missing, at any depth and through non-objects") {
  const Event e = event();
  CHECK(path("host").lookup(e).missing());
  CHECK(path("entity.missing").lookup(e).missing());
  CHECK(path("app.length").lookup(e).missing());
  CHECK(path("entity.name.x").lookup(e).missing());
}

TEST_CASE("malformed paths are rejected with a reason") {
  for (const char* bad : {"", "a..b", ".a", "a.", "1abc", "a b", "attrs", "a.$x"}) {
    INFO(bad);
    CHECK(std::holds_alternative<std::string>(FieldPath::parse(bad)));
  }
}
