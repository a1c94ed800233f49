// [[command]] patterns: parsed at load with positioned errors, matched against typed words.
#include <catch2/catch.hpp>

#include "vigie/rules/command_pattern.h"

using namespace vigie::rules;

namespace {
CommandPattern pattern(std::string_view text) {
  auto p = CommandPattern::parse(text);
  INFO(text);
  REQUIRE(std::holds_alternative<CommandPattern>(p));
  return std::get<CommandPattern>(p);
}
std::vector<std::string> words(std::string_view text) {
  auto w = CommandPattern::split_words(text);
  REQUIRE(w);
  return *w;
}
}  // namespace

TEST_CASE("each placeholder type matches what it should") {
  auto p = pattern("scale {app:word} {n:int} for {d:duration} in {env:choice(staging|production)} {why:text}");
  CHECK(p.head() == "scale");
  CHECK(p.placeholder_names() == std::vector<std::string>{"app", "n", "d", "env", "why"});
  auto m = p.match(words("scale shop-api 3 for 30m in production because \"black friday\""));
  REQUIRE(std::holds_alternative<CommandPattern::Match>(m));
  const auto& v = std::get<CommandPattern::Match>(m).values;
  CHECK(v.at("app") == "shop-api");
  CHECK(v.at("n") == "3");
  CHECK(v.at("d") == "30m");
  CHECK(v.at("env") == "production");
  CHECK(v.at("why") == "because black friday");
  CHECK(p.usage() == "scale <app> <n> for <d> in <staging|production> <why...>");
}

TEST_CASE("bad arguments say what was expected") {
  auto p = pattern("scale {app:word} {n:int} {env:choice(staging|production)}");
  auto expect = [&](std::string_view text, std::string_view expected) {
    auto m = p.match(words(text));
    REQUIRE(std::holds_alternative<CommandPattern::Mismatch>(m));
    CHECK(std::get<CommandPattern::Mismatch>(m).expected == expected);
  };
  expect("scale web three staging", "a whole number for 'n', not 'three'");
  expect("scale web 3 prod", "one of staging, production for 'env', not 'prod'");
  expect("scale web", "a value for 'n'");
  expect("scale web 3 staging extra", "nothing after 'staging' (got 'extra')");
  expect("restart web", "'scale'");
  auto d = pattern("snooze {d:duration}");
  auto m = d.match(words("snooze soon"));
  CHECK(std::get<CommandPattern::Mismatch>(m).expected ==
        "a duration such as 30m for 'd', not 'soon'");
}

TEST_CASE("quoting groups words and keeps escaped quotes, an open quote is refused") {
  CHECK(words("say \"hello world\" \"a \\\"b\\\"\"") ==
        std::vector<std::string>{"say", "hello world", "a \"b\""});
  CHECK_FALSE(CommandPattern::split_words("say \"oops").has_value());
  // A hostile argument is one word, never split or interpreted.
  auto p = pattern("restart {app:word}");
  auto m = p.match(words("restart \"; rm -rf /\""));
  REQUIRE(std::holds_alternative<CommandPattern::Match>(m));
  CHECK(std::get<CommandPattern::Match>(m).values.at("app") == "; rm -rf /");
}

TEST_CASE("malformed patterns are refused with the offset of the mistake") {
  auto error = [](std::string_view text) {
    auto p = CommandPattern::parse(text);
    REQUIRE(std::holds_alternative<std::pair<std::string, std::size_t>>(p));
    return std::get<std::pair<std::string, std::size_t>>(p);
  };
  CHECK(error("restart {app}").first == "placeholder '{app}' needs a type, as in {app:word}");
  CHECK(error("restart {app:wrd}") ==
        std::pair<std::string, std::size_t>{
            "unknown placeholder type 'wrd' (use word, int, duration, choice(a|b) or text)", 13});
  CHECK(error("restart {app:word").first == "'{' is never closed");
  CHECK(error("{app:word} restart").first ==
        "a pattern must start with a literal word, as in 'restart {app:word}'");
  CHECK(error("say {a:text} {b:word}").first ==
        "a {name:text} placeholder takes the rest of the line and must come last");
  CHECK(error("copy {a:word} {a:word}").first == "placeholder 'a' appears twice");
  CHECK(error("").first == "pattern is empty");
  CHECK(error("x {c:choice(a||b)}").first == "empty choice in 'choice(a||b)'");
}
