// The fake Docker Engine API over a unix socket.
#include "fake_docker.h"

#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace vigie::testing {

FakeDocker::FakeDocker() {
  std::string pattern = (std::filesystem::temp_directory_path() / "vigie-docker-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("fake Docker: mkdtemp failed");
  dir_ = pattern;
  socket_ = dir_ + "/docker.sock";
  upstream_ = std::make_unique<FakeUpstream>(
      "fake-docker", [this](const RecordedRequest& r) { return answer(r); }, socket_);
}

FakeDocker::~FakeDocker() {
  upstream_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void FakeDocker::add_container(const std::string& name_or_id) {
  upstream_->locked([&] { containers_.insert(name_or_id); });
}

std::vector<std::string> FakeDocker::restarts() const {
  std::vector<std::string> out;
  upstream_->locked([&] { out = restarts_; });
  return out;
}

net::HttpResponse FakeDocker::answer(const RecordedRequest& r) {
  auto seg = path_segments(r.path);
  // An optional version prefix: /v1.43/containers/...
  if (!seg.empty() && seg[0].size() > 1 && seg[0][0] == 'v' &&
      std::isdigit(static_cast<unsigned char>(seg[0][1]))) {
    seg.erase(seg.begin());
  }
  auto message = [](int status, const std::string& text) {
    return net::HttpResponse::json(status, nlohmann::json{{"message", text}}.dump());
  };
  if (r.method == "POST" && seg.size() == 3 && seg[0] == "containers" && seg[2] == "restart") {
    if (!containers_.count(seg[1])) return message(404, "No such container: " + seg[1]);
    const auto t = r.query_param("t");
    restarts_.push_back(seg[1] + "?t=" + t.value_or(""));
    net::HttpResponse resp;
    resp.status = 204;
    resp.content_type = "text/plain";
    return resp;
  }
  return message(404, "page not found");
}

}  // namespace vigie::testing
