// A fake Docker Engine API (api-notes section 8) on a unix socket in a fresh temporary directory:
// POST [/v1.NN]/containers/{id}/restart?t=N → 204; 404 {"message":"No such container: id"};
// 500 {"message":...} on demand. Removes its directory when destroyed.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "fake_upstream.h"

namespace vigie::testing {

class FakeDocker {
 public:
  FakeDocker();
  ~FakeDocker();

  const std::string& socket_path() const { return socket_; }
  std::vector<RecordedRequest> requests() const { return upstream_->requests(); }
  FakeUpstream& upstream() { return *upstream_; }

  void add_container(const std::string& name_or_id);
  // Restarts applied, in order: "name?t=N".
  std::vector<std::string> restarts() const;

 private:
  net::HttpResponse answer(const RecordedRequest& r);

  std::string dir_, socket_;
  std::set<std::string> containers_;
  std::vector<std::string> restarts_;
  std::unique_ptr<FakeUpstream> upstream_;  // last: its server thread uses the members above
};

}  // namespace vigie::testing
