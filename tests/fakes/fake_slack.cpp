// The fake Slack: a real HTTP server (net::HttpServer) for the Web API and a WsServer for Socket
// Mode, both on 127.0.0.1, sharing one recorded state.
#include "fake_slack.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <sstream>

#include "vigie/core/log.h"
#include "vigie/net/crypto.h"
#include "vigie/net/http_server.h"
#include "ws_server.h"

namespace vigie::testing {
namespace {

using nlohmann::json;

struct Failure {
  int status;
  std::string error;
  std::optional<int> retry_after;
};

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

struct FakeSlack::Impl {
  std::string bot_token, app_token;
  std::ostringstream log_sink;
  Logging logging{LogLevel::error, std::make_shared<SecretRegistry>(), log_sink};
  std::unique_ptr<net::HttpServer> http;
  std::unique_ptr<WsServer> ws;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::vector<Request> requests;
  std::map<std::string, std::deque<Failure>> failures;
  std::vector<Message> messages;  // every message, top-level and replies, in posting order
  std::int64_t next_ts = 1'767'225'600;  // 2026-01-01, one second per message: ts are unique
  std::vector<std::size_t> socket_ids;   // in connection order
  std::vector<std::size_t> open_at_connect;  // per connection, the others open then
  std::size_t envelopes = 0;
  std::string hold_method;  // answers to calls of this method wait in `held`
  std::vector<std::pair<net::Respond, net::HttpResponse>> held;

  std::string new_ts() { return std::to_string(next_ts++) + ".000100"; }

  Message* find(const std::string& channel, const std::string& ts) {
    for (auto& m : messages) {
      if (m.channel == channel && m.ts == ts) return &m;
    }
    return nullptr;
  }

  // Answers one Web API call; the caller holds the mutex.
  net::HttpResponse answer(Request& r) {
    auto ok = [&](json body) {
      body["ok"] = true;
      r.status = 200;
      return net::HttpResponse::json(200, body.dump());
    };
    auto fail = [&](std::string error, int status = 200) {
      r.status = status;
      r.error = error;
      return net::HttpResponse::json(status, json{{"ok", false}, {"error", std::move(error)}}.dump());
    };

    if (auto it = failures.find(r.method); it != failures.end() && !it->second.empty()) {
      Failure f = it->second.front();
      it->second.pop_front();
      if (f.status == 429) {
        r.status = 429;
        r.error = "ratelimited";
        auto resp = net::HttpResponse::json(429, R"({"ok":false,"error":"ratelimited"})");
        if (f.retry_after) resp.headers.emplace_back("Retry-After", std::to_string(*f.retry_after));
        return resp;
      }
      return fail(f.error.empty() ? "internal_error" : f.error, f.status);
    }
    if (r.method == "response_url") return ok(json::object());

    const std::string auth = r.headers.count("Authorization") ? r.headers.at("Authorization") : "";
    const bool app_method = r.method == "apps.connections.open";
    if (auth != "Bearer " + (app_method ? app_token : bot_token)) {
      // Slack answers a bot token on apps.connections.open with not_allowed_token_type.
      if (app_method && auth == "Bearer " + bot_token) return fail("not_allowed_token_type");
      return fail(auth.empty() ? "not_authed" : "invalid_auth");
    }

    const json& a = r.args;
    if (r.method == "chat.postMessage") {
      const std::string channel = str(a, "channel");
      if (channel.empty()) return fail("channel_not_found");
      if (str(a, "text").empty() && !a.contains("blocks")) return fail("no_text");
      Message m;
      m.channel = channel;
      m.ts = new_ts();
      m.thread_ts = str(a, "thread_ts");
      if (!m.thread_ts.empty() && !find(channel, m.thread_ts)) return fail("thread_not_found");
      m.text = str(a, "text");
      if (a.contains("blocks")) m.blocks = a["blocks"];
      messages.push_back(m);
      return ok({{"channel", channel}, {"ts", m.ts}, {"message", {{"text", m.text}, {"ts", m.ts}}}});
    }
    if (r.method == "chat.update") {
      Message* m = find(str(a, "channel"), str(a, "ts"));
      if (!m) return fail("message_not_found");
      if (a.contains("text")) m->text = str(a, "text");
      if (a.contains("blocks")) m->blocks = a["blocks"];
      ++m->edits;
      return ok({{"channel", m->channel}, {"ts", m->ts}, {"text", m->text}});
    }
    if (r.method == "chat.postEphemeral") {
      if (str(a, "channel").empty()) return fail("channel_not_found");
      if (str(a, "user").empty()) return fail("user_not_in_channel");
      return ok({{"message_ts", new_ts()}});
    }
    if (r.method == "reactions.add") {
      if (!find(str(a, "channel"), str(a, "timestamp"))) return fail("message_not_found");
      return ok(json::object());
    }
    if (app_method) {
      const std::string url = "ws://127.0.0.1:" + std::to_string(ws->port()) +
                              "/link/?ticket=" + std::to_string(requests.size()) + "&app_id=A0FAKE";
      return ok({{"url", url}});
    }
    return fail("unknown_method", 404);
  }

  void handle(net::HttpRequest req, net::Respond respond) {
    Request r;
    r.path = req.path;
    r.headers = req.headers;
    r.body = req.body;
    if (req.path.rfind("/api/", 0) == 0) {
      r.method = req.path.substr(5);
    } else if (req.path.rfind("/response/", 0) == 0) {
      r.method = "response_url";
    } else {
      respond(net::HttpResponse::json_error(404, "not found"));
      return;
    }
    const std::string type = req.header("Content-Type").value_or("");
    if (type.find("json") != std::string::npos) {
      r.args = json::parse(req.body, nullptr, false);
      if (r.args.is_discarded()) {
        respond(net::HttpResponse::json(200, R"({"ok":false,"error":"invalid_json"})"));
        return;
      }
    } else {
      r.args = json::object();
      for (const auto& [k, v] : net::parse_form(req.body)) r.args[k] = v;
    }
    net::HttpResponse resp;
    bool hold = false;
    {
      std::lock_guard lock(mutex);
      resp = answer(r);
      hold = !hold_method.empty() && r.method == hold_method;
      requests.push_back(std::move(r));
      if (hold) held.emplace_back(respond, resp);
    }
    changed.notify_all();
    if (!hold) respond(std::move(resp));
  }
};

FakeSlack::FakeSlack(std::string bot_token, std::string app_token) : impl_(std::make_unique<Impl>()) {
  impl_->bot_token = std::move(bot_token);
  impl_->app_token = std::move(app_token);
  WsServer::Options ws;
  ws.on_connect = [impl = impl_.get()](std::size_t id, const std::string&) {
    // The server registers a connection once this hook returns: it is not counted yet.
    const std::size_t open = impl->ws->open_connections();
    {
      std::lock_guard lock(impl->mutex);
      impl->socket_ids.push_back(id);
      impl->open_at_connect.push_back(open);
    }
    impl->changed.notify_all();
    impl->ws->send_to(id, json{{"type", "hello"},
                               {"num_connections", 1},
                               {"connection_info", {{"app_id", "A0FAKE"}}},
                               {"debug_info", {{"host", "fake-slack"}, {"approximate_connection_time", 18060}}}}
                              .dump());
  };
  impl_->ws = std::make_unique<WsServer>(ws);
  net::HttpServer::Options options;
  options.read_timeout = options.write_timeout = options.handler_timeout = std::chrono::seconds(10);
  auto server = net::HttpServer::start(
      options, [impl = impl_.get()](net::HttpRequest req, net::Respond respond) { impl->handle(std::move(req), std::move(respond)); },
      impl_->logging.logger("fake-slack"));
  if (!server) throw std::runtime_error("fake Slack: " + server.error());
  impl_->http = std::move(*server);
}

FakeSlack::~FakeSlack() {
  release_held();
  impl_->http->stop(std::chrono::milliseconds(500));
  impl_->ws.reset();
}

std::string FakeSlack::base_url() const { return "http://127.0.0.1:" + std::to_string(impl_->http->port()) + "/api"; }

std::string FakeSlack::response_url(const std::string& name) const {
  return "http://127.0.0.1:" + std::to_string(impl_->http->port()) + "/response/" + name;
}

std::vector<FakeSlack::Request> FakeSlack::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::size_t FakeSlack::count(const std::string& method) const {
  std::lock_guard lock(impl_->mutex);
  std::size_t n = 0;
  for (const auto& r : impl_->requests) n += r.method == method;
  return n;
}

std::optional<FakeSlack::Request> FakeSlack::wait_for_request(const std::function<bool(const Request&)>& pred,
                                                              std::chrono::milliseconds timeout) const {
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

void FakeSlack::fail_next(const std::string& method, int status, std::string error, std::optional<int> retry_after) {
  std::lock_guard lock(impl_->mutex);
  impl_->failures[method].push_back({status, std::move(error), retry_after});
}

void FakeSlack::hold_answers(const std::string& method) {
  std::lock_guard lock(impl_->mutex);
  impl_->hold_method = method;
}

bool FakeSlack::wait_held(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->held.size() >= count; });
}

void FakeSlack::release_held() {
  std::vector<std::pair<net::Respond, net::HttpResponse>> held;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->hold_method.clear();
    held.swap(impl_->held);
  }
  for (auto& [respond, resp] : held) respond(std::move(resp));
}

std::vector<FakeSlack::Message> FakeSlack::messages() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<Message> out;
  for (const auto& m : impl_->messages) {
    if (m.thread_ts.empty()) out.push_back(m);
  }
  return out;
}

std::vector<FakeSlack::Message> FakeSlack::replies(const std::string& channel, const std::string& thread_ts) const {
  std::lock_guard lock(impl_->mutex);
  std::vector<Message> out;
  for (const auto& m : impl_->messages) {
    if (m.channel == channel && m.thread_ts == thread_ts) out.push_back(m);
  }
  return out;
}

std::optional<FakeSlack::Message> FakeSlack::message(const std::string& channel, const std::string& ts) const {
  std::lock_guard lock(impl_->mutex);
  if (auto* m = impl_->find(channel, ts)) return *m;
  return std::nullopt;
}

std::size_t FakeSlack::socket_connections() const { return impl_->ws->connections(); }
std::size_t FakeSlack::open_socket_connections() const { return impl_->ws->open_connections(); }

bool FakeSlack::wait_for_socket_connections(std::size_t count, std::chrono::milliseconds timeout) const {
  return impl_->ws->wait_for_connections(count, timeout);
}

std::string FakeSlack::send_envelope(const std::string& type, json payload, bool accepts_response_payload,
                                     int retry_attempt) {
  std::size_t id = 0;
  std::string envelope_id;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->socket_ids.empty()) throw std::logic_error("fake Slack: no Socket Mode connection");
    id = impl_->socket_ids.back();
    envelope_id = "env-" + std::to_string(++impl_->envelopes);
  }
  json envelope{{"envelope_id", envelope_id},
                {"type", type},
                {"payload", std::move(payload)},
                {"accepts_response_payload", accepts_response_payload}};
  if (type == "events_api") {
    envelope["retry_attempt"] = retry_attempt;
    envelope["retry_reason"] = retry_attempt ? "timeout" : "";
  }
  impl_->ws->send_to(id, envelope.dump());
  return envelope_id;
}

void FakeSlack::send_disconnect(const std::string& reason) {
  std::size_t id = 0;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->socket_ids.empty()) return;
    id = impl_->socket_ids.back();
  }
  impl_->ws->send_to(id, json{{"type", "disconnect"}, {"reason", reason}, {"debug_info", {{"host", "fake-slack"}}}}.dump());
}

std::optional<json> FakeSlack::wait_for_ack(const std::string& envelope_id, std::chrono::milliseconds timeout) const {
  auto text = impl_->ws->wait_for_message(
      [&](const std::string& t) {
        auto j = json::parse(t, nullptr, false);
        return j.is_object() && str(j, "envelope_id") == envelope_id;
      },
      timeout);
  if (!text) return std::nullopt;
  return json::parse(*text);
}

std::size_t FakeSlack::acks(const std::string& envelope_id) const {
  std::size_t n = 0;
  for (const auto& t : impl_->ws->received()) {
    auto j = json::parse(t, nullptr, false);
    n += j.is_object() && str(j, "envelope_id") == envelope_id;
  }
  return n;
}

void FakeSlack::send_socket_text(std::string text) {
  std::size_t id = 0;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->socket_ids.empty()) throw std::logic_error("fake Slack: no Socket Mode connection");
    id = impl_->socket_ids.back();
  }
  impl_->ws->send_to(id, std::move(text));
}

void FakeSlack::drop_socket_connections() { impl_->ws->drop(); }

std::vector<std::size_t> FakeSlack::open_socket_connections_at_connect() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->open_at_connect;
}

net::Headers FakeSlack::signed_headers(const std::string& signing_secret, const std::string& body, TimePoint now) {
  const std::string timestamp = std::to_string(to_unix_ms(now) / 1000);
  net::Headers h;
  h["X-Slack-Request-Timestamp"] = timestamp;
  h["X-Slack-Signature"] = "v0=" + net::hmac_sha256_hex(signing_secret, "v0:" + timestamp + ":" + body);
  return h;
}

}  // namespace vigie::testing
