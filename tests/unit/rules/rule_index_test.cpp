// The rule index returns exactly the rules an event may match, in rule order.
#include <catch2/catch.hpp>

#include "vigie/rules/rule_index.h"

using namespace vigie;
using namespace vigie::rules;

namespace {
bus::FieldPath path(std::string_view text) { return std::get<bus::FieldPath>(bus::FieldPath::parse(text)); }
bus::Event event(std::string kind, nlohmann::json attrs = nlohmann::json::object()) {
  bus::Event e;
  e.id = "1";
  e.kind = std::move(kind);
  e.attrs = std::move(attrs);
  return e;
}
}  // namespace

TEST_CASE("rules are found by kind, by other string equalities, and unindexed rules always") {
  RuleIndex index;
  index.build({
      {{path("kind"), {"sentry.issue"}}, {path("project"), {"shop-api"}}},  // 0: filed by kind
      {{path("kind"), {"papertrail.log"}}},                                 // 1
      {{path("project"), {"shop-api", "billing"}}},                         // 2: by project
      {},                                                                   // 3: unindexed
      {{path("kind"), {"sentry.issue", "newrelic.violation"}}},             // 4: kind in [...]
  });
  CHECK(index.indexed_fields() == 2);
  CHECK(index.unindexed_rules() == 1);
  std::vector<std::uint32_t> out;

  index.candidates(event("sentry.issue", {{"project", "billing"}}), out);
  CHECK(out == std::vector<std::uint32_t>{0, 2, 3, 4});
  index.candidates(event("papertrail.log"), out);
  CHECK(out == std::vector<std::uint32_t>{1, 3});
  index.candidates(event("newrelic.violation", {{"project", 7}}), out);  // a number is not a key
  CHECK(out == std::vector<std::uint32_t>{3, 4});
  index.candidates(event("other"), out);
  CHECK(out == std::vector<std::uint32_t>{3});
}

TEST_CASE("candidate count stays flat as rules for other kinds are added") {
  std::vector<std::vector<IndexKey>> keys;
  for (int i = 0; i < 10000; ++i) {
    keys.push_back({{path("kind"), {"kind-" + std::to_string(i)}}});
  }
  RuleIndex index;
  index.build(keys);
  std::vector<std::uint32_t> out;
  index.candidates(event("kind-4242"), out);
  CHECK(out == std::vector<std::uint32_t>{4242});
}

TEST_CASE("rules sharing their kind are filed by their rarer equality, so an event has one candidate, not all of them") {
  // A rule per host, all on one kind: filed by kind, every event would be a candidate for all.
  std::vector<std::vector<IndexKey>> keys;
  for (int i = 0; i < 1000; ++i) {
    keys.push_back({{path("kind"), {"alertmanager.alert"}}, {path("instance"), {"host-" + std::to_string(i)}}});
  }
  keys.push_back({{path("kind"), {"alertmanager.alert"}}});  // 1000: only the kind
  RuleIndex index;
  index.build(keys);
  std::vector<std::uint32_t> out;
  index.candidates(event("alertmanager.alert", {{"instance", "host-42"}}), out);
  CHECK(out == std::vector<std::uint32_t>{42, 1000});
  index.candidates(event("alertmanager.alert", {{"instance", "elsewhere"}}), out);
  CHECK(out == std::vector<std::uint32_t>{1000});
}
