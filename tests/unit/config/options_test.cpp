// Option tables: types, defaults, unknown keys with hints, and secrets only by reference.
#include <catch2/catch.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "vigie/config/messages.h"
#include "vigie/config/options.h"
#include "vigie/core/log.h"

using namespace vigie;
using namespace vigie::config;

namespace {
constexpr std::array<std::string_view, 2> kModes{"fast", "slow"};
constexpr std::array<OptionSpec, 7> kSpecs{{
    {"url", OptionType::url, "https://example.com", false, "u"},
    {"name", OptionType::string, "", true, "n"},
    {"every", OptionType::duration, "30s", false, "e"},
    {"tags", OptionType::string_list, "", false, "t"},
    {"mode", OptionType::enumeration, "fast", false, "m", kModes},
    {"limit", OptionType::integer, "10", false, "l", {}, 1, 100},
    {"token", OptionType::secret, "", true, "secret"},
}};
constexpr OptionTable kTable{"thing", "a test kind", kSpecs};

std::shared_ptr<const TomlNode> parse(std::string_view text, Diagnostics& d) {
  auto root = parse_toml(text, "t.toml", d);
  REQUIRE(root);
  return root;
}
}  // namespace

TEST_CASE("valid values and defaults") {
  Diagnostics d;
  auto root = parse("name = \"x\"\ntags = [\"a\", \"b\"]\nlimit = 5\ntoken_env = \"T\"\n", d);
  auto v = validate_options(*root, kTable, "[thing]", d);
  CHECK_FALSE(d.has_errors());
  CHECK(v.string("name") == "x");
  CHECK(v.string("url") == "https://example.com");
  CHECK(v.duration("every") == std::chrono::seconds(30));
  CHECK(v.strings("tags") == std::vector<std::string>{"a", "b"});
  CHECK(v.integer("limit") == 5);
  CHECK(v.string("mode") == "fast");
  REQUIRE(v.secret("token"));
  CHECK(v.secret("token")->env == "T");
}

TEST_CASE("each kind of bad value has its own message") {
  Diagnostics d;
  auto root = parse(
      "name = 3\nurl = \"ftp://x\"\nevery = \"soon\"\nmode = \"fsat\"\nlimit = 1000\n"
      "tags = [\"a\", 2]\ntoken_env = \"T\"\n",
      d);
  validate_options(*root, kTable, "[thing]", d);
  const auto& items = d.items();
  REQUIRE(items.size() == 6);
  CHECK(items[0].message == fmt_message(kWrongType, "name", "a string", "integer"));
  CHECK(items[1].message == fmt_message(kBadUrl, "url", "ftp://x"));
  CHECK(items[2].message == fmt_message(kBadDuration, "every", "soon"));
  CHECK(items[3].message == fmt_message(kBadEnum, "mode", "\"fast\", \"slow\"", "fsat"));
  CHECK(items[3].notes == std::vector<std::string>{fmt_message(kNoteDidYouMean, "fast")});
  CHECK(items[4].message == fmt_message(kOutOfRange, "limit", "between 1 and 100", "1000"));
  CHECK(items[5].message == fmt_message(kWrongType, "tags item", "a string", "integer"));
  CHECK(items[5].pos == SourcePos{"t.toml", 6, 14});
}

TEST_CASE("unknown keys name the valid ones and suggest the closest") {
  Diagnostics d;
  auto root = parse("name = \"x\"\ntoken_env = \"T\"\n  limt = 3\n", d);
  validate_options(*root, kTable, "[thing]", d);
  REQUIRE(d.items().size() == 1);
  const auto& e = d.items()[0];
  CHECK(e.code == kUnknownKey.code);
  CHECK(e.message == fmt_message(kUnknownKey, "limt", "[thing]"));
  CHECK(e.pos == SourcePos{"t.toml", 3, 3});
  REQUIRE(e.notes.size() == 2);
  CHECK(e.notes[0] == fmt_message(kNoteDidYouMean, "limit"));
  CHECK(e.notes[1] == fmt_message(kNoteValidKeys,
                                  "url, name, every, tags, mode, limit, token_env, token_file"));
}

TEST_CASE("secrets are refused inline, required, and never both env and file") {
  Diagnostics d;
  auto root = parse("name = \"x\"\ntoken = \"hunter22\"\n", d);
  validate_options(*root, kTable, "[thing]", d);
  REQUIRE(d.items().size() == 1);
  CHECK(d.items()[0].message == fmt_message(kInlineSecret, "token", "token", "token"));

  Diagnostics d2;
  validate_options(*parse("name = \"x\"\n", d2), kTable, "[thing]", d2);
  REQUIRE(d2.items().size() == 1);
  CHECK(d2.items()[0].message ==
        fmt_message(kSecretMissing, "token", "[thing]", "token", "token"));

  Diagnostics d3;
  validate_options(*parse("name = \"x\"\ntoken_env = \"A\"\ntoken_file = \"b\"\n", d3), kTable,
                   "[thing]", d3);
  REQUIRE(d3.items().size() == 1);
  CHECK(d3.items()[0].message == fmt_message(kSecretBothSources, "token", "token"));
}

TEST_CASE("resolving a secret reads env or file and registers it for redaction") {
  SecretRegistry secrets;
  Diagnostics d;
  ::setenv("VIGIE_TEST_SECRET", "s3cr3t-from-env", 1);
  auto v = resolve_secret(SecretRef{"VIGIE_TEST_SECRET", "", {}}, "token", secrets, d);
  REQUIRE(v);
  CHECK(*v == "s3cr3t-from-env");
  CHECK(secrets.redact("x s3cr3t-from-env y") == "x [redacted] y");

  const auto dir = std::filesystem::temp_directory_path() / "vigie-options-test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "tok") << "file-secret-value\n";
  }
  auto f = resolve_secret(SecretRef{"", (dir / "tok").string(), {}}, "token", secrets, d);
  REQUIRE(f);
  CHECK(*f == "file-secret-value");  // the trailing newline of the file is not part of it
  std::filesystem::remove_all(dir);

  ::unsetenv("VIGIE_UNSET_VAR");
  auto missing = resolve_secret(SecretRef{"VIGIE_UNSET_VAR", "", {"t.toml", 4, 9}}, "token",
                                secrets, d, Severity::warning);
  CHECK_FALSE(missing);
  REQUIRE(d.items().size() == 1);
  CHECK(d.items()[0].severity == Severity::warning);
  CHECK(d.items()[0].message == fmt_message(kSecretEnvUnset, "VIGIE_UNSET_VAR", "token_env"));
}

TEST_CASE("option tables render as a markdown reference") {
  const std::string md = describe_markdown(kTable);
  CHECK(md.find("| `every` | duration | `30s` | no | e |") != std::string::npos);
  CHECK(md.find("| `token_env` / `token_file` | secret |  | yes | secret |") != std::string::npos);
  CHECK(md.find("enum: \"fast\", \"slow\"") != std::string::npos);
}
