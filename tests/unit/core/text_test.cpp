// Did-you-mean hints.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "vigie/core/text.h"

using namespace vigie;

TEST_CASE("edit distance") {
  CHECK(edit_distance("listen", "lisen") == 1);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("fsat", "fast") == 1);  // a swap is one typo
}

TEST_CASE("closest_match suggests likely typos only") {
  const std::vector<std::string> keys{"listen", "ui", "max_body_bytes"};
  CHECK(closest_match("lisen", keys) == "listen");
  CHECK(closest_match("max_body_byte", keys) == "max_body_bytes");
  CHECK(closest_match("database", keys).empty());
}

TEST_CASE("json nesting depth counts brackets outside strings only") {
  CHECK(json_nesting_depth("{}") == 1);
  CHECK(json_nesting_depth(R"({"a":[1,{"b":[]}]})") == 4);
  CHECK(json_nesting_depth(R"({"a":"[[[[\"]]]"})") == 1);
  CHECK(json_nesting_depth(std::string(1000, '[')) == 1000);
}
