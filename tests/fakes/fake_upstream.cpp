// The shared recording server under the provider fakes: net::HttpServer plus a request log.
#include "fake_upstream.h"

#include <deque>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "vigie/core/log.h"
#include "vigie/net/http_server.h"

namespace vigie::testing {

std::optional<std::string> RecordedRequest::header(const std::string& name) const {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> RecordedRequest::query_param(const std::string& name) const {
  net::HttpRequest r;
  r.query = query;
  return r.query_param(name);
}

std::vector<std::string> path_segments(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string::npos ? path.size() : slash;
    if (end > start) out.push_back(net::url_decode(path.substr(start, end - start)));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

struct FakeUpstream::Impl {
  Handler handler;
  std::string unix_socket;
  std::ostringstream log_sink;
  Logging logging{LogLevel::error, std::make_shared<SecretRegistry>(), log_sink};
  std::unique_ptr<net::HttpServer> server;

  mutable std::mutex mutex;
  std::vector<RecordedRequest> requests;
  std::deque<net::HttpResponse> failures;

  net::HttpResponse handle(net::HttpRequest req) {
    RecordedRequest r;
    r.method = std::move(req.method);
    r.path = std::move(req.path);
    r.query = std::move(req.query);
    r.headers = std::move(req.headers);
    r.body = std::move(req.body);
    std::lock_guard lock(mutex);
    net::HttpResponse resp;
    if (!failures.empty()) {
      resp = std::move(failures.front());
      failures.pop_front();
    } else {
      try {
        resp = handler(r);
      } catch (const std::exception& e) {
        resp = net::HttpResponse::json(
            500, std::string(R"({"message":"fake failed: )") + e.what() + "\"}");
      }
    }
    r.status = resp.status;
    requests.push_back(std::move(r));
    return resp;
  }
};

FakeUpstream::FakeUpstream(std::string name, Handler handler, std::string unix_socket)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->unix_socket = unix_socket;
  net::HttpServer::Options options;
  options.unix_socket = std::move(unix_socket);
  options.read_timeout = options.write_timeout = options.handler_timeout = std::chrono::seconds(10);
  auto server = net::HttpServer::start(
      options,
      [impl = impl_.get()](net::HttpRequest req, net::Respond respond) {
        respond(impl->handle(std::move(req)));
      },
      impl_->logging.logger(name));
  if (!server) throw std::runtime_error(name + ": " + server.error());
  impl_->server = std::move(*server);
}

FakeUpstream::~FakeUpstream() { impl_->server->stop(std::chrono::milliseconds(100)); }

std::string FakeUpstream::base_url() const {
  if (!impl_->unix_socket.empty()) return "http://localhost";
  return "http://127.0.0.1:" + std::to_string(impl_->server->port());
}

std::vector<RecordedRequest> FakeUpstream::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::size_t FakeUpstream::count(const std::string& method, const std::string& path_prefix) const {
  std::lock_guard lock(impl_->mutex);
  std::size_t n = 0;
  for (const auto& r : impl_->requests)
    n += r.method == method && r.path.rfind(path_prefix, 0) == 0;
  return n;
}

void FakeUpstream::fail_next(int status, std::string body,
                             std::vector<std::pair<std::string, std::string>> headers) {
  net::HttpResponse resp = net::HttpResponse::json(status, std::move(body));
  resp.headers = std::move(headers);
  std::lock_guard lock(impl_->mutex);
  impl_->failures.push_back(std::move(resp));
}

void FakeUpstream::locked(const std::function<void()>& fn) const {
  std::lock_guard lock(impl_->mutex);
  fn();
}

}  // namespace vigie::testing
