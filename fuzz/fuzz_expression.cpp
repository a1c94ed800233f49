// The condition language: any text must compile or be refused with a positioned error; whatever
// compiles must evaluate against events of every attribute type without crashing or allocating
// trouble (regexes are RE2, linear time on hostile subjects).
#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "vigie/bus/event.h"
#include "vigie/config/diagnostics.h"
#include "vigie/rules/condition.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const vigie::rules::ConditionEnv env = [] {
    vigie::rules::ConditionEnv e;
    e.macros["prod"] = {"env == \"prod\"", {"fuzz.toml", 1, 10}};
    e.lists["levels"] = {"error", "fatal"};
    return e;
  }();
  static const std::vector<vigie::bus::Event> events = [] {
    std::vector<vigie::bus::Event> list;
    vigie::bus::Event e;
    e.id = "e1";
    e.source = "papertrail";
    e.kind = "papertrail.log";
    e.attrs = {{"message", std::string(4096, 'a') + "\xff\xfe" + std::string(1, '\0') + "(((((("},
               {"env", "prod"}, {"level", "error"}, {"count", 12}, {"ratio", 0.5}, {"flag", false},
               {"nested", {{"a", {{"b", "c"}}}}}, {"arr", {1, 2, 3}}, {"null", nullptr}, {"big", 18446744073709551615ULL}};
    list.push_back(e);
    e.attrs = nlohmann::json::object();
    list.push_back(e);
    return list;
  }();
  const auto text = vigie::fuzz::as_text(data, size);
  vigie::config::Diagnostics diags;
  diags.add_source("fuzz.toml", "when = '" + std::string(text) + "'\n");
  auto c = vigie::rules::Condition::compile(text, {"fuzz.toml", 1, 8}, env, diags);
  (void)diags.render_text();
  if (!c) return 0;
  for (const auto& e : events) (void)c->matches(e);
  (void)c->index_keys();
  return 0;
}
