// [collectors.<name>] type = "newrelic": polls REST v2 alerts_violations.json (open and recently
// closed violations, Link rel="next" pagination, epoch-ms times) and applications.json (health
// and summary numbers), and runs the NRQL queries declared as [[collectors.<name>.query]] through
// NerdGraph on their own `every` (REST v2 ends on 2027-07-31; NRQL is the path that stays).
// Wire formats: api-notes section 1.
//
// The cursor is a JSON object (format version "v": 1), bounded in size:
//   last_cycle  ctx.now (ms) of the last violation cycle that completed: the next cycle lists
//               violations created since last_cycle - kOverlap to catch those that opened and
//               closed between two polls
//   open        {id: opened_at ms} violations whose open event was sent and no closing yet
//   closed      {id: opened_at ms} violations whose closing event was sent, kept while the
//               "recent" listing can still return them (opened_at >= last_cycle - kOverlap)
//   queries     {name: ms} when each NRQL query last ran (a query is due `every` after it)
//   scan        a violation cycle still in progress because it reached max_pages: its phase
//               ("open": only_open=true, then "recent": only_open=false&start_date=since), the
//               next page's URL, the cycle's start, `since`, and the ids seen open so far
// `open` and `closed` hold at most kMaxTracked ids each (the oldest go first); `seen` is bounded
// by the open violations NewRelic lists.
//
// One poll starts a cycle — applications, due NRQL queries, then the open listing — or continues
// the cycle in `scan`. A violation that was open and is missing from a complete open listing has
// closed: the "recent" listing (reaching back to its opened_at) finds its closed_at; if NewRelic
// no longer lists it at all, it closes at the poll's time with `closed_at_estimated = true`.
// Any failed request fails the whole poll: nothing is emitted and the cursor stays, so the next
// poll repeats it (event ids make the repeat harmless).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <map>
#include <set>
#include <variant>

#include "vigie/collectors/collector.h"
#include "vigie/collectors/kinds.h"
#include "vigie/net/url.h"

namespace vigie::collectors {
namespace {

using nlohmann::json;

// How far before the last cycle the "recent" listing reaches: clock skew and NewRelic's own delay
// between a violation opening and it being listed.
constexpr Duration kOverlap{10 * 60'000};
constexpr std::size_t kMaxTracked = 5'000;
constexpr std::size_t kMaxSeen = 50'000;
// A 429 without Retry-After (NewRelic documents no rate-limit header for REST v2 or NerdGraph).
constexpr Duration kDefaultRateLimitWait{60'000};
constexpr std::string_view kNrqlQuery =
    "query($accountId: Int!, $nrql: Nrql!) { actor { account(id: $accountId) { nrql(query: $nrql) "
    "{ results } } } }";

constexpr std::array<config::OptionSpec, 3> kQueryOptions{{
    {"name", config::OptionType::string, "", true,
     "The query's name: the `query` attr of its events"},
    {"nrql", config::OptionType::string, "", true,
     "The NRQL text; name columns with AS for readable attrs"},
    {"every", config::OptionType::duration, "", false,
     "How often it runs (default: the collector's interval)"},
}};
constexpr config::OptionTable kQueryTable{"newrelic.query", "One NRQL query", kQueryOptions};

struct Query {
  std::string name, nrql;
  Duration every{};
};

struct Scan {
  std::string phase;  // "open" | "recent"
  std::string next;   // URL of the next page
  std::int64_t started = 0;
  std::int64_t since = 0;
  std::set<std::int64_t> seen;
};

struct State {
  std::optional<std::int64_t> last_cycle;
  std::map<std::int64_t, std::int64_t> open, closed;
  std::map<std::string, std::int64_t> query_runs;
  std::optional<Scan> scan;
};

json ids_to_json(const std::map<std::int64_t, std::int64_t>& m) {
  json out = json::object();
  for (const auto& [id, at] : m) out[std::to_string(id)] = at;
  return out;
}

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string encode(const State& s) {
  json j{{"v", 1},
         {"open", ids_to_json(s.open)},
         {"closed", ids_to_json(s.closed)},
         {"queries", s.query_runs}};
  if (s.last_cycle) j["last_cycle"] = *s.last_cycle;
  if (s.scan) {
    j["scan"] = {{"phase", s.scan->phase},
                 {"next", s.scan->next},
                 {"started", s.scan->started},
                 {"since", s.scan->since},
                 {"seen", s.scan->seen}};
  }
  return j.dump();
}

// Throws on a cursor of another shape (caught by the caller, which starts afresh).
State decode(const std::string& text) {
  const json j = json::parse(text);
  if (j.value("v", 0) != 1) throw std::runtime_error("unknown cursor version");
  State s;
  if (j.contains("last_cycle")) s.last_cycle = j.at("last_cycle").get<std::int64_t>();
  for (const char* key : {"open", "closed"}) {
    auto& m = std::string_view(key) == "open" ? s.open : s.closed;
    for (const auto& [id, at] : j.at(key).items()) {
      auto v = to_int(id);
      if (!v) throw std::runtime_error("bad violation id in cursor");
      m[*v] = at.get<std::int64_t>();
    }
  }
  s.query_runs = j.at("queries").get<std::map<std::string, std::int64_t>>();
  if (j.contains("scan")) {
    const auto& sc = j.at("scan");
    Scan scan;
    scan.phase = sc.at("phase").get<std::string>();
    scan.next = sc.at("next").get<std::string>();
    scan.started = sc.at("started").get<std::int64_t>();
    scan.since = sc.at("since").get<std::int64_t>();
    scan.seen = sc.at("seen").get<std::set<std::int64_t>>();
    if (scan.phase != "open" && scan.phase != "recent") throw std::runtime_error("bad scan phase");
    s.scan = std::move(scan);
  }
  return s;
}

// Drops the entries with the oldest opened_at beyond `max`.
void cap(std::map<std::int64_t, std::int64_t>& m, std::size_t max) {
  if (m.size() <= max) return;
  std::vector<std::pair<std::int64_t, std::int64_t>> by_age;  // (opened_at, id)
  for (const auto& [id, at] : m) by_age.emplace_back(at, id);
  std::sort(by_age.begin(), by_age.end());
  for (std::size_t i = 0; i + max < by_age.size(); ++i) m.erase(by_age[i].second);
}

std::optional<std::int64_t> int_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number_integer() || it->is_number_unsigned()) return it->get<std::int64_t>();
  if (it->is_number_float()) return static_cast<std::int64_t>(it->get<double>());
  return std::nullopt;
}

void copy_string(const json& from, const char* key, json& to, const char* as = nullptr) {
  auto it = from.find(key);
  if (it != from.end() && it->is_string()) to[as ? as : key] = *it;
}

void copy_number(const json& from, const char* key, json& to, const std::string& as) {
  auto it = from.find(key);
  if (it != from.end() && it->is_number()) to[as] = *it;
}

// An NRQL row's columns as attrs a rule can address: names made of [A-Za-z0-9_-] (NewRelic names
// an unaliased aggregate "average.duration"), nested objects (percentile) flattened with '_'.
void flatten_row(const json& value, const std::string& prefix, json& out, int depth = 0) {
  for (const auto& [key, v] : value.items()) {
    std::string name = prefix.empty() ? std::string() : prefix + "_";
    for (char c : key)
      name += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') ? c : '_';
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) || name[0] == '-')
      name = "_" + name;
    if (v.is_object() && depth < 3) {
      flatten_row(v, name, out, depth + 1);
    } else if (!v.is_null()) {
      out[name] = v;
    }
  }
}

class NewRelicCollector final : public Collector {
 public:
  NewRelicCollector(std::string name, net::Url base, net::Url graphql, std::string key,
                    std::string key_header, std::optional<std::int64_t> account, bool violations,
                    bool applications, std::int64_t max_pages, Duration interval,
                    std::vector<Query> queries, net::HttpClient& http, Logger log)
      : name_(std::move(name)),
        base_(std::move(base)),
        graphql_(std::move(graphql)),
        key_(std::move(key)),
        key_header_(std::move(key_header)),
        account_(account),
        violations_(violations),
        applications_(applications),
        max_pages_(max_pages),
        interval_(interval),
        queries_(std::move(queries)),
        http_(http),
        log_(std::move(log)) {}

  PollResult poll(const PollContext& ctx) override {
    try {
      return poll_inner(ctx);
    } catch (const std::exception& e) {
      // A JSON value of an unexpected type deep in a body: the body was not what NewRelic
      // documents.
      return failure(PollStatus::retry,
                     std::string("NewRelic answered an unexpected body: ") + e.what());
    }
  }

 private:
  struct Page {
    json body;
    std::optional<std::string> next;
  };
  // A failed request, as the poll's result.
  struct Failed {
    PollResult result;
  };

  static PollResult failure(PollStatus status, std::string error, Duration wait = Duration{0}) {
    PollResult r;
    r.status = status;
    r.error = std::move(error);
    r.retry_after = wait;
    return r;
  }

  PollResult poll_inner(const PollContext& ctx) {
    State state;
    if (ctx.cursor) {
      try {
        state = decode(*ctx.cursor);
      } catch (const std::exception& e) {
        log_.warn("newrelic cursor unreadable: starting afresh",
                  {{"collector", name_}, {"error", e.what()}});
        state = State{};
      }
    }
    const std::int64_t now = to_unix_ms(ctx.now);
    PollResult out;

    if (!state.scan) {
      if (applications_) {
        if (auto f = poll_applications(ctx.now, out.events)) return std::move(f->result);
      }
      for (const auto& q : queries_) {
        if (!due(q, state, now)) continue;
        if (auto f = run_query(q, ctx.now, out.events)) return std::move(f->result);
        state.query_runs[q.name] = now;
      }
      // Queries removed from the config leave the cursor.
      for (auto it = state.query_runs.begin(); it != state.query_runs.end();) {
        const bool known = std::any_of(queries_.begin(), queries_.end(),
                                       [&](const Query& q) { return q.name == it->first; });
        it = known ? std::next(it) : state.query_runs.erase(it);
      }
      if (violations_) {
        Scan scan;
        scan.phase = "open";
        scan.started = now;
        auto url = net::join(base_, "v2/alerts_violations.json");
        url.target += "?only_open=true";
        scan.next = url.to_string();
        state.scan = std::move(scan);
      } else {
        state.last_cycle = now;
      }
    }

    if (state.scan) {
      if (auto f = scan_violations(state, ctx.now, out.events)) return std::move(f->result);
      out.more = state.scan.has_value();
    }
    out.cursor = encode(state);
    return out;
  }

  // A query is due `every` after its last run; half an interval early counts, so the
  // scheduler's jitter never makes a query with every == interval skip a poll.
  bool due(const Query& q, const State& s, std::int64_t now) const {
    auto it = s.query_runs.find(q.name);
    if (it == s.query_runs.end()) return true;
    const std::int64_t slack = std::min(q.every, interval_).count() / 2;
    return now - it->second >= q.every.count() - slack || now < it->second;
  }

  net::Headers rest_headers() const {
    net::Headers h;
    h[key_header_] = key_;
    h["Accept"] = "application/json";
    return h;
  }

  // One request: a JSON body, or the poll's failure. `what` names the endpoint in errors.
  std::variant<Page, Failed> request(net::ClientRequest req, const std::string& what) {
    auto resp = http_.send(req);
    if (!resp) {
      const auto kind = resp.error().retryable() ? PollStatus::retry : PollStatus::error;
      return Failed{failure(kind, "NewRelic " + what + ": " +
                                      std::string(net::client_error_name(resp.error().kind)) +
                                      ": " + resp.error().message)};
    }
    const int status = resp->status;
    if (status == 429) {
      Duration wait = kDefaultRateLimitWait;
      if (auto ra = resp->header("Retry-After")) {
        if (auto secs = to_int(*ra); secs && *secs >= 0) wait = saturating_seconds(*secs);
      }
      return Failed{failure(PollStatus::rate_limited,
                            "NewRelic " + what + ": rate limited (HTTP 429)", wait)};
    }
    if (status < 200 || status >= 300) {
      std::string detail;
      try {
        // NewRelic REST errors: {"error":{"title":"..."}}.
        const json j = json::parse(resp->body);
        if (j.contains("error") && j["error"].is_object()) detail = j["error"].value("title", "");
      } catch (const std::exception&) {
      }
      std::string msg = "NewRelic " + what + ": HTTP " + std::to_string(status);
      if (!detail.empty()) msg += " (" + detail.substr(0, 200) + ")";
      if (status == 401 || status == 403) {
        msg += ": the API key was refused; check api_key and key_header";
        return Failed{failure(PollStatus::error, msg)};
      }
      const bool transient = status >= 500 || status == 408;
      return Failed{failure(transient ? PollStatus::retry : PollStatus::error, msg)};
    }
    Page page;
    try {
      page.body = json::parse(resp->body);
    } catch (const json::parse_error& e) {
      // A truncated or garbled body: often a proxy or a transient upstream fault, so retried.
      return Failed{failure(PollStatus::retry,
                            "NewRelic " + what + ": malformed JSON (HTTP " +
                                std::to_string(status) + ", " + std::to_string(resp->body.size()) +
                                " bytes, error at byte " + std::to_string(e.byte) + ")")};
    }
    if (!page.body.is_object()) {
      return Failed{
          failure(PollStatus::retry, "NewRelic " + what + ": the body is not a JSON object")};
    }
    if (auto link = resp->header("Link")) {
      if (auto next = link_with_rel(*link, "next")) page.next = *next;
    }
    return page;
  }

  // The URL of a Link rel="next", refused when it leaves the host the key was meant for.
  std::variant<net::Url, Failed> follow(const std::string& next, const net::Url& from,
                                        const std::string& what) {
    std::optional<net::Url> url;
    if (!next.empty() && next.front() == '/') {
      url = from;
      url->target = next;
    } else {
      url = net::parse_url(next);
    }
    if (!url || url->scheme != from.scheme || url->host != from.host || url->port != from.port) {
      return Failed{failure(PollStatus::error,
                            "NewRelic " + what +
                                ": the pagination link leaves the configured host: not followed "
                                "(the API key would go with it)")};
    }
    return *url;
  }

  std::optional<Failed> poll_applications(TimePoint now, std::vector<bus::Event>& events) {
    const std::string what = "applications.json";
    net::Url url = net::join(base_, "v2/applications.json");
    for (std::int64_t page = 0;; ++page) {
      if (page == max_pages_) {
        log_.warn("newrelic applications beyond max_pages not polled",
                  {{"collector", name_}, {"max_pages", max_pages_}});
        return std::nullopt;
      }
      net::ClientRequest req;
      req.url = url;
      req.headers = rest_headers();
      auto r = request(std::move(req), what);
      if (auto* f = std::get_if<Failed>(&r)) return std::move(*f);
      auto& p = std::get<Page>(r);
      auto apps = p.body.find("applications");
      if (apps == p.body.end() || !apps->is_array()) {
        return Failed{failure(PollStatus::retry,
                              "NewRelic " + what + ": no \"applications\" array in the body")};
      }
      for (const auto& a : *apps) {
        if (auto e = app_event(a, now)) events.push_back(std::move(*e));
      }
      if (!p.next) return std::nullopt;
      auto u = follow(*p.next, url, what);
      if (auto* f = std::get_if<Failed>(&u)) return std::move(*f);
      url = std::get<net::Url>(u);
    }
  }

  std::optional<bus::Event> app_event(const json& a, TimePoint now) {
    auto id = a.is_object() ? int_field(a, "id") : std::nullopt;
    if (!id) {
      log_.warn("newrelic application without an id skipped", {{"collector", name_}});
      return std::nullopt;
    }
    bus::Event e;
    // One sample per application and poll: a `for` rule needs each poll's sample as a new event.
    e.id =
        "newrelic:app_health:" + std::to_string(*id) + ":" + std::to_string(to_unix_ms(now) / 1000);
    e.source = "newrelic";
    e.kind = "newrelic.app_health";
    e.time = now;
    json& at = e.attrs;
    at["app_id"] = *id;
    copy_string(a, "name", at, "app");
    copy_string(a, "language", at);
    copy_string(a, "health_status", at);
    copy_string(a, "last_reported_at", at);
    if (auto r = a.find("reporting"); r != a.end() && r->is_boolean()) at["reporting"] = *r;
    if (auto s = a.find("application_summary"); s != a.end() && s->is_object()) {
      for (const auto& [k, v] : s->items()) {
        if (v.is_number()) at[k] = v;
      }
    }
    if (auto s = a.find("end_user_summary"); s != a.end() && s->is_object()) {
      for (const auto& [k, v] : s->items()) {
        if (v.is_number()) at["end_user_" + k] = v;
      }
    }
    if (account_) at["account_id"] = *account_;
    at["collector"] = name_;
    return e;
  }

  std::optional<Failed> run_query(const Query& q, TimePoint now, std::vector<bus::Event>& events) {
    const std::string what = "NerdGraph query '" + q.name + "'";
    net::ClientRequest req;
    req.method = "POST";
    req.url = graphql_;
    req.headers["API-Key"] = key_;
    req.headers["Content-Type"] = "application/json";
    req.body =
        json{{"query", kNrqlQuery}, {"variables", {{"accountId", *account_}, {"nrql", q.nrql}}}}
            .dump();
    auto r = request(std::move(req), what);
    if (auto* f = std::get_if<Failed>(&r)) return std::move(*f);
    const json& body = std::get<Page>(r).body;
    if (auto errs = body.find("errors"); errs != body.end() && errs->is_array() && !errs->empty()) {
      // A GraphQL error (bad NRQL, unknown account) is this query's, not the poll's: the other
      // sources go on, the query waits for its next turn, and the log says why.
      std::string msg;
      for (const auto& e : *errs) {
        if (!msg.empty()) msg += "; ";
        msg += e.is_object() ? e.value("message", std::string("?")) : std::string("?");
      }
      log_.warn("newrelic NRQL query failed",
                {{"collector", name_}, {"query", q.name}, {"error", msg.substr(0, 500)}});
      return std::nullopt;
    }
    const json* results = nullptr;
    try {
      results = &body.at("data").at("actor").at("account").at("nrql").at("results");
    } catch (const std::exception&) {
    }
    if (!results || !results->is_array()) {
      return Failed{failure(PollStatus::retry,
                            "NewRelic " + what + ": no data.actor.account.nrql.results array")};
    }
    std::size_t row_index = 0;
    for (const auto& row : *results) {
      const std::size_t i = row_index++;
      if (!row.is_object()) continue;
      bus::Event e;
      e.id = "newrelic:nrql:" + name_ + ":" + q.name + ":" + std::to_string(to_unix_ms(now)) + ":" +
             std::to_string(i);
      e.source = "newrelic";
      e.kind = "newrelic.nrql";
      e.time = now;
      if (auto end = int_field(row, "endTimeSeconds")) e.time = TimePoint{saturating_seconds(*end)};
      flatten_row(row, "", e.attrs);
      e.attrs["query"] = q.name;
      e.attrs["row"] = i;
      if (account_) e.attrs["account_id"] = *account_;
      e.attrs["collector"] = name_;
      events.push_back(std::move(e));
    }
    return std::nullopt;
  }

  bus::Event violation_event(const json& v, std::int64_t id, bool closed, TimePoint now) {
    bus::Event e;
    e.id = "newrelic:violation:" + std::to_string(id) + (closed ? ":closed" : ":open");
    e.source = "newrelic";
    e.kind = "newrelic.violation";
    json& at = e.attrs;
    at["violation_id"] = id;
    at["status"] = closed ? "closed" : "open";
    for (const char* k : {"label", "policy_name", "condition_name", "priority"})
      copy_string(v, k, at);
    copy_number(v, "duration", at, "duration");
    const auto opened = int_field(v, "opened_at");
    const auto closed_at = int_field(v, "closed_at");
    if (opened) at["opened_at"] = format_rfc3339(from_unix_ms(*opened));
    if (closed && closed_at) at["closed_at"] = format_rfc3339(from_unix_ms(*closed_at));
    if (auto ent = v.find("entity"); ent != v.end() && ent->is_object()) {
      json entity = json::object();
      for (const char* k : {"name", "product", "type"}) copy_string(*ent, k, entity);
      for (const char* k : {"id", "group_id"}) copy_number(*ent, k, entity, k);
      at["entity"] = entity;
      // APM violations are about an application: `app` is the name rules group by everywhere.
      if (entity.value("type", "") == "Application" || entity.value("product", "") == "Apm") {
        copy_string(*ent, "name", at, "app");
      }
    }
    if (auto links = v.find("links"); links != v.end() && links->is_object()) {
      for (const char* k : {"policy_id", "condition_id", "incident_id"})
        copy_number(*links, k, at, k);
    }
    if (account_) at["account_id"] = *account_;
    at["collector"] = name_;
    e.time = closed ? (closed_at ? from_unix_ms(*closed_at) : now)
                    : (opened ? from_unix_ms(*opened) : now);
    return e;
  }

  // The violation no longer listed at all: it closed at some point before `now`.
  bus::Event estimated_close(std::int64_t id, std::int64_t opened_at, TimePoint now) {
    json v{{"opened_at", opened_at}};
    bus::Event e = violation_event(v, id, true, now);
    e.attrs["closed_at"] = format_rfc3339(now);
    e.attrs["closed_at_estimated"] = true;
    return e;
  }

  void handle_violation(const json& v, State& s, TimePoint now, std::vector<bus::Event>& events) {
    auto id = v.is_object() ? int_field(v, "id") : std::nullopt;
    if (!id) {
      log_.warn("newrelic violation without an id skipped", {{"collector", name_}});
      return;
    }
    const std::int64_t opened = int_field(v, "opened_at").value_or(to_unix_ms(now));
    const bool closed = int_field(v, "closed_at").has_value();
    if (!closed) {
      s.scan->seen.insert(*id);
      if (!s.open.count(*id) && !s.closed.count(*id)) {
        events.push_back(violation_event(v, *id, false, now));
        s.open[*id] = opened;
      }
      return;
    }
    if (s.closed.count(*id)) return;
    // Opened and closed between two polls: the open event first, so the alert both fires and
    // resolves rather than the violation going unseen.
    if (!s.open.count(*id)) events.push_back(violation_event(v, *id, false, now));
    events.push_back(violation_event(v, *id, true, now));
    s.open.erase(*id);
    s.closed[*id] = opened;
  }

  std::string recent_url(std::int64_t since) const {
    auto url = net::join(base_, "v2/alerts_violations.json");
    // start_date: "created after", ISO 8601; whole seconds, rounded down so nothing is missed.
    const TimePoint t = from_unix_ms(since - ((since % 1000) + 1000) % 1000);
    url.target += "?only_open=false&start_date=" + net::url_encode(format_rfc3339(t));
    return url.to_string();
  }

  // Continues state.scan for at most max_pages pages; clears it when the cycle completes.
  std::optional<Failed> scan_violations(State& s, TimePoint now, std::vector<bus::Event>& events) {
    const std::string what = "alerts_violations.json";
    for (std::int64_t pages = 0; pages < max_pages_; ++pages) {
      auto parsed = net::parse_url(s.scan->next);
      if (!parsed)
        return Failed{
            failure(PollStatus::error, "NewRelic " + what + ": bad page URL in the cursor")};
      net::ClientRequest req;
      req.url = *parsed;
      req.headers = rest_headers();
      auto r = request(std::move(req), what);
      if (auto* f = std::get_if<Failed>(&r)) return std::move(*f);
      auto& p = std::get<Page>(r);
      auto list = p.body.find("violations");
      if (list == p.body.end() || !list->is_array()) {
        return Failed{failure(PollStatus::retry,
                              "NewRelic " + what + ": no \"violations\" array in the body")};
      }
      for (const auto& v : *list) handle_violation(v, s, now, events);
      if (s.scan->seen.size() > kMaxSeen) {
        return Failed{failure(PollStatus::error, "NewRelic " + what + ": more than " +
                                                     std::to_string(kMaxSeen) +
                                                     " open violations listed")};
      }
      if (p.next) {
        auto u = follow(*p.next, *parsed, what);
        if (auto* f = std::get_if<Failed>(&u)) return std::move(*f);
        s.scan->next = std::get<net::Url>(u).to_string();
        continue;
      }
      if (s.scan->phase == "open") {
        // The open listing is complete: anything tracked open and not listed has closed.
        std::optional<std::int64_t> since;
        if (s.last_cycle) since = *s.last_cycle - kOverlap.count();
        for (const auto& [id, opened] : s.open) {
          if (!s.scan->seen.count(id)) since = since ? std::min(*since, opened) : opened;
        }
        if (since) {
          s.scan->phase = "recent";
          s.scan->since = *since;
          s.scan->next = recent_url(*since);
          continue;
        }
      } else {
        for (auto it = s.open.begin(); it != s.open.end();) {
          if (s.scan->seen.count(it->first)) {
            ++it;
            continue;
          }
          events.push_back(estimated_close(it->first, it->second, now));
          s.closed[it->first] = it->second;
          it = s.open.erase(it);
        }
      }
      finish_cycle(s);
      return std::nullopt;
    }
    return std::nullopt;  // the page budget is spent: the scan goes on at the next poll (more)
  }

  void finish_cycle(State& s) {
    const std::int64_t started = s.scan->started;
    // Closed violations the next "recent" listing can no longer return are forgotten.
    for (auto it = s.closed.begin(); it != s.closed.end();) {
      it = it->second < started - kOverlap.count() - 1000 ? s.closed.erase(it) : std::next(it);
    }
    if (s.open.size() > kMaxTracked || s.closed.size() > kMaxTracked) {
      log_.warn("newrelic cursor over its bound: the oldest violations are forgotten",
                {{"collector", name_}, {"open", s.open.size()}, {"closed", s.closed.size()}});
    }
    cap(s.open, kMaxTracked);
    cap(s.closed, kMaxTracked);
    s.last_cycle = started;
    s.scan.reset();
  }

  std::string name_;
  net::Url base_, graphql_;
  std::string key_, key_header_;
  std::optional<std::int64_t> account_;
  bool violations_, applications_;
  std::int64_t max_pages_;
  Duration interval_;
  std::vector<Query> queries_;
  net::HttpClient& http_;
  Logger log_;
};

std::string position(const config::SourcePos& p) {
  if (p.file.empty()) return {};
  return p.file + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": ";
}

// [[collectors.<name>.query]] tables, validated like any option table; problems are collected
// into `errors` as "file:line:col: message".
std::vector<Query> read_queries(const config::OptionValues& options, const std::string& collector,
                                Duration interval, std::vector<std::string>& errors) {
  std::vector<Query> out;
  auto node = options.node("query");
  if (!node) return out;
  const std::string where = "[[collectors." + collector + ".query]]";
  std::set<std::string> names;
  for (const auto& item : node->items()) {
    config::Diagnostics d;
    auto v = config::validate_options(*item, kQueryTable, where, d);
    for (const auto& diag : d.items()) errors.push_back(position(diag.pos) + diag.message);
    if (d.has_errors()) continue;
    Query q{v.string("name"), v.string("nrql"), v.duration("every", interval)};
    if (q.name.empty())
      errors.push_back(position(v.pos("name")) + where + ": name must not be empty");
    if (q.nrql.empty())
      errors.push_back(position(v.pos("nrql")) + where + ": nrql must not be empty");
    if (q.every <= Duration{0})
      errors.push_back(position(v.pos("every")) + where + ": every must be positive");
    if (!names.insert(q.name).second) {
      errors.push_back(position(v.pos("name")) + where + ": a second query named '" + q.name + "'");
    }
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace

CollectorFactory newrelic_factory() {
  return [](const CollectorSpec& spec, net::HttpClient& http,
            Logger log) -> tl::expected<std::unique_ptr<Collector>, std::string> {
    const auto& o = spec.options;
    std::vector<std::string> errors;
    auto key = spec.secrets.find("api_key");
    if (key == spec.secrets.end() || key->second.empty()) {
      errors.push_back("[collectors." + spec.name +
                       "]: api_key is required (api_key_env or api_key_file)");
    }
    // "https://api.newrelic.com", with or without a trailing "/v2": the paths add "v2/...".
    std::string base_text = o.string("base_url", "https://api.newrelic.com");
    while (!base_text.empty() && base_text.back() == '/') base_text.pop_back();
    if (base_text.size() >= 3 && base_text.compare(base_text.size() - 3, 3, "/v2") == 0)
      base_text.resize(base_text.size() - 3);
    auto base = net::parse_url(base_text);
    if (!base || (base->scheme != "http" && base->scheme != "https")) {
      errors.push_back(position(o.pos("base_url")) + "base_url: not an http(s) URL");
    }
    std::string graphql_text = o.string("graphql_url");
    if (graphql_text.empty()) graphql_text = base_text + "/graphql";
    auto graphql = net::parse_url(graphql_text);
    if (!graphql || (graphql->scheme != "http" && graphql->scheme != "https")) {
      errors.push_back(position(o.pos("graphql_url")) + "graphql_url: not an http(s) URL");
    }
    const Duration interval = o.duration("interval", Duration{60'000});
    auto queries = read_queries(o, spec.name, interval, errors);
    std::optional<std::int64_t> account;
    if (o.has("account_id")) account = o.integer("account_id");
    if (!queries.empty() && !account) {
      errors.push_back(position(o.table_pos()) + "[collectors." + spec.name +
                       "]: NRQL queries need account_id");
    }
    if (!errors.empty()) {
      std::string msg;
      for (const auto& e : errors) msg += (msg.empty() ? "" : "; ") + e;
      return tl::unexpected(msg);
    }
    const std::int64_t max_pages = std::max<std::int64_t>(1, o.integer("max_pages", 10));
    return std::make_unique<NewRelicCollector>(
        spec.name, *base, *graphql, key->second, o.string("key_header", "Api-Key"), account,
        o.boolean("violations", true), o.boolean("applications", true), max_pages, interval,
        std::move(queries), http, std::move(log));
  };
}

}  // namespace vigie::collectors
