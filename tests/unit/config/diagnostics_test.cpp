// Diagnostics render as file:line:col with the source line and a caret, and as JSON.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "vigie/config/diagnostics.h"
#include "vigie/config/messages.h"
#include "vigie/config/toml_tree.h"

using namespace vigie::config;

TEST_CASE("text rendering shows position, severity, code, snippet, caret and notes") {
  Diagnostics d;
  d.add_source("a.toml", "x = 1\n  listen = \"nope\"\n");
  d.error({"a.toml", 2, 12}, "bad-address", "'listen' must be host:port, not 'nope'",
          {"did you mean 'x'?"});
  CHECK(d.render_text() ==
        "a.toml:2:12: error: 'listen' must be host:port, not 'nope' [bad-address]\n"
        "    listen = \"nope\"\n"
        "             ^\n"
        "  note: did you mean 'x'?\n");
}

TEST_CASE("diagnostics sort by file and position and count by severity") {
  Diagnostics d;
  d.warning({"b.toml", 1, 1}, "w", "later file");
  d.error({"a.toml", 9, 1}, "e", "second");
  d.error({"a.toml", 2, 5}, "e", "first");
  CHECK(d.error_count() == 2);
  CHECK(d.warning_count() == 1);
  auto s = d.sorted();
  CHECK(s[0].message == "first");
  CHECK(s[1].message == "second");
  CHECK(s[2].message == "later file");
}

TEST_CASE("JSON has every field of every diagnostic") {
  Diagnostics d;
  d.error({"a.toml", 3, 7}, "unknown-key", "unknown key 'x' in [server]", {"valid keys: a"});
  auto j = d.to_json();
  CHECK(j["errors"] == 1);
  CHECK(j["warnings"] == 0);
  REQUIRE(j["diagnostics"].size() == 1);
  const auto& e = j["diagnostics"][0];
  CHECK(e["file"] == "a.toml");
  CHECK(e["line"] == 3);
  CHECK(e["column"] == 7);
  CHECK(e["severity"] == "error");
  CHECK(e["code"] == "unknown-key");
  CHECK(e["message"] == "unknown key 'x' in [server]");
  CHECK(e["notes"][0] == "valid keys: a");
}

TEST_CASE("a TOML syntax error is reported at its 1-based position") {
  Diagnostics d;
  auto root = parse_toml("a = 1\nb = = 2\n", "x.toml", d);
  CHECK(root == nullptr);
  REQUIRE(d.items().size() == 1);
  CHECK(d.items()[0].code == kTomlSyntax.code);
  CHECK(d.items()[0].pos.line == 2);
  CHECK(d.items()[0].pos.column == 5);
}

TEST_CASE("the TOML tree keeps key and value positions") {
  Diagnostics d;
  auto root = parse_toml("[server]\n  listen = \"127.0.0.1:1\"\n[a.b]\nc = [1, 2]\n", "x.toml", d);
  REQUIRE(root);
  const TomlEntry* server = root->find("server");
  REQUIRE(server);
  CHECK(server->value->pos().line == 1);
  const TomlEntry* listen = server->value->find("listen");
  REQUIRE(listen);
  CHECK(listen->key_pos == SourcePos{"x.toml", 2, 3});
  CHECK(listen->value->pos() == SourcePos{"x.toml", 2, 12});
  const TomlNode* c = root->get("a")->get("b")->get("c");
  REQUIRE(c);
  REQUIRE(c->items().size() == 2);
  CHECK(c->items()[1]->integer() == 2);
  CHECK(c->items()[1]->pos().column == 9);
}

TEST_CASE("an unreadable file is one diagnostic without position") {
  Diagnostics d;
  CHECK(parse_toml_file("/nonexistent/vigie.toml", d) == nullptr);
  REQUIRE(d.items().size() == 1);
  CHECK(d.items()[0].code == kFileUnreadable.code);
  CHECK(d.items()[0].message == fmt_message(kFileUnreadable, "/nonexistent/vigie.toml"));
}

TEST_CASE("offsets inside string values map to the exact line and column") {
  Diagnostics d;
  const std::string text =
      "when = 'kind == \"x\" and level ~= 3'\n"        // literal string
      "esc = \"a\\\"b c\"\n"                            // basic string with an escape
      "multi = '''\n"
      "kind == \"a\"\n"
      "  and oops'''\n";
  auto root = parse_toml(text, "m.toml", d);
  REQUIRE(root);
  const TomlNode* when = root->get("when");
  // "kind == \"x\" and level ~= 3": '~' is byte 22 of the content; the quote is column 8.
  REQUIRE(when->string().substr(22, 2) == "~=");
  CHECK(locate_in_string(d, when->pos(), 22) == SourcePos{"m.toml", 1, 31});
  CHECK(locate_in_string(d, when->pos(), 0) == SourcePos{"m.toml", 1, 9});

  const TomlNode* esc = root->get("esc");
  REQUIRE(esc->string() == "a\"b c");
  CHECK(locate_in_string(d, esc->pos(), 2) == SourcePos{"m.toml", 2, 11});  // 'b', after \"
  CHECK(locate_in_string(d, esc->pos(), 4) == SourcePos{"m.toml", 2, 13});  // 'c'

  const TomlNode* multi = root->get("multi");
  REQUIRE(multi->string() == "kind == \"a\"\n  and oops");
  const std::size_t oops = multi->string().find("oops");
  CHECK(locate_in_string(d, multi->pos(), oops) == SourcePos{"m.toml", 5, 7});
  CHECK(locate_in_string(d, multi->pos(), 0) == SourcePos{"m.toml", 4, 1});
}

TEST_CASE("inputs that trip TOML++ 3.3 bugs give a syntax error, not an abort") {
  // TOML++ issues #190 and #295: an assertion in builds without NDEBUG, and __builtin_unreachable.
  for (const std::string& text : {std::string("[+.\n"), std::string("\n\xd1\x80")}) {
    Diagnostics d;
    CHECK(parse_toml(text, "bug.toml", d) == nullptr);
    REQUIRE(d.items().size() == 1);
    CHECK(d.items()[0].code == kTomlSyntax.code);
  }
}
