// The fake NewRelic: a real HTTP server (net::HttpServer) on 127.0.0.1 answering REST v2 and
// NerdGraph with the documented shapes, plus faults on demand. See fake_newrelic.h.
#include "fake_newrelic.h"

#include <deque>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "vigie/core/log.h"
#include "vigie/core/time.h"
#include "vigie/net/http_server.h"

namespace vigie::testing {
namespace {

using nlohmann::json;

// The request's query without its `page` parameter, to build the next page's link from.
std::string query_without_page(const std::string& query) {
  std::string out;
  std::size_t p = 0;
  while (p <= query.size() && !query.empty()) {
    const auto amp = query.find('&', p);
    const std::string part =
        query.substr(p, amp == std::string::npos ? std::string::npos : amp - p);
    if (!part.empty() && part.rfind("page=", 0) != 0) out += (out.empty() ? "" : "&") + part;
    if (amp == std::string::npos) break;
    p = amp + 1;
  }
  return out;
}

}  // namespace

struct FakeNewRelic::Impl {
  std::string api_key;
  std::ostringstream log_sink;
  Logging logging{LogLevel::error, std::make_shared<SecretRegistry>(), log_sink};
  std::unique_ptr<net::HttpServer> http;

  mutable std::mutex mutex;
  std::map<std::int64_t, json> violations;  // by id: ascending ids is the fake's sort order
  std::map<std::int64_t, json> applications;
  std::map<std::string, json> nrql;
  std::size_t page_size = 50;
  std::map<std::string, std::deque<Fault>> faults;
  std::vector<Request> requests;
  std::vector<std::thread> delayed;  // answers sent late, joined on destruction

  std::string link_origin;  // empty: origin()

  std::string origin() const { return "http://127.0.0.1:" + std::to_string(http->port()); }

  // One page of `items` with the Link header NewRelic sends (rel="last" too when `with_last`).
  net::HttpResponse page(const net::HttpRequest& req, const std::string& wrapper,
                         const std::vector<json>& items, bool with_last) {
    std::size_t page_no = 1;
    if (auto p = req.query_param("page")) {
      try {
        page_no = std::max<std::size_t>(1, std::stoul(*p));
      } catch (const std::exception&) {
      }
    }
    const std::size_t pages = std::max<std::size_t>(1, (items.size() + page_size - 1) / page_size);
    json list = json::array();
    for (std::size_t i = (page_no - 1) * page_size; i < items.size() && i < page_no * page_size;
         ++i) {
      list.push_back(items[i]);
    }
    auto resp = net::HttpResponse::json(200, json{{wrapper, list}}.dump());
    const std::string rest = query_without_page(req.query);
    auto link = [&](std::size_t n) {
      return "<" + (link_origin.empty() ? origin() : link_origin) + req.path + "?" + rest +
             (rest.empty() ? "" : "&") + "page=" + std::to_string(n) + ">";
    };
    std::string header;
    if (page_no < pages) header = link(page_no + 1) + "; rel=\"next\"";
    if (with_last && pages > 1)
      header += (header.empty() ? "" : ", ") + link(pages) + "; rel=\"last\"";
    if (!header.empty()) resp.headers.emplace_back("Link", header);
    return resp;
  }

  net::HttpResponse violations_page(const net::HttpRequest& req) {
    const bool only_open = req.query_param("only_open").value_or("false") == "true";
    std::optional<TimePoint> start;
    if (auto s = req.query_param("start_date")) {
      start = parse_rfc3339(*s);
      if (!start)
        return net::HttpResponse::json(400, R"({"error":{"title":"Invalid start_date"}})");
    }
    std::vector<json> items;
    for (const auto& [id, v] : violations) {
      if (only_open && v.contains("closed_at")) continue;
      if (start && v.at("opened_at").get<std::int64_t>() < to_unix_ms(*start)) continue;
      items.push_back(v);
    }
    return page(req, "violations", items, false);
  }

  net::HttpResponse graphql(const net::HttpRequest& req) {
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("query")) {
      return net::HttpResponse::json(400, R"({"errors":[{"message":"Invalid JSON body"}]})");
    }
    const json vars = body.value("variables", json::object());
    const std::string q = vars.value("nrql", std::string());
    auto it = nrql.find(q);
    if (it == nrql.end()) {
      return net::HttpResponse::json(
          200, json{{"data", {{"actor", {{"account", {{"nrql", nullptr}}}}}}},
                    {"errors", {{{"message", "NRQL Syntax Error: Error at line 1 position 1"}}}}}
                   .dump());
    }
    return net::HttpResponse::json(
        200,
        json{{"data", {{"actor", {{"account", {{"nrql", {{"results", it->second}}}}}}}}}}.dump());
  }

  // The normal answer; the caller holds the mutex.
  net::HttpResponse answer(const net::HttpRequest& req) {
    if (req.path == "/graphql") {
      if (req.method != "POST")
        return net::HttpResponse::json(405, R"({"errors":[{"message":"POST only"}]})");
      if (req.header("API-Key").value_or("") != api_key) {
        return net::HttpResponse::json(401, R"({"errors":[{"message":"Invalid API key"}]})");
      }
      return graphql(req);
    }
    const auto key = req.header("Api-Key") ? req.header("Api-Key") : req.header("X-Api-Key");
    if (key.value_or("") != api_key) {
      return net::HttpResponse::json(401, R"({"error":{"title":"Invalid API key"}})");
    }
    if (req.method != "GET")
      return net::HttpResponse::json(405, R"({"error":{"title":"Method not allowed"}})");
    if (req.path == "/v2/alerts_violations.json") return violations_page(req);
    if (req.path == "/v2/applications.json") {
      std::vector<json> items;
      for (const auto& [id, a] : applications) items.push_back(a);
      return page(req, "applications", items, true);
    }
    return net::HttpResponse::json(404, R"({"error":{"title":"Not found"}})");
  }

  std::optional<Fault> take_fault(const std::string& path) {
    for (const std::string& key : {path, std::string("*")}) {
      auto it = faults.find(key);
      if (it != faults.end() && !it->second.empty()) {
        Fault f = it->second.front();
        it->second.pop_front();
        return f;
      }
    }
    return std::nullopt;
  }

  void handle(net::HttpRequest req, net::Respond respond) {
    net::HttpResponse resp;
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard lock(mutex);
      const auto fault = take_fault(req.path);
      if (fault && fault->status == 429) {
        resp = net::HttpResponse::json(429, R"({"error":{"title":"Too many requests"}})");
        if (fault->retry_after)
          resp.headers.emplace_back("Retry-After", std::to_string(*fault->retry_after));
      } else if (fault && fault->status >= 500) {
        resp = net::HttpResponse::text(
            fault->status, "<html><body>Service Unavailable</body></html>", "text/html");
      } else {
        resp = answer(req);
        if (fault && fault->status != 0) resp.status = fault->status;
      }
      if (fault && fault->truncated) resp.body = resp.body.substr(0, resp.body.size() / 2);
      if (fault && fault->malformed) resp.body = "<html>502 Bad Gateway</html>{\"violations\":[";
      if (fault) delay = fault->delay;
      Request r{req.method, req.path, req.query, req.headers, req.body, resp.status};
      requests.push_back(std::move(r));
      if (delay.count() > 0) {
        delayed.emplace_back([delay, resp, respond = std::move(respond)]() mutable {
          std::this_thread::sleep_for(delay);
          respond(std::move(resp));
        });
        return;
      }
    }
    respond(std::move(resp));
  }
};

FakeNewRelic::FakeNewRelic(std::string api_key) : impl_(std::make_unique<Impl>()) {
  impl_->api_key = std::move(api_key);
  net::HttpServer::Options options;
  options.read_timeout = options.write_timeout = options.handler_timeout = std::chrono::seconds(10);
  options.threads = 2;
  auto server = net::HttpServer::start(
      options,
      [impl = impl_.get()](net::HttpRequest req, net::Respond respond) {
        impl->handle(std::move(req), std::move(respond));
      },
      impl_->logging.logger("fake-newrelic"));
  if (!server) throw std::runtime_error("fake NewRelic: " + server.error());
  impl_->http = std::move(*server);
}

FakeNewRelic::~FakeNewRelic() {
  std::vector<std::thread> delayed;
  {
    std::lock_guard lock(impl_->mutex);
    delayed.swap(impl_->delayed);
  }
  for (auto& t : delayed) t.join();
  impl_->http->stop(std::chrono::milliseconds(500));
}

std::string FakeNewRelic::base_url() const { return impl_->origin(); }
std::string FakeNewRelic::graphql_url() const { return impl_->origin() + "/graphql"; }

void FakeNewRelic::add_violation(std::int64_t id, std::int64_t opened_at_ms,
                                 nlohmann::json fields) {
  json v{{"id", id},
         {"label", "Error percentage > 5.0"},
         {"duration", 0},
         {"policy_name", "Shop API"},
         {"condition_name", "Error rate high"},
         {"priority", "Critical"},
         {"opened_at", opened_at_ms},
         {"entity",
          {{"product", "Apm"},
           {"type", "Application"},
           {"group_id", 4242},
           {"id", 9000 + id},
           {"name", "shop-api"}}},
         {"links", {{"policy_id", 77}, {"condition_id", 88}, {"incident_id", 1000 + id}}}};
  for (const auto& [k, val] : fields.items()) v[k] = val;
  std::lock_guard lock(impl_->mutex);
  impl_->violations[id] = std::move(v);
}

void FakeNewRelic::close_violation(std::int64_t id, std::int64_t closed_at_ms) {
  std::lock_guard lock(impl_->mutex);
  auto& v = impl_->violations.at(id);
  v["closed_at"] = closed_at_ms;
  v["duration"] = (closed_at_ms - v["opened_at"].get<std::int64_t>()) / 1000;
}

void FakeNewRelic::remove_violation(std::int64_t id) {
  std::lock_guard lock(impl_->mutex);
  impl_->violations.erase(id);
}

void FakeNewRelic::set_application(std::int64_t id, const std::string& name,
                                   const std::string& health_status, nlohmann::json summary,
                                   bool reporting) {
  json a{{"id", id},
         {"name", name},
         {"language", "ruby"},
         {"health_status", health_status},
         {"reporting", reporting},
         {"application_summary", std::move(summary)},
         {"settings",
          {{"app_apdex_threshold", 0.5},
           {"end_user_apdex_threshold", 7},
           {"enable_real_user_monitoring", true}}},
         {"links",
          {{"application_instances", json::array()},
           {"servers", json::array()},
           {"application_hosts", json::array()}}}};
  if (reporting) a["last_reported_at"] = "2026-01-01T00:00:00+00:00";
  std::lock_guard lock(impl_->mutex);
  impl_->applications[id] = std::move(a);
}

void FakeNewRelic::set_nrql(const std::string& nrql, nlohmann::json rows) {
  std::lock_guard lock(impl_->mutex);
  impl_->nrql[nrql] = std::move(rows);
}

void FakeNewRelic::set_link_origin(std::string origin) {
  std::lock_guard lock(impl_->mutex);
  impl_->link_origin = std::move(origin);
}

void FakeNewRelic::set_page_size(std::size_t n) {
  std::lock_guard lock(impl_->mutex);
  impl_->page_size = std::max<std::size_t>(1, n);
}

void FakeNewRelic::fail_next(const std::string& path, Fault fault, int times) {
  std::lock_guard lock(impl_->mutex);
  for (int i = 0; i < times; ++i) impl_->faults[path].push_back(fault);
}

std::vector<FakeNewRelic::Request> FakeNewRelic::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::size_t FakeNewRelic::count(const std::string& path) const {
  std::lock_guard lock(impl_->mutex);
  std::size_t n = 0;
  for (const auto& r : impl_->requests) n += r.path == path ? 1 : 0;
  return n;
}

void FakeNewRelic::clear_requests() {
  std::lock_guard lock(impl_->mutex);
  impl_->requests.clear();
}

}  // namespace vigie::testing
