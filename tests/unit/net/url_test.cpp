// base_url parsing: the forms upstream configs use, and refusal of the rest.
#include <catch2/catch.hpp>

#include "vigie/net/url.h"

using namespace vigie::net;

TEST_CASE("http(s) URLs split into scheme, host, port and target") {
  auto u = parse_url("https://slack.com/api");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->host == "slack.com");
  CHECK(u->port == 443);
  CHECK(u->target == "/api");
  CHECK(u->tls());
  CHECK(u->host_header() == "slack.com");

  auto local = parse_url("http://127.0.0.1:40123");
  REQUIRE(local);
  CHECK(local->port == 40123);
  CHECK(local->target == "/");
  CHECK(local->host_header() == "127.0.0.1:40123");

  auto v6 = parse_url("http://[::1]:8080/x?y=1");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->target == "/x?y=1");
  CHECK(v6->to_string() == "http://[::1]:8080/x?y=1");
}

TEST_CASE("ws(s) URLs take the default ports 80 and 443 - wss is TLS") {
  auto wss = parse_url("wss://wss-primary.slack.com/link/?ticket=abc");
  REQUIRE(wss);
  CHECK(wss->scheme == "wss");
  CHECK(wss->port == 443);
  CHECK(wss->tls());
  CHECK(wss->target == "/link/?ticket=abc");
  CHECK(wss->host_header() == "wss-primary.slack.com");
  auto ws = parse_url("ws://127.0.0.1");
  REQUIRE(ws);
  CHECK(ws->port == 80);
  CHECK_FALSE(ws->tls());
  CHECK(ws->to_string() == "ws://127.0.0.1/");
  CHECK(parse_url("ws://127.0.0.1:9000/x")->host_header() == "127.0.0.1:9000");
  CHECK(parse_url("wss://h:80/")->host_header() == "h:80");
}

TEST_CASE("other schemes, credentials, fragments and bad ports are refused") {
  for (const char* bad : {"ftp://x", "wsx://x", "slack.com/api", "https://", "https://u:p@host/",
                          "http://host:0/", "http://host:70000/", "http://host:8x/",
                          "http://host/#frag", "http://[::1/"}) {
    INFO(bad);
    CHECK_FALSE(parse_url(bad).has_value());
  }
}

TEST_CASE("join appends a method path to the base path") {
  auto base = *parse_url("https://slack.com/api");
  CHECK(join(base, "chat.postMessage").target == "/api/chat.postMessage");
  CHECK(join(*parse_url("https://sentry.io/"), "/api/0/organizations/acme/issues/").target ==
        "/api/0/organizations/acme/issues/");
}

TEST_CASE("url_encode leaves unreserved characters and encodes the rest") {
  CHECK(url_encode("shop-api_1.x~") == "shop-api_1.x~");
  CHECK(url_encode("a b/c?d=e&f") == "a%20b%2Fc%3Fd%3De%26f");
  CHECK(url_encode("\xc3\xa9") == "%C3%A9");
}
