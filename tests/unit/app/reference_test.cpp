// docs/configuration.md embeds the reference generated from the option tables: it must be current.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "vigie/app/reference.h"

TEST_CASE("docs/configuration.md matches the option tables") {
  std::ifstream in(std::string(VIGIE_SOURCE_DIR) + "/docs/configuration.md");
  REQUIRE(in);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string doc = buf.str();
  const std::string expected =
      vigie::app::splice_generated(doc, vigie::app::configuration_reference_markdown());
  INFO("regenerate with: build/app/vigie-gen-docs docs/configuration.md");
  CHECK(doc == expected);
  CHECK(doc.find("| `token_env` / `token_file` | secret |") != std::string::npos);
}
