// Request and form helpers.
#include <catch2/catch.hpp>

#include "vigie/net/http.h"
#include "vigie/net/http_server.h"

using namespace vigie::net;

TEST_CASE("forms decode percent escapes and plus signs - the first repeated key wins") {
  auto f = parse_form("token=abc&text=restart+shop-api%21&x=%ZZ&empty=&text=second");
  CHECK(f.at("token") == "abc");
  CHECK(f.at("text") == "restart shop-api!");
  CHECK(f.at("x") == "%ZZ");
  CHECK(f.at("empty").empty());
  CHECK(url_decode("%") == "%");
  CHECK(url_decode("a%2") == "a%2");
}

TEST_CASE("headers are case-insensitive - query parameters are decoded") {
  HttpRequest r;
  r.headers.emplace("X-Slack-Signature", "v0=abc");
  r.query = "since=10m&kind=sentry.issue";
  CHECK(r.header("x-slack-signature") == "v0=abc");
  CHECK_FALSE(r.header("x-other"));
  CHECK(r.query_param("kind") == "sentry.issue");
}

TEST_CASE("JSON errors are valid JSON whatever the detail holds") {
  auto r = HttpResponse::json_error(400, "malformed JSON", "bad \"quote\"\n\x01");
  CHECK(r.status == 400);
  CHECK(r.body == R"({"error":"malformed JSON","detail":"bad \"quote\"\n\u0001"})");
}

TEST_CASE("listen addresses split into host and port") {
  CHECK(split_host_port("127.0.0.1:8080") == std::pair<std::string, std::uint16_t>{"127.0.0.1", 8080});
  CHECK(split_host_port("localhost:0") == std::pair<std::string, std::uint16_t>{"127.0.0.1", 0});
  CHECK(split_host_port("[::1]:9") == std::pair<std::string, std::uint16_t>{"::1", 9});
  CHECK_FALSE(split_host_port("8080"));
  CHECK_FALSE(split_host_port("host:99999"));
}
