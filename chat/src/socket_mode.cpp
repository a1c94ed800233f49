// Slack Socket Mode: the connection loop (open, hello, envelopes, acks, refreshes, reconnects).
// Everything runs on the client's one thread: the WebSocket connections are not thread-safe, and
// an envelope is handled (its events stored, then the ack written) before the next is read.
#include "vigie/chat/socket_mode.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "vigie/chat/slack_http.h"
#include "vigie/core/text.h"

namespace vigie::chat {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// What an operator should do about Slack's error from apps.connections.open.
std::string open_error_hint(const std::string& error) {
  if (error == "not_allowed_token_type") {
    return "app_token is not an app-level token: use the xapp-… token from the app's Basic "
           "Information > "
           "App-Level Tokens, not the bot token";
  }
  if (error == "invalid_auth" || error == "not_authed" || error == "token_revoked") {
    return "check [slack] app_token_env / app_token_file: an app-level token (xapp-…) with "
           "connections:write";
  }
  if (error == "missing_scope") return "the app-level token needs the connections:write scope";
  return "";
}

}  // namespace

struct SocketModeClient::Impl {
  struct Connection {
    std::unique_ptr<net::WebSocketConnection> ws;
    std::uint64_t number = 0;
    bool retiring = false;                // Slack asked for a new connection
    std::optional<SteadyPoint> close_at;  // set once the replacement said hello
  };

  SocketModeOptions options;
  net::HttpClient& http;
  Clock& clock;
  Logger log;
  SocketModeSink sink;
  std::function<double()> random01;
  RecentIds envelopes_seen, events_seen;

  std::thread thread;
  std::mutex wait_mutex;
  std::condition_variable wake;
  std::atomic<bool> stopping{false};
  bool started = false;

  mutable std::mutex status_mutex;
  SocketModeStatus st;

  // Owned by the thread.
  std::vector<Connection> connections;
  std::optional<SteadyPoint> next_attempt;  // when to open a connection next, if one is needed
  std::uint64_t numbers = 0;
  std::string last_drop;  // why a connection ended during this read_all

  Impl(SocketModeOptions o, net::HttpClient& h, Clock& c, Logger l, SocketModeSink s,
       std::function<double()> r)
      : options(std::move(o)),
        http(h),
        clock(c),
        log(std::move(l)),
        sink(std::move(s)),
        random01(std::move(r)) {
    if (!random01) {
      random01 = [engine = std::make_shared<std::mt19937_64>(std::random_device{}())] {
        return std::uniform_real_distribution<double>(0.0, 1.0)(*engine);
      };
    }
  }

  template <class Fn>
  void update(Fn fn) {
    std::lock_guard lock(status_mutex);
    fn(st);
  }

  void count(const char* name, const char* help, std::map<std::string, std::string> labels = {}) {
    if (options.metrics) options.metrics->counter(name, help, labels).inc();
  }

  void publish_connected() {
    std::size_t open = 0;
    for (const auto& c : connections) open += c.ws != nullptr;
    update([&](SocketModeStatus& s) {
      s.open_connections = open;
      if (s.state == "stopped") return;
      s.state = open > 0 ? "connected" : next_attempt ? "waiting" : "connecting";
      s.next_attempt = open > 0 ? std::optional<SteadyPoint>{} : next_attempt;
    });
    if (options.metrics) {
      options.metrics
          ->gauge("vigie_slack_socket_connected", "1 while a Slack Socket Mode connection is open")
          .set(open > 0 ? 1 : 0);
    }
  }

  bool has_current() const {
    return std::any_of(connections.begin(), connections.end(),
                       [](const Connection& c) { return !c.retiring; });
  }

  Duration backoff(std::uint64_t failures) const {
    Duration d = options.backoff_initial;
    for (std::uint64_t i = 1; i < failures && d < options.backoff_max; ++i) d *= 2;
    d = std::min(d, options.backoff_max);
    const double draw = std::clamp(random01(), 0.0, 1.0);
    return Duration{
        static_cast<Duration::rep>(static_cast<double>(d.count()) * (0.5 + 0.5 * draw))};
  }

  // A failed attempt or a drop: the next attempt waits a little longer than the last.
  void schedule_retry(const std::string& error, std::optional<Duration> at_least = std::nullopt) {
    std::uint64_t failures = 0;
    update([&](SocketModeStatus& s) { failures = ++s.failures; });
    Duration wait = backoff(failures);
    if (at_least) wait = std::max(wait, *at_least);
    next_attempt = clock.steady_now() + wait;
    update([&](SocketModeStatus& s) { s.last_error = error; });
    publish_connected();
    log.warn("Socket Mode: reconnecting later",
             {{"error", error}, {"wait_ms", wait.count()}, {"failures", failures}});
  }

  // apps.connections.open: the single-use WebSocket URL, or why not (and how long to wait at
  // least).
  tl::expected<net::Url, std::pair<std::string, std::optional<Duration>>> open_url() {
    net::ClientRequest req;
    req.method = "POST";
    req.url = net::join(options.base_url, "apps.connections.open");
    req.headers["Authorization"] = "Bearer " + options.app_token;
    req.headers["Content-Type"] = "application/x-www-form-urlencoded";
    auto resp = http.send(req);
    if (!resp) {
      return tl::unexpected(
          std::pair{"apps.connections.open: " + resp.error().message, std::optional<Duration>{}});
    }
    if (resp->status == 429) {
      std::optional<Duration> wait;
      if (auto ra = resp->header("Retry-After")) {
        std::int64_t seconds = 0;
        if (std::from_chars(ra->data(), ra->data() + ra->size(), seconds).ec == std::errc() && seconds >= 0) {
          wait = saturating_seconds(seconds);
        }
      }
      return tl::unexpected(std::pair{std::string("apps.connections.open: rate limited"), wait});
    }
    const auto body = json::parse(resp->body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return tl::unexpected(std::pair{
          "apps.connections.open: HTTP " + std::to_string(resp->status) + " without a JSON body",
          std::optional<Duration>{}});
    }
    if (!body.value("ok", false)) {
      const std::string error =
          str(body, "error").empty() ? "HTTP " + std::to_string(resp->status) : str(body, "error");
      const std::string hint = open_error_hint(error);
      return tl::unexpected(
          std::pair{"apps.connections.open: " + error + (hint.empty() ? "" : " (" + hint + ")"),
                    std::optional<Duration>{}});
    }
    auto url = net::parse_url(str(body, "url"));
    if (!url || (url->scheme != "wss" && url->scheme != "ws")) {
      return tl::unexpected(
          std::pair{std::string("apps.connections.open: the answer has no ws(s):// url"),
                    std::optional<Duration>{}});
    }
    return *url;
  }

  // Opens one connection and waits for its hello; on success it joins `connections` and the
  // connections Slack asked to replace start draining.
  void attempt() {
    next_attempt.reset();
    update([&](SocketModeStatus& s) {
      if (s.open_connections == 0) s.state = "connecting";
      s.next_attempt.reset();
    });
    auto url = open_url();
    if (!url) {
      count("vigie_slack_socket_connect_failures_total",
            "Failed attempts to open a Slack Socket Mode connection");
      return schedule_retry(url.error().first, url.error().second);
    }
    // The URL carries a connection ticket: it is never logged.
    auto ws = net::connect_websocket(*url, options.websocket, log);
    if (!ws) {
      count("vigie_slack_socket_connect_failures_total",
            "Failed attempts to open a Slack Socket Mode connection");
      return schedule_retry("WebSocket: " + ws.error().message);
    }
    Connection conn{std::move(*ws), ++numbers, false, std::nullopt};
    // Slack's first frame is hello; anything else before it is handled all the same. The wait
    // is counted in read timeouts (real time inside the WebSocket client), not on the clock.
    bool hello = false;
    Duration left = options.hello_timeout;
    for (int frames = 0; !hello && !stopping && left > Duration{0} && frames < 100;) {
      const Duration slice = std::min(left, Duration{250});
      auto msg = conn.ws->read(slice);
      if (!msg) {
        count("vigie_slack_socket_connect_failures_total",
              "Failed attempts to open a Slack Socket Mode connection");
        return schedule_retry("WebSocket before hello: " + msg.error().message);
      }
      if (!*msg) {
        left -= slice;
        continue;
      }
      ++frames;
      hello = handle_message(conn, **msg) == "hello";
    }
    if (!hello) {
      if (stopping) return;
      count("vigie_slack_socket_connect_failures_total",
            "Failed attempts to open a Slack Socket Mode connection");
      return schedule_retry("no hello from Slack within " + format_duration(options.hello_timeout));
    }
    bool reconnect = false;
    update([&](SocketModeStatus& s) {
      reconnect = s.connections_opened > 0;
      ++s.connections_opened;
      if (reconnect) ++s.reconnects;
      s.failures = 0;
    });
    if (reconnect)
      count("vigie_slack_socket_reconnects_total",
            "Slack Socket Mode connections opened after the first");
    const SteadyPoint now = clock.steady_now();
    for (auto& c : connections) {
      if (c.retiring && !c.close_at) c.close_at = now + options.drain;
    }
    log.info("Socket Mode connected",
             {{"connection", conn.number}, {"replacing", connections.size()}});
    connections.push_back(std::move(conn));
    publish_connected();
  }

  void ack(Connection& conn, const std::string& envelope_id, const std::optional<json>& payload) {
    json a{{"envelope_id", envelope_id}};
    if (payload) a["payload"] = *payload;
    if (auto w = conn.ws->write(a.dump()); !w) {
      // Not acked: Slack delivers the envelope again (possibly on another connection); its
      // events are already stored, so the redelivery is only acknowledged.
      log.warn("Socket Mode: ack not sent",
               {{"connection", conn.number}, {"error", w.error().message}});
      return;
    }
    update([](SocketModeStatus& s) { ++s.envelopes_acked; });
  }

  // Handles one frame; returns its type ("" when it is not a JSON object with one).
  std::string handle_message(Connection& conn, const std::string& text) {
    auto m = parse_socket_message(text);
    const std::string& type = m.type;
    using What = SocketMessage::What;
    switch (m.what) {
      case What::not_json:
        log.warn("Socket Mode: message is not a JSON object or nested too deeply: skipped",
                 {{"connection", conn.number}, {"bytes", text.size()}});
        return "";
      case What::hello:
        log.debug("Socket Mode hello",
                  {{"connection", conn.number},
                   {"num_connections", m.num_connections},
                   {"approximate_connection_time", m.approximate_connection_time}});
        return type;
      case What::disconnect:
        if (m.reason == "link_disabled") {
          log.error(
              "Socket Mode: Slack disabled this app's Socket Mode link (turn Socket Mode on in the "
              "app's settings)",
              {{"connection", conn.number}});
        } else {
          log.info("Socket Mode: Slack asks for a new connection",
                   {{"connection", conn.number}, {"reason", m.reason}});
        }
        if (!conn.retiring) {
          conn.retiring = true;
          // A refresh is no failure: the replacement is opened now, before this one is closed.
          // After link_disabled, only the usual backoff once Slack has closed this one.
          if (m.reason != "link_disabled" && !next_attempt) next_attempt = clock.steady_now();
        }
        return type;
      case What::no_envelope_id:
        log.warn("Socket Mode: message without envelope_id: skipped",
                 {{"connection", conn.number}, {"type", type}});
        return type;
      case What::unknown_type:
        // Acked all the same: Slack would keep resending what this version does not handle.
        log.warn("Socket Mode: envelope of an unknown type: acknowledged, ignored",
                 {{"connection", conn.number}, {"type", type}});
        ack(conn, m.envelope_id, std::nullopt);
        return type;
      case What::malformed_payload:
        count("vigie_slack_socket_envelopes_total", "Slack Socket Mode envelopes received, by type",
              {{"type", type}});
        log.warn("Socket Mode: malformed envelope payload: acknowledged, ignored",
                 {{"connection", conn.number}, {"type", type}});
        ack(conn, m.envelope_id, std::nullopt);
        return type;
      case What::request:
        count("vigie_slack_socket_envelopes_total", "Slack Socket Mode envelopes received, by type",
              {{"type", type}});
        break;
    }
    const std::string& envelope_id = m.envelope_id;
    const std::string& event_id = m.event_id;
    const SlackInbound& in = m.inbound;
    if (team_refused(in, {options.team_id, options.metrics}, log, "socket")) {
      // Acked (unacked, Slack would deliver it again and again) with no payload: not acted on.
      ack(conn, envelope_id, std::nullopt);
      return type;
    }
    const bool wants_reply = m.accepts_response_payload;
    const auto receipt = inbound_receipt(in);
    const std::optional<json> reply = wants_reply ? receipt.payload : std::nullopt;
    // A redelivery of what is already stored: acknowledged, not redone.
    if (envelopes_seen.contains(envelope_id) ||
        (!event_id.empty() && events_seen.contains(event_id))) {
      log.debug("Socket Mode: redelivered envelope acknowledged",
                {{"connection", conn.number}, {"retry_attempt", in.retry_num}});
      ack(conn, envelope_id, reply);
      return type;
    }
    auto events = inbound_events(in, clock.system_now());
    if (!events.empty() && !sink(std::move(events))) {
      // Not acked: Slack delivers it again, and the events' ids deduplicate whatever was stored.
      update([](SocketModeStatus& s) { ++s.envelopes_not_stored; });
      log.warn("Socket Mode: envelope not stored: not acknowledged, Slack will deliver it again",
               {{"connection", conn.number}, {"type", type}});
      return type;
    }
    envelopes_seen.insert(envelope_id);
    if (!event_id.empty()) events_seen.insert(event_id);
    ack(conn, envelope_id, reply);
    return type;
  }

  void read_all() {
    const auto slice = std::max(
        Duration{10}, options.read_slice /
                          static_cast<Duration::rep>(std::max<std::size_t>(1, connections.size())));
    for (auto& c : connections) {
      if (stopping) break;
      auto msg = c.ws->read(slice);
      if (!msg) {
        if (!c.retiring) {
          log.warn("Socket Mode connection lost",
                   {{"connection", c.number}, {"error", msg.error().message}});
          count("vigie_slack_socket_drops_total",
                "Slack Socket Mode connections lost without being replaced first");
        } else {
          log.debug("Socket Mode: old connection closed", {{"connection", c.number}});
        }
        last_drop = msg.error().message;
        c.ws.reset();
        continue;
      }
      if (*msg) {
        handle_message(c, **msg);
        // Still talking: the old connection drains a while longer.
        if (c.close_at) c.close_at = clock.steady_now() + options.drain;
      }
    }
    connections.erase(std::remove_if(connections.begin(), connections.end(),
                                     [](const Connection& c) { return !c.ws; }),
                      connections.end());
    // Nothing current left and nothing planned: back off before trying again.
    if (!last_drop.empty() && !has_current() && !next_attempt)
      schedule_retry("connection lost: " + last_drop);
    last_drop.clear();
  }

  void close_drained() {
    const SteadyPoint now = clock.steady_now();
    for (auto& c : connections) {
      if (c.close_at && now >= *c.close_at) {
        log.info("Socket Mode: old connection closed after its replacement",
                 {{"connection", c.number}});
        c.ws->close();
        c.ws.reset();
      }
    }
    connections.erase(std::remove_if(connections.begin(), connections.end(),
                                     [](const Connection& c) { return !c.ws; }),
                      connections.end());
  }

  void run() {
    next_attempt = clock.steady_now();
    while (!stopping) {
      try {
        if (next_attempt && clock.steady_now() >= *next_attempt) attempt();
        close_drained();
        publish_connected();
        if (!connections.empty()) {
          read_all();
          continue;
        }
        // Nothing open: wait for the next attempt, re-reading the clock often (a FakeClock moves
        // without telling anyone).
        Duration wait = options.read_slice;
        if (next_attempt) {
          wait =
              std::clamp(std::chrono::duration_cast<Duration>(*next_attempt - clock.steady_now()),
                         Duration{0}, options.read_slice);
        }
        std::unique_lock lock(wait_mutex);
        wake.wait_for(lock, wait, [&] { return stopping.load(); });
      } catch (const std::exception& e) {
        // Nothing escapes the thread: drop what is open and start again after a backoff.
        log.error("Socket Mode loop failed", {{"error", e.what()}});
        connections.clear();
        if (!next_attempt) schedule_retry(std::string("internal error: ") + e.what());
      }
    }
    for (auto& c : connections) {
      if (c.ws) c.ws->close();
    }
    connections.clear();
    publish_connected();
    update([](SocketModeStatus& s) {
      s.state = "stopped";
      s.next_attempt.reset();
    });
  }
};

SocketMessage parse_socket_message(const std::string& text) {
  SocketMessage m;
  if (json_nesting_depth(text) > kMaxJsonDepth) return m;
  const auto msg = json::parse(text, nullptr, false);
  if (msg.is_discarded() || !msg.is_object()) return m;
  m.type = str(msg, "type");
  if (m.type == "hello") {
    m.what = SocketMessage::What::hello;
    if (auto n = msg.find("num_connections"); n != msg.end() && n->is_number_integer())
      m.num_connections = n->get<int>();
    const auto info = msg.find("debug_info");
    if (info != msg.end() && info->is_object()) {
      if (auto t = info->find("approximate_connection_time");
          t != info->end() && t->is_number_integer())
        m.approximate_connection_time = t->get<std::int64_t>();
    }
    return m;
  }
  if (m.type == "disconnect") {
    m.what = SocketMessage::What::disconnect;
    m.reason = str(msg, "reason");
    return m;
  }
  m.envelope_id = str(msg, "envelope_id");
  if (m.envelope_id.empty()) {
    m.what = SocketMessage::What::no_envelope_id;
    return m;
  }
  if (m.type == "events_api") {
    m.inbound.kind = SlackInboundKind::events_api;
  } else if (m.type == "slash_commands") {
    m.inbound.kind = SlackInboundKind::slash_command;
  } else if (m.type == "interactive") {
    m.inbound.kind = SlackInboundKind::interactive;
  } else {
    m.what = SocketMessage::What::unknown_type;
    return m;
  }
  m.inbound.payload = msg.contains("payload") ? msg["payload"] : json::object();
  if (auto r = msg.find("retry_attempt"); r != msg.end() && r->is_number_integer())
    m.inbound.retry_num = r->get<int>();
  if (auto a = msg.find("accepts_response_payload"); a != msg.end() && a->is_boolean())
    m.accepts_response_payload = a->get<bool>();
  if (!m.inbound.payload.is_object() || (m.inbound.kind == SlackInboundKind::slash_command &&
                                         !m.inbound.payload.contains("command"))) {
    m.what = SocketMessage::What::malformed_payload;
    return m;
  }
  if (m.inbound.kind == SlackInboundKind::events_api)
    m.event_id = str(m.inbound.payload, "event_id");
  m.what = SocketMessage::What::request;
  return m;
}

SocketModeClient::SocketModeClient(SocketModeOptions options, net::HttpClient& http, Clock& clock,
                                   Logger log, SocketModeSink sink,
                                   std::function<double()> random01)
    : impl_(std::make_unique<Impl>(std::move(options), http, clock, std::move(log), std::move(sink),
                                   std::move(random01))) {}

SocketModeClient::~SocketModeClient() { stop(); }

void SocketModeClient::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->update([](SocketModeStatus& s) { s.state = "connecting"; });
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void SocketModeClient::stop() {
  {
    std::lock_guard lock(impl_->wait_mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

SocketModeStatus SocketModeClient::status() const {
  std::lock_guard lock(impl_->status_mutex);
  return impl_->st;
}

std::string describe(const SocketModeStatus& s, SteadyPoint now) {
  std::string out = s.state;
  if (s.state == "connected") {
    out += " (" + std::to_string(s.open_connections) +
           (s.open_connections == 1 ? " connection" : " connections");
  } else {
    out += " (" + std::to_string(s.failures) + " failed attempts";
    if (s.next_attempt) {
      out += ", next in " +
             format_duration(std::max(Duration{0},
                                      std::chrono::duration_cast<Duration>(*s.next_attempt - now)));
    }
  }
  out += ", " + std::to_string(s.reconnects) + " reconnects, " + std::to_string(s.envelopes_acked) +
         " envelopes acked)";
  if (!s.last_error.empty() && s.state != "connected") out += "; last error: " + s.last_error;
  return out;
}

}  // namespace vigie::chat
