// The condition language: every operator, missing fields, types, macros and lists, error
// positions inside the TOML string, hostile regex subjects, and index keys.
#include <catch2/catch.hpp>

#include <chrono>

#include "vigie/config/messages.h"
#include "vigie/config/toml_tree.h"
#include "vigie/rules/condition.h"
#include "vigie/rules/rule_messages.h"

using namespace vigie;
using namespace vigie::rules;
using config::fmt_message;

namespace {

// Compiles `when` from a real TOML line so positions are those a user sees.
struct Compiled {
  config::Diagnostics diags;
  std::optional<Condition> cond;
};

std::unique_ptr<Compiled> compile(std::string_view expr, const ConditionEnv& env = {}) {
  auto out = std::make_unique<Compiled>();
  const std::string toml = "when = '" + std::string(expr) + "'\n";
  auto root = config::parse_toml(toml, "r.toml", out->diags);
  REQUIRE(root);
  const auto* v = root->get("when");
  out->cond = Condition::compile(v->string(), v->pos(), env, out->diags);
  return out;
}

bool eval(std::string_view expr, const nlohmann::json& attrs, std::string kind = "sentry.issue") {
  auto c = compile(expr);
  INFO(expr << "\n" << c->diags.render_text());
  REQUIRE(c->cond);
  bus::Event e;
  e.id = "1";
  e.source = "sentry";
  e.kind = std::move(kind);
  e.attrs = attrs;
  return c->cond->matches(e);
}

// The single error of compiling `expr`: code, message and column (the string starts at col 9).
const config::Diagnostic& only_error(const Compiled& c) {
  INFO(c.diags.render_text());
  REQUIRE(c.diags.items().size() == 1);
  return c.diags.items()[0];
}

const nlohmann::json kAttrs = {
    {"project", "shop-api"}, {"level", "error"}, {"count", 17},
    {"error_rate", 0.07},    {"up", true},       {"tags", {"db", "payments", 42}},
    {"entity", {{"name", "web.1"}}}, {"wait", "5m"}, {"closed_at", nullptr},
    {"message", "Out of memory: Killed process 4242 (ruby)"}};

}  // namespace

TEST_CASE("equality and inequality on strings, numbers and booleans") {
  CHECK(eval(R"(kind == "sentry.issue")", kAttrs));
  CHECK(eval(R"(project == "shop-api")", kAttrs));
  CHECK_FALSE(eval(R"(project == "billing")", kAttrs));
  CHECK(eval(R"(project != "billing")", kAttrs));
  CHECK(eval("count == 17", kAttrs));
  CHECK(eval("count != 18", kAttrs));
  CHECK(eval("up == true", kAttrs));
  CHECK_FALSE(eval("up == false", kAttrs));
  CHECK(eval(R"(entity.name == "web.1")", kAttrs));
  CHECK(eval(R"(attrs.project == "shop-api")", kAttrs));
}

TEST_CASE("ordering on numbers and durations") {
  CHECK(eval("error_rate > 0.05", kAttrs));
  CHECK_FALSE(eval("error_rate > 0.07", kAttrs));
  CHECK(eval("error_rate >= 0.07", kAttrs));
  CHECK(eval("count < 18", kAttrs));
  CHECK(eval("count <= 17", kAttrs));
  CHECK(eval("count > -1", kAttrs));
  CHECK(eval("count >= 1.5e1", kAttrs));
  // Durations compare with numbers as seconds, and with duration strings.
  CHECK(eval("count > 10s", kAttrs));   // 17 s
  CHECK(eval("wait == 5m", kAttrs));
  CHECK(eval("wait < 1h", kAttrs));
  CHECK_FALSE(eval("wait > 300s", kAttrs));
}

TEST_CASE("in, contains, starts_with, ends_with, matches, exists") {
  CHECK(eval(R"(level in ["error", "fatal"])", kAttrs));
  CHECK_FALSE(eval(R"(level in ["warning"])", kAttrs));
  CHECK(eval("count in [1, 17]", kAttrs));
  CHECK(eval("up in [true]", kAttrs));
  CHECK(eval(R"(level not in ["info", "debug"])", kAttrs));
  CHECK(eval(R"(message contains "Killed process")", kAttrs));
  CHECK(eval(R"(tags contains "payments")", kAttrs));
  CHECK(eval("tags contains 42", kAttrs));
  CHECK_FALSE(eval(R"(tags contains "web")", kAttrs));
  CHECK(eval(R"(project starts_with "shop")", kAttrs));
  CHECK(eval(R"(project ends_with "-api")", kAttrs));
  CHECK_FALSE(eval(R"(project ends_with "shop")", kAttrs));
  CHECK(eval(R"(message matches "(?i)out of memory: kill(ed)? process \\d+")", kAttrs));
  CHECK_FALSE(eval(R"(message matches "^Killed")", kAttrs));
  CHECK(eval("entity exists", kAttrs));
  CHECK(eval("entity.name exists", kAttrs));
  CHECK_FALSE(eval("host exists", kAttrs));
}

TEST_CASE("and, or, not and parentheses with the usual precedence") {
  CHECK(eval(R"(level == "error" and project == "shop-api")", kAttrs));
  CHECK_FALSE(eval(R"(level == "error" and project == "billing")", kAttrs));
  CHECK(eval(R"(level == "info" or project == "shop-api")", kAttrs));
  // not binds tighter than and, and tighter than or.
  CHECK(eval(R"(not level == "info" and count == 17)", kAttrs));
  CHECK(eval(R"(level == "info" and count == 1 or up == true)", kAttrs));
  CHECK_FALSE(eval(R"(level == "info" and (count == 1 or up == true))", kAttrs));
  CHECK(eval(R"(not (level == "info" or level == "debug"))", kAttrs));
  CHECK(eval("true", kAttrs));
  CHECK_FALSE(eval("not true", kAttrs));
}

TEST_CASE("a missing or null field makes every comparison false, not inverts that") {
  for (const char* expr : {R"(host == "db1")", R"(host != "db1")", "host > 1", "host < 1",
                           R"(host in ["a"])", R"(host contains "a")", R"(host starts_with "a")",
                           R"(host matches ".*")", "host exists", "closed_at exists",
                           R"(closed_at == "x")", R"(entity.name.first == "w")"}) {
    INFO(expr);
    CHECK_FALSE(eval(expr, kAttrs));
  }
  CHECK(eval(R"(not (host == "db1"))", kAttrs));
  CHECK(eval("not (closed_at exists)", kAttrs));
}

TEST_CASE("a value of another type than the literal compares false, never throws") {
  CHECK_FALSE(eval(R"(count == "17")", kAttrs));
  CHECK_FALSE(eval("project == 17", kAttrs));
  CHECK_FALSE(eval(R"(project != 17)", kAttrs));
  CHECK_FALSE(eval("project > 1", kAttrs));
  CHECK_FALSE(eval("up == 1", kAttrs));
  CHECK_FALSE(eval(R"(count starts_with "1")", kAttrs));
  CHECK_FALSE(eval(R"(entity contains "web")", kAttrs));
  CHECK_FALSE(eval(R"(tags matches "db")", kAttrs));
}

TEST_CASE("type errors are load errors at the operator's column") {
  auto c = compile(R"(count > "abc")");
  CHECK_FALSE(c->cond);
  const auto& e = only_error(*c);
  CHECK(e.code == kCondTypeMismatch.code);
  CHECK(e.message == fmt_message(kCondTypeMismatch, ">", "a number or a duration", "a string"));
  CHECK(e.pos == config::SourcePos{"r.toml", 1, 15});

  auto in5 = compile("level in 5");
  CHECK(only_error(*in5).message ==
        fmt_message(kCondTypeMismatch, "in", "a list such as [\"a\", \"b\"] or a [[list]] name", "a single value"));
  auto sw = compile("project starts_with 5");
  CHECK(only_error(*sw).message == fmt_message(kCondTypeMismatch, "starts_with", "a string", "a number"));
  auto list_eq = compile(R"(level == ["a"])");
  CHECK(only_error(*list_eq).message == fmt_message(kCondTypeMismatch, "==", "a single value", "a list"));
  // Every type error of a condition is reported, not only the first.
  auto two = compile(R"(count > "a" and project starts_with 1)");
  CHECK(two->diags.error_count() == 2);
}

TEST_CASE("syntax errors: each its own message, at its exact column") {
  struct Case {
    const char* expr;
    std::string message;
    int column;
  };
  const std::vector<Case> cases{
      {"", fmt_message(kCondEmpty), 9},
      {R"((level == "error")", fmt_message(kCondUnbalancedOpen), 9},
      {R"(level == "error"))", fmt_message(kCondUnbalancedClose), 25},
      {R"(level === "error")", fmt_message(kCondUnknownOperator, "==="), 15},
      {R"(level ~= "error")", fmt_message(kCondUnknownOperator, "~="), 15},
      {R"(level contain "x")", fmt_message(kCondUnknownOperator, "contain"), 15},
      {R"(level == "error" project == "x")", fmt_message(kCondTrailing, "project"), 26},
      {R"(level == "error)", fmt_message(kCondUnterminatedString), 18},
      {"level ==", fmt_message(kCondUnexpectedEnd, "a value after '=='"), 17},
      {"count > 5q", fmt_message(kCondBadNumber, "5q"), 17},
      {R"(level and x == 1)", fmt_message(kCondBareField, "level", "level"), 9},
      {R"(x in [1, 2)", fmt_message(kCondUnexpectedEnd, "',' or ']'"), 19},
  };
  for (const auto& c : cases) {
    INFO(c.expr);
    auto r = compile(c.expr);
    CHECK_FALSE(r->cond);
    const auto& e = only_error(*r);
    CHECK(e.message == c.message);
    CHECK(e.pos.line == 1);
    CHECK(e.pos.column == c.column);
  }
  // Typos of keywords and C-style operators come with a suggestion.
  CHECK(only_error(*compile(R"(level contain "x")")).notes.front() == fmt_message(config::kNoteDidYouMean, "contains"));
  CHECK(only_error(*compile(R"(a == 1 && b == 2)")).notes.front() == fmt_message(config::kNoteDidYouMean, "and"));
  CHECK(only_error(*compile(R"(a =~ "x")")).notes.front() == fmt_message(config::kNoteDidYouMean, "matches"));
}

TEST_CASE("a bad regex is a load error pointing at the pattern") {
  auto c = compile(R"(message matches "(unclosed")");
  CHECK_FALSE(c->cond);
  const auto& e = only_error(*c);
  CHECK(e.code == kCondBadRegex.code);
  CHECK(e.message.rfind("invalid regular expression: ", 0) == 0);
  CHECK(e.pos.column == 25);
}

TEST_CASE("macros expand, nest, are recorded as used, and cycles are errors") {
  config::Diagnostics src;
  auto root = config::parse_toml(
      "a = 'kind == \"sentry.issue\"'\nb = 'a and level in serious'\nloop1 = 'loop2'\nloop2 = 'loop1 or true'\n",
      "m.toml", src);
  ConditionEnv env;
  for (const char* name : {"a", "b", "loop1", "loop2"}) {
    env.macros[name] = {root->get(name)->string(), root->get(name)->pos()};
  }
  env.lists["serious"] = {"error", "fatal"};
  {
    config::Diagnostics d;
    d.merge(src);
    auto c = Condition::compile(R"(b and project == "shop-api")", {"r.toml", 1, 1}, env, d);
    REQUIRE(c);
    bus::Event e;
    e.kind = "sentry.issue";
    e.attrs = {{"level", "fatal"}, {"project", "shop-api"}};
    CHECK(c->matches(e));
    e.attrs["level"] = "info";
    CHECK_FALSE(c->matches(e));
    CHECK(env.used_macros.count("a"));
    CHECK(env.used_macros.count("b"));
    CHECK(env.used_lists.count("serious"));
    // Index keys see through the macro: kind == "sentry.issue", level in [...], project.
    auto keys = c->index_keys();
    REQUIRE(keys.size() == 3);
    CHECK(keys[0].path.text() == "kind");
    CHECK(keys[1].values == std::vector<std::string>{"error", "fatal"});
  }
  {
    config::Diagnostics d;
    d.merge(src);
    auto c = Condition::compile("loop1", {"r.toml", 1, 1}, env, d);
    CHECK_FALSE(c);
    REQUIRE(d.error_count() == 1);
    CHECK(d.items()[0].message == fmt_message(kCondMacroCycle, "loop1", "loop1 -> loop2 -> loop1"));
    CHECK(d.items()[0].pos.file == "m.toml");  // inside the macro's definition
  }
}

TEST_CASE("an unknown list is an error with a suggestion") {
  ConditionEnv env;
  env.lists["serious_levels"] = {"error"};
  auto c = compile("level in serious_level", env);
  CHECK_FALSE(c->cond);
  CHECK(only_error(*c).message == fmt_message(kCondUnknownList, "serious_level"));
  CHECK(only_error(*c).notes.front() == fmt_message(config::kNoteDidYouMean, "serious_levels"));
}

TEST_CASE("hostile subjects: a 1 MB line against a catastrophic pattern, NULs, bad UTF-8") {
  auto c = compile(R"(message matches "(a+)+$" or message matches "(x+x+)+y")");
  REQUIRE(c->cond);
  bus::Event e;
  e.kind = "papertrail.log";
  e.attrs = {{"message", std::string(1 << 20, 'a') + "!"}};
  // RE2 runs in linear time: this returns (a backtracking engine would not, in this century).
  CHECK_FALSE(c->cond->matches(e));
  e.attrs["message"] = std::string("a\0b\xff\xfe", 5);
  CHECK_FALSE(c->cond->matches(e));
  e.attrs["message"] = std::string(1 << 20, 'x') + "y";
  CHECK(c->cond->matches(e));
}

TEST_CASE("index keys come from the top-level conjunction only") {
  auto both = compile(R"(kind == "a" and project in ["x", "y"] and count > 3)");
  auto keys = both->cond->index_keys();
  REQUIRE(keys.size() == 2);
  CHECK(keys[0].values == std::vector<std::string>{"a"});
  CHECK(keys[1].values == std::vector<std::string>{"x", "y"});
  CHECK(compile(R"(kind == "a" or kind == "b")")->cond->index_keys().empty());
  CHECK(compile(R"(not kind == "a")")->cond->index_keys().empty());
}

TEST_CASE("errors inside multi-line conditions point at the right line") {
  config::Diagnostics d;
  auto root = config::parse_toml("when = '''\nkind == \"x\"\n  and level ~= \"y\"'''\n", "r.toml", d);
  const auto* v = root->get("when");
  auto c = Condition::compile(v->string(), v->pos(), {}, d);
  CHECK_FALSE(c);
  REQUIRE(d.error_count() == 1);
  CHECK(d.items()[0].pos == config::SourcePos{"r.toml", 3, 13});
}
