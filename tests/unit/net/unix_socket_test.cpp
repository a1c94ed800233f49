// HTTP over a unix domain socket, both ends (the Docker Engine API's transport): the server
// listening on a socket path in a temporary directory, the client with `unix_socket` set.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <sstream>

#include "vigie/net/http_client.h"
#include "vigie/net/http_server.h"

using namespace vigie;
using namespace vigie::net;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vigie-unix-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

struct Fixture {
  std::ostringstream log_out;
  Logging logging{LogLevel::warn, std::make_shared<SecretRegistry>(), log_out};
  TempDir dir;
  std::string socket = (dir.path / "engine.sock").string();
  std::atomic<int> requests{0};
  std::unique_ptr<HttpServer> server;

  void serve() {
    HttpServer::Options options;
    options.unix_socket = socket;
    auto s = HttpServer::start(
        options,
        [this](HttpRequest req, Respond respond) {
          ++requests;
          if (req.path == "/containers/web/restart") {
            respond(HttpResponse::text(204, ""));
            return;
          }
          respond(HttpResponse::json(404, R"({"message":"No such container: )" + req.path + "\"}"));
        },
        logging.logger("http"));
    REQUIRE(s);
    server = std::move(*s);
  }

  std::unique_ptr<HttpClient> client() {
    HttpClientOptions options;
    options.unix_socket = socket;
    options.connect_timeout = Duration(2'000);
    options.request_timeout = Duration(5'000);
    return make_http_client(options, logging.logger("client"));
  }
};

ClientRequest post(const std::string& url) {
  ClientRequest r;
  r.method = "POST";
  r.url = *parse_url(url);
  return r;
}

}  // namespace

TEST_CASE("a client with unix_socket talks HTTP over the socket, the URL giving target and Host") {
  Fixture f;
  HttpRequest seen;
  HttpServer::Options options;
  options.unix_socket = f.socket;
  auto s = HttpServer::start(
      options,
      [&](HttpRequest req, Respond respond) {
        seen = req;
        ++f.requests;
        respond(HttpResponse::text(204, ""));
      },
      f.logging.logger("http"));
  REQUIRE(s);
  CHECK((*s)->port() == 0);
  CHECK(std::filesystem::exists(f.socket));
  auto client = f.client();
  auto r = client->send(post("http://localhost/v1.43/containers/web/restart?t=7"));
  REQUIRE(r);
  CHECK(r->status == 204);
  CHECK(seen.method == "POST");
  CHECK(seen.path == "/v1.43/containers/web/restart");
  CHECK(seen.query_param("t") == "7");
  CHECK(seen.header("host") == "localhost");
  CHECK(seen.remote == "unix");
  // The kept-alive connection serves the next request too.
  auto again = client->send(post("http://localhost/containers/web/restart?t=1"));
  REQUIRE(again);
  CHECK(again->status == 204);
  CHECK((*s)->open_connections() == 1);
  (*s)->stop(std::chrono::milliseconds(200));
  // The server removes its socket file when it stops.
  CHECK_FALSE(std::filesystem::exists(f.socket));
}

TEST_CASE("a response body over the unix socket arrives whole") {
  Fixture f;
  f.serve();
  auto r = f.client()->send(post("http://docker/containers/db/restart"));
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(r->body == R"({"message":"No such container: /containers/db/restart"})");
}

TEST_CASE("no server on the socket path is a retryable connect error naming the path") {
  Fixture f;
  auto r = f.client()->send(post("http://localhost/containers/web/restart"));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ClientErrorKind::connect);
  CHECK(r.error().retryable());
  CHECK(r.error().message.find(f.socket) != std::string::npos);
}

TEST_CASE("https over a unix socket is refused before connecting") {
  Fixture f;
  f.serve();
  auto r = f.client()->send(post("https://localhost/containers/web/restart"));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ClientErrorKind::invalid_url);
  CHECK(f.requests == 0);
}
