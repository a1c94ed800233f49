// The HTTP server on 127.0.0.1, port 0: routing to the handler, asynchronous answers, limits,
// malformed requests, keep-alive, and a handler that throws or never answers.
#include <catch2/catch.hpp>

#include <sstream>
#include <thread>

#include "http_client.h"
#include "vigie/net/http_server.h"

using namespace vigie;
using namespace vigie::net;
using vigie::testing::HttpClient;

namespace {
struct Server {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  std::unique_ptr<HttpServer> server;
  explicit Server(HttpHandler handler, HttpServer::Options options = {}) {
    auto s = HttpServer::start(options, std::move(handler), logging.logger("http"));
    REQUIRE(s);
    server = std::move(*s);
  }
};

void echo(HttpRequest req, Respond respond) {
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/plain";
  r.body = req.method + " " + req.path + " ?" + req.query + " " +
           req.header("x-test").value_or("-") + " " + req.body;
  respond(std::move(r));
}
}  // namespace

TEST_CASE("requests reach the handler with method, path, query, headers and body") {
  Server s(echo);
  CHECK(s.server->port() != 0);
  HttpClient c(s.server->port());
  auto r = c.request("POST", "/webhooks/deploys?x=1", "{\"a\":1}", {{"X-Test", "yes"}});
  CHECK(r.status == 200);
  CHECK(r.body == "POST /webhooks/deploys ?x=1 yes {\"a\":1}");
  // Keep-alive: the same connection serves the next request.
  auto r2 = c.request("GET", "/healthz");
  CHECK(r2.status == 200);
  CHECK(c.connected());
}

TEST_CASE("a handler may answer later, from another thread") {
  std::vector<std::thread> workers;
  Server s([&](HttpRequest, Respond respond) {
    workers.emplace_back([respond] { respond(HttpResponse::json(202, "{\"stored\":1}")); });
  });
  HttpClient c(s.server->port());
  auto r = c.request("POST", "/api/v2/alerts", "[]");
  CHECK(r.status == 202);
  CHECK(r.body == "{\"stored\":1}");
  for (auto& w : workers) w.join();
}

TEST_CASE("a body over the limit gets 413 with a JSON error, and the handler never runs") {
  HttpServer::Options o;
  o.max_body_bytes = 1024;
  bool called = false;
  Server s([&](HttpRequest, Respond respond) {
    called = true;
    respond(HttpResponse::json(200, "{}"));
  }, o);
  HttpClient c(s.server->port());
  auto r = c.request("POST", "/x", std::string(4096, 'a'));
  CHECK(r.status == 413);
  CHECK(r.body.find("\"error\":\"body too large\"") != std::string::npos);
  CHECK_FALSE(called);
}

TEST_CASE("malformed requests get 400, oversized headers 431") {
  Server s(echo);
  {
    HttpClient c(s.server->port());
    auto r = c.raw("GARBAGE\r\n\r\n");
    CHECK(r.status == 400);
    CHECK(r.body.find("malformed HTTP request") != std::string::npos);
  }
  {
    HttpClient c(s.server->port());
    auto r = c.request("GET", "/", "", {{"X-Big", std::string(64 << 10, 'h')}});
    CHECK(r.status == 431);
  }
}

TEST_CASE("a handler that throws gets a 500 - the server keeps serving") {
  int calls = 0;
  Server s([&](HttpRequest req, Respond respond) {
    ++calls;
    if (req.path == "/boom") throw std::runtime_error("kaput");
    respond(HttpResponse::json(200, "{}"));
  });
  HttpClient c(s.server->port());
  CHECK(c.request("GET", "/boom").status == 500);
  HttpClient c2(s.server->port());
  CHECK(c2.request("GET", "/ok").status == 200);
  CHECK(calls == 2);
  CHECK(s.log_out.str().find("handler threw") != std::string::npos);
}

TEST_CASE("a handler that never answers gets 503 after the handler timeout") {
  HttpServer::Options o;
  o.handler_timeout = std::chrono::milliseconds(200);
  Respond kept;
  Server s([&](HttpRequest, Respond respond) { kept = respond; }, o);
  HttpClient c(s.server->port());
  auto r = c.request("GET", "/slow");
  CHECK(r.status == 503);
  kept(HttpResponse::json(200, "{}"));  // a late answer is ignored, not a crash
}

TEST_CASE("stop closes the listener") {
  Server s(echo);
  const auto port = s.server->port();
  s.server->stop(std::chrono::milliseconds(100));
  HttpClient c(port, 1000);
  CHECK(c.request("GET", "/").status == 0);
}
