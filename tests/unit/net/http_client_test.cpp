// The HTTP(S) client against loopback servers on 127.0.0.1, port 0: the real HttpServer for
// plain requests, TlsServer (tests/fakes) where the test must control the server: connection
// counts, silence, closed keep-alive connections, certificates (tests/fixtures/tls).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>
#include <vector>

#include "tls_server.h"
#include "vigie/net/http_client.h"
#include "vigie/net/http_server.h"

using namespace vigie;
using namespace vigie::net;
using vigie::testing::TlsServer;

namespace {

const std::string kFixtures = VIGIE_FIXTURES "/tls/";

struct Fixture {
  std::ostringstream log_out;
  Logging logging{LogLevel::debug, std::make_shared<SecretRegistry>(), log_out};

  std::unique_ptr<HttpClient> client(HttpClientOptions options = {}) {
    return make_http_client(std::move(options), logging.logger("http-client"));
  }
};

struct Server {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  std::unique_ptr<HttpServer> server;
  explicit Server(HttpHandler handler, HttpServer::Options options = {}) {
    auto s = HttpServer::start(options, std::move(handler), logging.logger("http"));
    REQUIRE(s);
    server = std::move(*s);
  }
  Url url(const std::string& path = "/") const {
    return *parse_url("http://127.0.0.1:" + std::to_string(server->port()) + path);
  }
};

// Answers with what it received, so the test sees the request as the server did.
void echo(HttpRequest req, Respond respond) {
  HttpResponse r = HttpResponse::text(
      200, req.method + " " + req.target + " host=" + req.header("host").value_or("-") +
               " agent=" + req.header("user-agent").value_or("-") +
               " length=" + req.header("content-length").value_or("-") +
               " auth=" + req.header("authorization").value_or("-") + " body=" + req.body);
  r.headers.emplace_back("X-Reply", "yes");
  respond(std::move(r));
}

ClientRequest get(Url url) {
  ClientRequest r;
  r.url = std::move(url);
  return r;
}

Url local_url(const std::string& scheme, const std::string& host, std::uint16_t port,
              const std::string& path = "/") {
  return *parse_url(scheme + "://" + host + ":" + std::to_string(port) + path);
}

TlsServer::Options tls_options() {
  TlsServer::Options o;
  o.cert_file = kFixtures + "cert.pem";
  o.key_file = kFixtures + "key.pem";
  o.body = "secure hello";
  return o;
}

TlsServer::Options plain_options() {
  TlsServer::Options o;
  o.tls = false;
  o.body = "plain hello";
  return o;
}

}  // namespace

TEST_CASE("GET reaches the server with Host and User-Agent - the response comes back whole") {
  Server s(echo);
  Fixture f;
  auto client = f.client();
  auto r = client->send(get(s.url("/api/v2/alerts?active=true")));
  REQUIRE(r);
  CHECK(r->status == 200);
  const std::string host = "127.0.0.1:" + std::to_string(s.server->port());
  CHECK(r->body == "GET /api/v2/alerts?active=true host=" + host + " agent=vigie length=- auth=- body=");
  CHECK(r->header("x-reply") == "yes");
  CHECK(r->header("CONTENT-TYPE") == "text/plain; charset=utf-8");
  CHECK_FALSE(r->header("x-missing"));
}

TEST_CASE("POST sends the body with its Content-Length and the caller's headers") {
  Server s(echo);
  Fixture f;
  HttpClientOptions o;
  o.user_agent = "vigie/0.1";
  auto client = f.client(o);
  ClientRequest req = get(s.url("/hooks"));
  req.method = "POST";
  req.headers.emplace("Authorization", "Bearer xoxb-very-secret");
  req.headers.emplace("Content-Type", "application/json");
  req.headers.emplace("Content-Length", "999");  // wrong on purpose: the client computes it
  req.body = R"({"text":"disk full"})";
  auto r = client->send(req);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.find("POST /hooks ") == 0);
  CHECK(r->body.find(" agent=vigie/0.1 length=20 auth=Bearer xoxb-very-secret body={\"text\":\"disk full\"}") !=
        std::string::npos);
}

TEST_CASE("a caller's Host and User-Agent win over the defaults") {
  Server s(echo);
  Fixture f;
  auto client = f.client();
  ClientRequest req = get(s.url());
  req.headers.emplace("host", "api.example.com");
  req.headers.emplace("User-Agent", "custom");
  auto r = client->send(req);
  REQUIRE(r);
  CHECK(r->body.find("host=api.example.com agent=custom ") != std::string::npos);
}

TEST_CASE("statuses other than 2xx are responses, not errors") {
  Server s([](HttpRequest, Respond respond) { respond(HttpResponse::json_error(429, "slow down")); });
  Fixture f;
  auto r = f.client()->send(get(s.url()));
  REQUIRE(r);
  CHECK(r->status == 429);
  CHECK(r->body == R"({"error":"slow down","detail":""})");
}

TEST_CASE("kept-alive connections are reused, up to max_idle_per_host") {
  Fixture f;
  SECTION("one connection serves sequential requests") {
    TlsServer server(plain_options());
    auto client = f.client();
    for (int i = 0; i < 3; ++i) {
      auto r = client->send(get(local_url("http", "127.0.0.1", server.port(), "/n/" + std::to_string(i))));
      REQUIRE(r);
      CHECK(r->status == 200);
      CHECK(r->body == "plain hello");
    }
    CHECK(server.requests() == 3);
    CHECK(server.connections() == 1);
    CHECK(server.last_request() == "GET /n/2");
  }
  SECTION("with no idle pool, every request connects anew") {
    TlsServer server(plain_options());
    HttpClientOptions o;
    o.max_idle_per_host = 0;
    auto client = f.client(o);
    for (int i = 0; i < 3; ++i) REQUIRE(client->send(get(local_url("http", "127.0.0.1", server.port()))));
    CHECK(server.connections() == 3);
  }
  SECTION("pools are per host: two servers, two connections, each reused") {
    TlsServer a(plain_options());
    TlsServer b(plain_options());
    auto client = f.client();
    for (int i = 0; i < 2; ++i) {
      REQUIRE(client->send(get(local_url("http", "127.0.0.1", a.port()))));
      REQUIRE(client->send(get(local_url("http", "127.0.0.1", b.port()))));
    }
    CHECK(a.connections() == 1);
    CHECK(b.connections() == 1);
  }
}

TEST_CASE("a pooled connection the server closed is not used - a new one is") {
  auto o = plain_options();
  o.close_after_response = true;  // says keep-alive, closes anyway
  TlsServer server(o);
  Fixture f;
  auto client = f.client();
  REQUIRE(client->send(get(local_url("http", "127.0.0.1", server.port()))));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the FIN arrives
  auto r = client->send(get(local_url("http", "127.0.0.1", server.port())));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(server.connections() == 2);
  CHECK(server.requests() == 2);
}

TEST_CASE("a reused connection closed as the request arrived: GET is retried once, POST is not") {
  auto o = plain_options();
  o.drop_request = 2;  // the second request on a connection is read and left unanswered
  TlsServer server(o);
  Fixture f;
  auto client = f.client();
  const auto url = local_url("http", "127.0.0.1", server.port());
  SECTION("GET") {
    REQUIRE(client->send(get(url)));
    auto r = client->send(get(url));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(server.connections() == 2);
    CHECK(server.requests() == 3);  // the first, the dropped one, the retry
  }
  SECTION("POST") {
    ClientRequest post = get(url);
    post.method = "POST";
    post.body = "{}";
    REQUIRE(client->send(post));
    auto r = client->send(post);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ClientErrorKind::protocol);
    CHECK(r.error().retryable());
    CHECK(server.requests() == 2);  // not sent again: it may have been acted upon
    // The next request opens a new connection and works.
    auto again = client->send(post);
    REQUIRE(again);
    CHECK(again->status == 200);
  }
}

TEST_CASE("a response body over max_body_bytes is an error, not a truncated body") {
  Server s([](HttpRequest, Respond respond) { respond(HttpResponse::text(200, std::string(4096, 'x'))); });
  Fixture f;
  HttpClientOptions o;
  o.max_body_bytes = 1024;
  auto r = f.client(o)->send(get(s.url()));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ClientErrorKind::body_too_large);
  CHECK_FALSE(r.error().retryable());
  // At the limit exactly, it passes.
  o.max_body_bytes = 4096;
  auto ok = f.client(o)->send(get(s.url()));
  REQUIRE(ok);
  CHECK(ok->body.size() == 4096);
}

TEST_CASE("the body limit holds for chunked and read-to-close bodies too") {
  using Framing = TlsServer::Options::Framing;
  for (Framing framing : {Framing::content_length, Framing::chunked, Framing::until_close}) {
    INFO("framing " << static_cast<int>(framing));
    auto o = plain_options();
    o.framing = framing;
    o.body = std::string(4096, 'b');
    TlsServer server(o);
    Fixture f;
    HttpClientOptions options;
    options.max_body_bytes = 4096;
    auto ok = f.client(options)->send(get(local_url("http", "127.0.0.1", server.port())));
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(ok->body == o.body);
    options.max_body_bytes = 4095;
    auto r = f.client(options)->send(get(local_url("http", "127.0.0.1", server.port())));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ClientErrorKind::body_too_large);
  }
}

TEST_CASE("a server that accepts and never answers gives a timeout after request_timeout") {
  auto o = plain_options();
  o.respond = false;
  TlsServer server(o);
  Fixture f;
  HttpClientOptions options;
  options.request_timeout = std::chrono::milliseconds(300);
  auto client = f.client(options);
  const auto start = std::chrono::steady_clock::now();
  auto r = client->send(get(local_url("http", "127.0.0.1", server.port())));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ClientErrorKind::timeout);
  CHECK(r.error().retryable());
  CHECK(server.requests() == 1);
  CHECK(elapsed >= std::chrono::milliseconds(250));
  CHECK(elapsed < std::chrono::milliseconds(2000));
}

TEST_CASE("a request's own shorter timeout bounds it instead of request_timeout") {
  auto o = plain_options();
  o.respond = false;
  TlsServer server(o);
  Fixture f;
  HttpClientOptions options;
  options.request_timeout = std::chrono::seconds(20);
  auto client = f.client(options);
  auto request = get(local_url("http", "127.0.0.1", server.port()));
  request.timeout = std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  auto r = client->send(request);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ClientErrorKind::timeout);
  CHECK(r.error().message.find("300ms") != std::string::npos);
  CHECK(elapsed < std::chrono::milliseconds(5000));
}

TEST_CASE("a GET that times out on a kept-alive connection is not sent again") {
  auto o = plain_options();
  o.stall_request = 2;  // the first request on a connection is answered, the second hangs
  TlsServer server(o);
  Fixture f;
  HttpClientOptions options;
  options.request_timeout = std::chrono::milliseconds(300);
  auto client = f.client(options);
  REQUIRE(client->send(get(local_url("http", "127.0.0.1", server.port()))));
  auto r = client->send(get(local_url("http", "127.0.0.1", server.port())));  // on the pooled connection
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ClientErrorKind::timeout);
  CHECK(server.requests() == 2);  // not a third on a new connection: the caller waited one budget
  CHECK(server.connections() == 1);
}

TEST_CASE("a closed port gives a connect error") {
  std::uint16_t port = 0;
  {
    Server s(echo);
    port = s.server->port();
  }
  Fixture f;
  auto r = f.client()->send(get(local_url("http", "127.0.0.1", port)));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ClientErrorKind::connect);
  CHECK(r.error().retryable());
  CHECK(r.error().message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
}

TEST_CASE("requests that cannot be sent as given are refused before connecting") {
  Fixture f;
  auto client = f.client();
  SECTION("a ws URL") {
    auto r = client->send(get(*parse_url("ws://127.0.0.1:1/")));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ClientErrorKind::invalid_url);
  }
  SECTION("an empty URL") {
    auto r = client->send(ClientRequest{});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ClientErrorKind::invalid_url);
  }
  SECTION("a header value with a line break, whose value is not shown") {
    ClientRequest req = get(*parse_url("http://127.0.0.1:1/"));
    req.headers.emplace("X-Token", "abc\r\nX-Injected: 1");
    auto r = client->send(req);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ClientErrorKind::invalid_url);
    CHECK(r.error().message.find("X-Token") != std::string::npos);
    CHECK(r.error().message.find("Injected") == std::string::npos);
  }
  SECTION("a method with a space") {
    ClientRequest req = get(*parse_url("http://127.0.0.1:1/"));
    req.method = "GET /x";
    auto r = client->send(req);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ClientErrorKind::invalid_url);
  }
  CHECK_FALSE(client_error_name(ClientErrorKind::invalid_url).empty());
}

TEST_CASE("HEAD responses carry no body and leave the connection reusable") {
  TlsServer server(plain_options());
  Fixture f;
  auto client = f.client();
  ClientRequest head = get(local_url("http", "127.0.0.1", server.port()));
  head.method = "HEAD";
  auto r = client->send(head);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.empty());
  CHECK(r->header("content-length") == std::to_string(std::string("plain hello").size()));
  auto next = client->send(get(local_url("http", "127.0.0.1", server.port())));
  REQUIRE(next);
  CHECK(next->body == "plain hello");
  CHECK(server.connections() == 1);
}

TEST_CASE("several threads send at once - every answer belongs to its request") {
  Server s(echo, [] {
    HttpServer::Options o;
    o.threads = 2;
    return o;
  }());
  Fixture f;
  HttpClientOptions o;
  o.max_idle_per_host = 2;
  auto client = f.client(o);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        ClientRequest req = get(s.url());
        req.method = "POST";
        req.body = std::to_string(t) + "-" + std::to_string(i);
        auto r = client->send(req);
        if (r && r->status == 200 && r->body.ends_with(" body=" + req.body)) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 90);
}

TEST_CASE("header values never reach the log") {
  Fixture f;
  auto client = f.client();
  ClientRequest req = get(*parse_url("http://127.0.0.1:1/api?token=in-query-secret"));
  req.headers.emplace("Authorization", "Bearer header-secret");
  auto r = client->send(req);  // port 1: refused, logged at debug
  REQUIRE_FALSE(r);
  const auto log = f.log_out.str();
  CHECK(log.find("request failed") != std::string::npos);
  CHECK(log.find("header-secret") == std::string::npos);
  CHECK(log.find("in-query-secret") == std::string::npos);
}

TEST_CASE("retryable: transport trouble yes - TLS, invalid URL and oversized bodies no") {
  using K = ClientErrorKind;
  for (K k : {K::resolve, K::connect, K::timeout, K::protocol}) {
    INFO(client_error_name(k));
    CHECK(ClientError{k, ""}.retryable());
  }
  for (K k : {K::invalid_url, K::tls, K::body_too_large}) {
    INFO(client_error_name(k));
    CHECK_FALSE(ClientError{k, ""}.retryable());
  }
  CHECK(client_error_name(K::body_too_large) == "body_too_large");
  CHECK(client_error_name(K::tls) == "tls");
}

TEST_CASE("HTTPS: the certificate must chain to a trusted CA") {
  TlsServer server(tls_options());
  Fixture f;
  const auto url = local_url("https", "localhost", server.port(), "/secure");
  SECTION("the system store does not know the test certificate") {
    auto r = f.client()->send(get(url));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ClientErrorKind::tls);
    CHECK_FALSE(r.error().retryable());
    CHECK(server.requests() == 0);
  }
  SECTION("an unrelated CA is no better") {
    HttpClientOptions o;
    o.ca_file = kFixtures + "other-ca.pem";
    auto r = f.client(o)->send(get(url));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ClientErrorKind::tls);
    CHECK(r.error().message.find("not trusted") != std::string::npos);
    CHECK(server.requests() == 0);
  }
  SECTION("trusting the certificate itself works, with SNI, and the connection is reused") {
    HttpClientOptions o;
    o.ca_file = kFixtures + "cert.pem";
    auto client = f.client(o);
    for (int i = 0; i < 2; ++i) {
      auto r = client->send(get(url));
      REQUIRE(r);
      CHECK(r->status == 200);
      CHECK(r->body == "secure hello");
    }
    CHECK(server.last_sni() == "localhost");
    CHECK(server.last_host() == "localhost:" + std::to_string(server.port()));
    CHECK(server.handshakes() == 1);
    CHECK(server.requests() == 2);
  }
  SECTION("an IP address is checked against the IP SAN, and sends no SNI") {
    HttpClientOptions o;
    o.ca_file = kFixtures + "cert.pem";
    auto r = f.client(o)->send(get(local_url("https", "127.0.0.1", server.port())));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(server.last_sni().empty());
  }
  SECTION("a CA file that cannot be read fails every HTTPS request with kind tls") {
    HttpClientOptions o;
    o.ca_file = kFixtures + "missing.pem";
    auto r = f.client(o)->send(get(url));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ClientErrorKind::tls);
    CHECK(r.error().message.find("missing.pem") != std::string::npos);
    CHECK(server.connections() == 0);
  }
}

TEST_CASE("HTTPS: a trusted certificate for another name is refused") {
  TlsServer server(tls_options());
  Fixture f;
  HttpClientOptions o;
  o.ca_file = kFixtures + "cert.pem";
  o.resolve["upstream.example"] = "127.0.0.1";  // the certificate names localhost only
  const auto url = local_url("https", "upstream.example", server.port());
  auto r = f.client(o)->send(get(url));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ClientErrorKind::tls);
  CHECK(r.error().message.find("upstream.example") != std::string::npos);
  CHECK(server.requests() == 0);

  SECTION("verify_peer = false accepts it (and says so in the log)") {
    o.verify_peer = false;
    o.ca_file.clear();
    auto ok = f.client(o)->send(get(url));
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(ok->body == "secure hello");
    CHECK(server.last_sni() == "upstream.example");
    CHECK(f.log_out.str().find("verification is off") != std::string::npos);
  }
}

TEST_CASE("an http URL to a TLS server is a protocol error, not a hang") {
  TlsServer server(tls_options());
  Fixture f;
  HttpClientOptions o;
  o.request_timeout = std::chrono::milliseconds(2000);
  auto r = f.client(o)->send(get(local_url("http", "127.0.0.1", server.port())));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ClientErrorKind::protocol);
}
