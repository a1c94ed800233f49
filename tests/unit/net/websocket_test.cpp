// The WebSocket client against WsServer (tests/fakes) on 127.0.0.1, port 0: messages both ways,
// a read that waits across calls, the server closing or vanishing, keep-alive pings and the idle
// timeout, message limits, refused upgrades, and wss with the fixture certificate.
#include <catch2/catch.hpp>

#include <chrono>
#include <sstream>
#include <thread>

#include "vigie/net/http_server.h"
#include "vigie/net/websocket.h"
#include "ws_server.h"

using namespace vigie;
using namespace vigie::net;
using vigie::testing::WsServer;
using namespace std::chrono_literals;

namespace {

const std::string kFixtures = VIGIE_FIXTURES "/tls/";

struct Fixture {
  std::ostringstream log_out;
  Logging logging{LogLevel::debug, std::make_shared<SecretRegistry>(), log_out};

  tl::expected<std::unique_ptr<WebSocketConnection>, ClientError> connect(
      const std::string& url, WebSocketOptions options = {}) {
    auto parsed = parse_url(url);
    REQUIRE(parsed);
    return connect_websocket(*parsed, std::move(options), logging.logger("ws"));
  }
};

std::string ws_url(const WsServer& server, const std::string& path = "/") {
  return "ws://127.0.0.1:" + std::to_string(server.port()) + path;
}

// Reads until a message arrives or `total` passes, in short reads as a caller's loop would.
tl::expected<std::optional<std::string>, ClientError> read_within(WebSocketConnection& c,
                                                                  Duration total) {
  const auto end = std::chrono::steady_clock::now() + total;
  while (std::chrono::steady_clock::now() < end) {
    auto r = c.read(Duration(100));
    if (!r || *r) return r;
  }
  return std::optional<std::string>{};
}

}  // namespace

TEST_CASE("connect, then messages from the server to the client") {
  std::string target;
  WsServer::Options o;
  o.on_connect = [&](std::size_t, const std::string& t) { target = t; };
  WsServer server(o);
  Fixture f;
  auto c = f.connect(ws_url(server, "/link/?ticket=t-123"));
  REQUIRE(c);
  REQUIRE(server.wait_for_connections(1, 2s));
  CHECK(target == "/link/?ticket=t-123");
  CHECK(server.last_user_agent() == "vigie");
  // The ticket is a credential: not in the log.
  CHECK(f.log_out.str().find("t-123") == std::string::npos);

  server.send(R"({"type":"hello"})");
  server.send("second");
  auto m1 = (*c)->read(2000ms);
  REQUIRE(m1);
  CHECK(*m1 == std::optional<std::string>(R"({"type":"hello"})"));
  auto m2 = (*c)->read(2000ms);
  REQUIRE(m2);
  CHECK(*m2 == std::optional<std::string>("second"));
}

TEST_CASE("a read with nothing to deliver returns nothing - the read stays pending for the next call") {
  WsServer server;
  Fixture f;
  auto c = f.connect(ws_url(server));
  REQUIRE(c);
  const auto start = std::chrono::steady_clock::now();
  auto none = (*c)->read(150ms);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
  CHECK(elapsed >= 140ms);
  CHECK(elapsed < 1000ms);
  server.send("late");
  std::this_thread::sleep_for(100ms);  // arrives while nobody is reading
  auto late = (*c)->read(2000ms);
  REQUIRE(late);
  CHECK(*late == std::optional<std::string>("late"));
}

TEST_CASE("messages from the client reach the server - the server can answer each") {
  WsServer* self = nullptr;
  WsServer::Options o;
  o.on_message = [&](std::size_t id, const std::string& text) { self->send_to(id, "ack:" + text); };
  WsServer server(o);
  self = &server;
  Fixture f;
  auto c = f.connect(ws_url(server));
  REQUIRE(c);
  REQUIRE((*c)->write(R"({"envelope_id":"e1"})"));
  REQUIRE((*c)->write("two"));
  CHECK(server.wait_for_message([](const std::string& m) { return m == "two"; }, 2s));
  CHECK(server.received() == std::vector<std::string>{R"({"envelope_id":"e1"})", "two"});
  auto a1 = (*c)->read(2000ms);
  REQUIRE(a1);
  CHECK(*a1 == std::optional<std::string>(R"(ack:{"envelope_id":"e1"})"));
  auto a2 = (*c)->read(2000ms);
  REQUIRE(a2);
  CHECK(*a2 == std::optional<std::string>("ack:two"));
}

TEST_CASE("a hello sent on connect is the first message read") {
  WsServer* self = nullptr;
  WsServer::Options o;
  o.on_connect = [&](std::size_t id, const std::string&) { self->send_to(id, "hello"); };
  WsServer server(o);
  self = &server;
  Fixture f;
  auto c = f.connect(ws_url(server));
  REQUIRE(c);
  auto m = (*c)->read(2000ms);
  REQUIRE(m);
  CHECK(*m == std::optional<std::string>("hello"));
}

TEST_CASE("the server closing the connection ends it with an error naming the close code") {
  WsServer server;
  Fixture f;
  auto c = f.connect(ws_url(server));
  REQUIRE(c);
  REQUIRE(server.wait_for_connections(1, 2s));
  server.send("last words");
  server.disconnect(1001, "refresh requested");
  auto m = (*c)->read(2000ms);
  REQUIRE(m);
  CHECK(*m == std::optional<std::string>("last words"));
  auto closed = (*c)->read(2000ms);
  REQUIRE_FALSE(closed);
  CHECK(closed.error().kind == ClientErrorKind::protocol);
  CHECK(closed.error().message.find("1001") != std::string::npos);
  CHECK(closed.error().message.find("refresh requested") != std::string::npos);
  // Finished: every later call says so.
  CHECK_FALSE((*c)->read(100ms));
  auto w = (*c)->write("anyone?");
  REQUIRE_FALSE(w);
  CHECK(w.error().kind == ClientErrorKind::protocol);
  CHECK(server.wait_for_no_open_connection(2s));
}

TEST_CASE("the server vanishing without a close frame ends the connection with an error") {
  WsServer server;
  Fixture f;
  auto c = f.connect(ws_url(server));
  REQUIRE(c);
  REQUIRE(server.wait_for_connections(1, 2s));
  server.drop();
  auto r = read_within(**c, 3000ms);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ClientErrorKind::protocol);
}

TEST_CASE("a server gone silent (no pong, nothing) ends the connection after idle_timeout") {
  WsServer::Options o;
  o.read = false;  // never reads, so never answers the client's pings
  WsServer server(o);
  Fixture f;
  WebSocketOptions options;
  options.idle_timeout = 400ms;
  auto c = f.connect(ws_url(server), options);
  REQUIRE(c);
  const auto start = std::chrono::steady_clock::now();
  auto r = (*c)->read(5000ms);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ClientErrorKind::timeout);
  CHECK(r.error().retryable());
  CHECK(elapsed >= 300ms);
  CHECK(elapsed < 2000ms);
}

TEST_CASE("keep-alive pings hold a quiet connection open past idle_timeout") {
  WsServer server;  // reads, so it answers pings with pongs
  Fixture f;
  WebSocketOptions options;
  options.idle_timeout = 300ms;
  auto c = f.connect(ws_url(server), options);
  REQUIRE(c);
  const auto end = std::chrono::steady_clock::now() + 1200ms;
  while (std::chrono::steady_clock::now() < end) {
    auto r = (*c)->read(100ms);
    REQUIRE(r);
    CHECK_FALSE(r->has_value());
  }
  server.send("still here");
  auto m = (*c)->read(2000ms);
  REQUIRE(m);
  CHECK(*m == std::optional<std::string>("still here"));
}

TEST_CASE("a message over max_message_bytes is an error") {
  WsServer server;
  Fixture f;
  WebSocketOptions options;
  options.max_message_bytes = 1024;
  auto c = f.connect(ws_url(server), options);
  REQUIRE(c);
  REQUIRE(server.wait_for_connections(1, 2s));
  server.send(std::string(4096, 'x'));
  auto r = (*c)->read(2000ms);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ClientErrorKind::body_too_large);
}

TEST_CASE("close sends a close frame - the server sees the connection end") {
  WsServer server;
  Fixture f;
  auto c = f.connect(ws_url(server));
  REQUIRE(c);
  REQUIRE(server.wait_for_connections(1, 2s));
  CHECK(server.open_connections() == 1);
  (*c)->close();
  CHECK(server.wait_for_no_open_connection(2s));
  (*c)->close();  // idempotent
  CHECK_FALSE((*c)->write("after close"));
}

TEST_CASE("close while a read is pending completes promptly") {
  WsServer server;
  Fixture f;
  auto c = f.connect(ws_url(server));
  REQUIRE(c);
  auto none = (*c)->read(50ms);  // leaves a read pending
  REQUIRE(none);
  const auto start = std::chrono::steady_clock::now();
  (*c)->close();
  CHECK(std::chrono::steady_clock::now() - start < 1000ms);
  CHECK(server.wait_for_no_open_connection(2s));
}

TEST_CASE("connection failures are errors of the right kind") {
  Fixture f;
  SECTION("http scheme") {
    auto c = f.connect("http://127.0.0.1:1/");
    REQUIRE_FALSE(c);
    CHECK(c.error().kind == ClientErrorKind::invalid_url);
  }
  SECTION("nothing listening") {
    std::uint16_t port = 0;
    { port = WsServer().port(); }
    auto c = f.connect("ws://127.0.0.1:" + std::to_string(port) + "/");
    REQUIRE_FALSE(c);
    CHECK(c.error().kind == ClientErrorKind::connect);
  }
  SECTION("an HTTP server that does not upgrade") {
    std::ostringstream out;
    Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), out};
    auto http = HttpServer::start({}, [](HttpRequest, Respond respond) {
      respond(HttpResponse::json_error(404, "not found"));
    }, logging.logger("http"));
    REQUIRE(http);
    auto c = f.connect("ws://127.0.0.1:" + std::to_string((*http)->port()) + "/");
    REQUIRE_FALSE(c);
    CHECK(c.error().kind == ClientErrorKind::protocol);
    CHECK(c.error().message.find("HTTP 404") != std::string::npos);
  }
}

TEST_CASE("wss: verified against the fixture certificate, refused without it") {
  WsServer::Options o;
  o.tls = true;
  o.cert_file = kFixtures + "cert.pem";
  o.key_file = kFixtures + "key.pem";
  WsServer server(o);
  Fixture f;
  const std::string url = "wss://localhost:" + std::to_string(server.port()) + "/socket";
  SECTION("system store: refused") {
    auto c = f.connect(url);
    REQUIRE_FALSE(c);
    CHECK(c.error().kind == ClientErrorKind::tls);
    CHECK(server.connections() == 0);
  }
  SECTION("ca_file = the certificate: messages both ways") {
    WebSocketOptions options;
    options.ca_file = kFixtures + "cert.pem";
    auto c = f.connect(url, options);
    REQUIRE(c);
    REQUIRE((*c)->write("over tls"));
    CHECK(server.wait_for_message([](const std::string& m) { return m == "over tls"; }, 2s));
    server.send("back over tls");
    auto m = (*c)->read(2000ms);
    REQUIRE(m);
    CHECK(*m == std::optional<std::string>("back over tls"));
    (*c)->close();
    CHECK(server.wait_for_no_open_connection(2s));
  }
}
