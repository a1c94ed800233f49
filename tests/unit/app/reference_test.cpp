// The docs embed references generated from the option tables: they must be current.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "vigie/app/reference.h"

namespace {
std::string read(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}
}  // namespace

TEST_CASE("docs/configuration.md matches the option tables") {
  const std::string doc = read(std::string(VIGIE_SOURCE_DIR) + "/docs/configuration.md");
  INFO("regenerate with: build/app/vigie-gen-docs docs");
  CHECK(doc == vigie::app::splice_generated(doc, vigie::app::configuration_reference_markdown()));
  CHECK(doc.find("| `token_env` / `token_file` | secret |") != std::string::npos);
}

TEST_CASE("docs/rules.md matches the rule option tables") {
  const std::string doc = read(std::string(VIGIE_SOURCE_DIR) + "/docs/rules.md");
  INFO("regenerate with: build/app/vigie-gen-docs docs");
  CHECK(doc == vigie::app::splice_generated(doc, vigie::app::rules_reference_markdown()));
  CHECK(doc.find("| `absent_for` | duration |") != std::string::npos);
}
