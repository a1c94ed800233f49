// The fake Sentry: a real HTTP server (net::HttpServer) answering the issue endpoints from an
// in-memory list of issues, with queued misbehaviour and recorded requests.
#include "fake_sentry.h"

#include <cctype>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <sstream>
#include <thread>

#include "vigie/core/log.h"
#include "vigie/net/http_server.h"

namespace vigie::testing {
namespace {

using nlohmann::json;

struct Fault {
  enum class Kind { status, rate_limit, malformed, truncate, delay };
  Kind kind = Kind::status;
  int status = 0;
  std::int64_t reset = 0;
  std::string body;
  std::chrono::milliseconds delay{0};
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= s.size()) {
    const auto next = s.find(sep, at);
    out.push_back(s.substr(at, next == std::string::npos ? std::string::npos : next - at));
    if (next == std::string::npos) break;
    at = next + 1;
  }
  return out;
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json detail(const std::string& text) { return json{{"detail", text}}; }

Fault make_fault(Fault::Kind kind, int status) {
  Fault f;
  f.kind = kind;
  f.status = status;
  return f;
}

}  // namespace

std::vector<std::string> FakeSentry::Request::params(const std::string& name) const {
  std::vector<std::string> out;
  if (query.empty()) return out;
  for (const auto& pair : split(query, '&')) {
    const auto eq = pair.find('=');
    if (net::url_decode(pair.substr(0, eq)) == name) {
      out.push_back(eq == std::string::npos ? std::string() : net::url_decode(pair.substr(eq + 1)));
    }
  }
  return out;
}

std::optional<std::string> FakeSentry::Request::param(const std::string& name) const {
  auto all = params(name);
  if (all.empty()) return std::nullopt;
  return all.front();
}

bool FakeSentry::Request::is_list() const {
  return method == "GET" && path.size() > 8 && path.compare(path.size() - 8, 8, "/issues/") == 0;
}

struct FakeSentry::Impl {
  std::string token, organization;
  std::ostringstream log_sink;
  Logging logging{LogLevel::error, std::make_shared<SecretRegistry>(), log_sink};
  std::unique_ptr<net::HttpServer> http;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::vector<Request> requests;
  std::vector<json> issues;  // in listing order
  std::size_t page_size = 100;
  std::deque<Fault> faults;
  std::optional<std::int64_t> remaining;
  std::int64_t reset = 0;
  bool stopping = false;
  std::vector<std::thread> late;  // delayed answers

  json* find(const std::string& id) {
    for (auto& i : issues) {
      if (str(i, "id") == id) return &i;
    }
    return nullptr;
  }

  void rate_headers(net::HttpResponse& r, std::int64_t rem, std::int64_t rst) const {
    r.headers.emplace_back("X-Sentry-Rate-Limit-Limit", "40");
    r.headers.emplace_back("X-Sentry-Rate-Limit-Remaining", std::to_string(rem));
    r.headers.emplace_back("X-Sentry-Rate-Limit-Reset", std::to_string(rst));
    r.headers.emplace_back("X-Sentry-Rate-Limit-ConcurrentLimit", "25");
    r.headers.emplace_back("X-Sentry-Rate-Limit-ConcurrentRemaining", "24");
  }

  // Sentry's search, as far as tests need it: is:<status> and project:<slug> / project:[a,b].
  bool matches(const json& issue, const std::string& query,
               const std::vector<std::string>& project_ids, const std::string& project_slug) const {
    const json project = issue.value("project", json::object());
    if (!project_slug.empty() && str(project, "slug") != project_slug) return false;
    if (!project_ids.empty()) {
      bool any = false;
      for (const auto& id : project_ids) any = any || id == "-1" || id == str(project, "id");
      if (!any) return false;
    }
    for (const auto& term : split(query, ' ')) {
      if (term.rfind("is:", 0) == 0 && str(issue, "status") != term.substr(3)) return false;
      if (term.rfind("project:", 0) == 0) {
        std::string v = term.substr(8);
        if (!v.empty() && v.front() == '[') v = v.substr(1, v.size() - 2);
        bool any = false;
        for (const auto& slug : split(v, ',')) any = any || slug == str(project, "slug");
        if (!any) return false;
      }
    }
    return true;
  }

  net::HttpResponse list(const Request& r, const std::string& project_slug) {
    // The legacy project endpoint defaults to is:unresolved; the organization one too.
    const std::string query = r.param("query").value_or("is:unresolved");
    std::vector<json> found;
    for (const auto& i : issues) {
      if (matches(i, query, r.params("project"), project_slug)) found.push_back(i);
    }
    // Cursor "<n>:<offset>:<is_prev>", opaque to clients.
    std::size_t offset = 0;
    if (auto c = r.param("cursor")) {
      const auto parts = split(*c, ':');
      const auto [end, ec] =
          parts.size() == 3
              ? std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), offset)
              : std::from_chars_result{nullptr, std::errc::invalid_argument};
      if (ec != std::errc() || end != parts[1].data() + parts[1].size()) {
        return net::HttpResponse::json(400, detail("Invalid cursor parameter.").dump());
      }
    }
    json page = json::array();
    for (std::size_t i = offset; i < found.size() && i < offset + page_size; ++i)
      page.push_back(found[i]);
    const bool more = offset + page_size < found.size();
    // Links keep the request's other parameters, as Sentry's do.
    std::string others;
    for (const auto& pair : split(r.query, '&')) {
      if (!pair.empty() && pair.rfind("cursor=", 0) != 0) others += pair + "&";
    }
    const std::string self =
        "http://127.0.0.1:" + std::to_string(http->port()) + r.path + "?" + others + "cursor=";
    const std::string prev =
        "0:" + std::to_string(offset >= page_size ? offset - page_size : 0) + ":1";
    const std::string next = "0:" + std::to_string(offset + page_size) + ":0";
    auto resp = net::HttpResponse::json(200, page.dump());
    resp.headers.emplace_back("Link", "<" + self + prev + ">; rel=\"previous\"; results=\"" +
                                          (offset > 0 ? "true" : "false") + "\"; cursor=\"" + prev +
                                          "\", <" + self + next + ">; rel=\"next\"; results=\"" +
                                          (more ? "true" : "false") + "\"; cursor=\"" + next +
                                          "\"");
    return resp;
  }

  net::HttpResponse one(Request& r, const std::string& id) {
    json* issue = find(id);
    if (!issue)
      return net::HttpResponse::json(404, detail("The requested resource does not exist").dump());
    if (r.method == "PUT") {
      const json body = json::parse(r.body, nullptr, false);
      if (!body.is_object()) return net::HttpResponse::json(400, detail("Invalid JSON").dump());
      if (body.contains("status")) {
        std::string status = str(body, "status");
        if (status == "resolvedInNextRelease") status = "resolved";
        if (status != "resolved" && status != "unresolved" && status != "ignored") {
          return net::HttpResponse::json(
              400, json{{"status", {"\"" + status + "\" is not a valid choice."}}}.dump());
        }
        (*issue)["status"] = status;
        if (status == "resolved") issue->erase("substatus");
        if (status == "ignored")
          (*issue)["substatus"] = body.value("substatus", "archived_forever");
        if (status == "unresolved") (*issue)["substatus"] = "ongoing";
      }
      for (const char* k : {"statusDetails", "assignedTo", "hasSeen", "isBookmarked"}) {
        if (body.contains(k)) (*issue)[k] = body[k];
      }
    }
    return net::HttpResponse::json(200, issue->dump());
  }

  net::HttpResponse route(Request& r) {
    if (r.headers.count("Authorization") == 0 ||
        r.headers.at("Authorization") != "Bearer " + token) {
      return net::HttpResponse::json(401, detail("Invalid token").dump());
    }
    const auto seg = split(r.path, '/');  // "", "api", "0", ...
    if (seg.size() < 4 || seg[1] != "api" || seg[2] != "0") {
      return net::HttpResponse::json(404, detail("The requested resource does not exist").dump());
    }
    auto org_ok = [&](const std::string& org) { return org == organization; };
    auto missing = [] {
      return net::HttpResponse::json(404, detail("The requested resource does not exist").dump());
    };
    // /api/0/organizations/{org}/issues/ and /api/0/organizations/{org}/issues/{id}/
    if (seg[3] == "organizations" && seg.size() >= 7 && seg[5] == "issues") {
      if (!org_ok(seg[4])) return missing();
      if (seg.size() == 7 && r.method == "GET") return list(r, "");
      if (seg.size() == 8 && (r.method == "GET" || r.method == "PUT")) return one(r, seg[6]);
    }
    // /api/0/projects/{org}/{project}/issues/
    if (seg[3] == "projects" && seg.size() == 8 && seg[6] == "issues" && r.method == "GET") {
      if (!org_ok(seg[4])) return missing();
      return list(r, seg[5]);
    }
    // /api/0/issues/{id}/ (the older clients' path)
    if (seg[3] == "issues" && seg.size() == 6 && (r.method == "GET" || r.method == "PUT"))
      return one(r, seg[4]);
    return missing();
  }

  void handle(net::HttpRequest req, net::Respond respond) {
    Request r;
    r.method = req.method;
    r.path = req.path;
    r.query = req.query;
    r.headers = req.headers;
    r.body = req.body;
    net::HttpResponse resp;
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard lock(mutex);
      std::optional<Fault> fault;
      if (r.method == "GET" && !faults.empty()) {
        fault = faults.front();
        faults.pop_front();
      }
      if (fault && fault->kind == Fault::Kind::status) {
        resp = net::HttpResponse::json(fault->status, detail("Internal Error").dump());
      } else if (fault && fault->kind == Fault::Kind::rate_limit) {
        resp = net::HttpResponse::json(429, detail("You are attempting to use this endpoint too "
                                                   "frequently. Limit is 40 requests in 1 seconds")
                                                .dump());
        rate_headers(resp, 0, fault->reset);
      } else if (fault && fault->kind == Fault::Kind::malformed) {
        resp = net::HttpResponse::json(200, fault->body);
      } else {
        resp = route(r);
        if (fault && fault->kind == Fault::Kind::truncate)
          resp.body = resp.body.substr(0, resp.body.size() / 2);
        if (fault && fault->kind == Fault::Kind::delay) delay = fault->delay;
        if (remaining) rate_headers(resp, *remaining, reset);
      }
      r.status = resp.status;
      requests.push_back(r);
    }
    changed.notify_all();
    if (delay.count() == 0) {
      respond(std::move(resp));
      return;
    }
    // Late: answered from a thread of the fake's own, which a stop wakes at once.
    std::lock_guard lock(mutex);
    late.emplace_back(
        [this, delay, resp = std::move(resp), respond = std::move(respond)]() mutable {
          {
            std::unique_lock wait(mutex);
            changed.wait_for(wait, delay, [&] { return stopping; });
          }
          respond(std::move(resp));
        });
  }
};

FakeSentry::FakeSentry(std::string token, std::string organization)
    : impl_(std::make_unique<Impl>()) {
  impl_->token = std::move(token);
  impl_->organization = std::move(organization);
  net::HttpServer::Options options;
  options.read_timeout = options.write_timeout = options.handler_timeout = std::chrono::seconds(30);
  auto server = net::HttpServer::start(
      options,
      [impl = impl_.get()](net::HttpRequest req, net::Respond respond) {
        impl->handle(std::move(req), std::move(respond));
      },
      impl_->logging.logger("fake-sentry"));
  if (!server) throw std::runtime_error("fake Sentry: " + server.error());
  impl_->http = std::move(*server);
}

FakeSentry::~FakeSentry() {
  std::vector<std::thread> late;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    late.swap(impl_->late);
  }
  impl_->changed.notify_all();
  for (auto& t : late) t.join();
  impl_->http->stop(std::chrono::milliseconds(500));
}

std::string FakeSentry::base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }
std::uint16_t FakeSentry::port() const { return impl_->http->port(); }

void FakeSentry::add_issue(json issue, const std::string& project) {
  std::lock_guard lock(impl_->mutex);
  const std::string id = str(issue, "id");
  if (id.empty()) throw std::logic_error("fake Sentry: an issue needs a string id");
  // Project ids are derived from the slug so filters by id work: "shop-api" → stable digits.
  std::uint32_t h = 2166136261u;
  for (unsigned char c : project) h = (h ^ c) * 16777619u;
  const std::string upper = [&] {
    std::string u;
    for (char c : project) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u;
  }();
  json d{{"id", id},
         {"shortId", upper + "-" + id},
         {"title", "Error " + id},
         {"culprit", "app.handler"},
         {"level", "error"},
         {"status", "unresolved"},
         {"substatus", "ongoing"},
         {"count", "1"},
         {"userCount", 1},
         {"firstSeen", "2026-01-01T00:00:00Z"},
         {"lastSeen", "2026-01-01T00:00:00Z"},
         {"permalink",
          "https://sentry.example/organizations/" + impl_->organization + "/issues/" + id + "/"},
         {"project", {{"id", std::to_string(h % 1000000)}, {"name", project}, {"slug", project}}},
         {"metadata", {{"title", "Error " + id}}},
         {"type", "error"},
         {"logger", nullptr},
         {"assignedTo", nullptr},
         {"isBookmarked", false},
         {"isPublic", false},
         {"hasSeen", false},
         {"numComments", 0},
         {"statusDetails", json::object()},
         {"stats", {{"24h", json::array({json::array({1767225600.0, 1})})}}},
         {"priority", "high"},
         {"isUnhandled", true},
         {"platform", "python"}};
  d.update(issue);
  if (json* existing = impl_->find(id)) {
    *existing = d;
  } else {
    impl_->issues.push_back(d);
  }
}

void FakeSentry::add_events(const std::string& id, std::int64_t n, const std::string& last_seen) {
  std::lock_guard lock(impl_->mutex);
  json* i = impl_->find(id);
  if (!i) throw std::logic_error("fake Sentry: no issue " + id);
  (*i)["count"] = std::to_string(std::stoll(str(*i, "count")) + n);
  (*i)["lastSeen"] = last_seen;
}

void FakeSentry::set_field(const std::string& id, const std::string& field, json value) {
  std::lock_guard lock(impl_->mutex);
  json* i = impl_->find(id);
  if (!i) throw std::logic_error("fake Sentry: no issue " + id);
  (*i)[field] = std::move(value);
}

void FakeSentry::remove_issue(const std::string& id) {
  std::lock_guard lock(impl_->mutex);
  std::erase_if(impl_->issues, [&](const json& i) { return str(i, "id") == id; });
}

std::optional<json> FakeSentry::issue(const std::string& id) const {
  std::lock_guard lock(impl_->mutex);
  if (json* i = impl_->find(id)) return *i;
  return std::nullopt;
}

void FakeSentry::set_page_size(std::size_t n) {
  std::lock_guard lock(impl_->mutex);
  impl_->page_size = n;
}

void FakeSentry::fail_next(int status, int times) {
  std::lock_guard lock(impl_->mutex);
  for (int i = 0; i < times; ++i) impl_->faults.push_back(make_fault(Fault::Kind::status, status));
}

void FakeSentry::rate_limit_next(std::int64_t reset_epoch_seconds) {
  std::lock_guard lock(impl_->mutex);
  Fault f = make_fault(Fault::Kind::rate_limit, 429);
  f.reset = reset_epoch_seconds;
  impl_->faults.push_back(f);
}

void FakeSentry::malformed_next(std::string body) {
  std::lock_guard lock(impl_->mutex);
  Fault f = make_fault(Fault::Kind::malformed, 200);
  f.body = std::move(body);
  impl_->faults.push_back(f);
}

void FakeSentry::truncate_next() {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.push_back(make_fault(Fault::Kind::truncate, 200));
}

void FakeSentry::delay_next(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mutex);
  Fault f = make_fault(Fault::Kind::delay, 200);
  f.delay = delay;
  impl_->faults.push_back(f);
}

void FakeSentry::set_rate_limit_remaining(std::optional<std::int64_t> remaining,
                                          std::int64_t reset_epoch_seconds) {
  std::lock_guard lock(impl_->mutex);
  impl_->remaining = remaining;
  impl_->reset = reset_epoch_seconds;
}

std::vector<FakeSentry::Request> FakeSentry::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::size_t FakeSentry::list_requests() const {
  std::lock_guard lock(impl_->mutex);
  std::size_t n = 0;
  for (const auto& r : impl_->requests) n += r.is_list();
  return n;
}

bool FakeSentry::wait_for_list_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] {
    std::size_t k = 0;
    for (const auto& r : impl_->requests) k += r.is_list();
    return k >= n;
  });
}

std::optional<FakeSentry::Request> FakeSentry::wait_for_request(
    const std::function<bool(const Request&)>& pred, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  std::optional<Request> found;
  impl_->changed.wait_for(lock, timeout, [&] {
    for (const auto& r : impl_->requests) {
      if (pred(r)) {
        found = r;
        return true;
      }
    }
    return false;
  });
  return found;
}

}  // namespace vigie::testing
