// The Sentry collector: lists an organization's issues (or, by config, each project's through the
// legacy endpoint), follows `Link` pagination while results="true", and reports new issues and
// changes of count, status, level and substatus as `sentry.issue` events. What it last saw of each
// issue travels in the cursor, so a restart compares against the committed state and reports
// nothing twice. Wire format: /work/shared/api-notes.md section 2; user docs:
// docs/collectors.md#sentry.
//
// The cursor (compact JSON, bounded by `max_issues`):
//   {"v":1, "l":<listing number>, "b":1 while a "baseline" first listing runs,
//    "p":[<project index>, "<Sentry page cursor>", "<what is listed>"] while a listing spans
//    several polls (a listing whose query, window or projects changed since starts over),
//    "i":{"<issue id>":[count, status, level, substatus, lastSeen ms, changes, listing, out]}}
// A listing is one pass over every page. An issue the last complete listing did not return (it was
// resolved under `is:unresolved`, or left the time window, or was deleted) is fetched once by id,
// so its resolution is reported too; then it is marked `out` and not expected until it returns.
#include "vigie/collectors/sentry.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>

#include "vigie/net/http.h"
#include "vigie/net/url.h"

namespace vigie::collectors {
namespace {

using nlohmann::json;

constexpr int kCursorVersion = 1;
constexpr std::size_t kMaxLookups = 20;  // issues fetched by id per poll after a listing
constexpr Duration kDefaultRateLimitWait{60'000};
constexpr Duration kMaxRateLimitWait{3'600'000};

// What the cursor remembers of one issue.
struct Seen {
  std::int64_t count = 0;
  std::string status, level, substatus;
  std::int64_t last_seen_ms = 0;
  std::int64_t changes = 0;  // changes reported: a value seen again still gets a new event id
  std::int64_t listing = 0;  // the listing that last returned it
  bool out = false;          // fetched by id after leaving the listing; not expected in it
};

struct State {
  std::int64_t listing = 0;
  bool baseline = false;
  bool in_progress = false;  // a listing continues from `project`/`page`
  std::size_t project = 0;
  std::string page;
  std::string listed;  // what the listing in progress asks for: endpoint, projects, query, window
  std::map<std::string, Seen> issues;
};

std::string jstr(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  return {};
}

std::optional<State> parse_cursor(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  State s;
  try {
    if (j.at("v").get<int>() != kCursorVersion) return std::nullopt;
    s.listing = j.at("l").get<std::int64_t>();
    s.baseline = j.value("b", 0) == 1;
    if (auto p = j.find("p"); p != j.end()) {
      s.in_progress = true;
      s.project = p->at(0).get<std::size_t>();
      s.page = p->at(1).get<std::string>();
      s.listed = p->at(2).get<std::string>();
    }
    for (const auto& [id, a] : j.at("i").items()) {
      Seen e;
      e.count = a.at(0).get<std::int64_t>();
      e.status = a.at(1).get<std::string>();
      e.level = a.at(2).get<std::string>();
      e.substatus = a.at(3).get<std::string>();
      e.last_seen_ms = a.at(4).get<std::int64_t>();
      e.changes = a.at(5).get<std::int64_t>();
      e.listing = a.at(6).get<std::int64_t>();
      e.out = a.at(7).get<int>() == 1;
      s.issues.emplace(id, std::move(e));
    }
  } catch (const json::exception&) {
    return std::nullopt;
  }
  return s;
}

std::string dump_cursor(const State& s) {
  json issues = json::object();
  for (const auto& [id, e] : s.issues) {
    issues[id] = json::array({e.count, e.status, e.level, e.substatus, e.last_seen_ms, e.changes,
                              e.listing, e.out ? 1 : 0});
  }
  json j{{"v", kCursorVersion}, {"l", s.listing}, {"i", std::move(issues)}};
  if (s.baseline) j["b"] = 1;
  if (s.in_progress) j["p"] = json::array({s.project, s.page, s.listed});
  return j.dump();
}

// One issue of a listing or a lookup, as the event reports it.
struct Issue {
  std::string id;
  std::int64_t count = 0;
  std::string status, level, substatus;
  std::optional<TimePoint> first_seen, last_seen;
  json attrs;
};

// Sentry sends `count` as a string ("1337"); a number is accepted too.
std::optional<std::int64_t> parse_count(const json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_unsigned()) return static_cast<std::int64_t>(v.get<std::uint64_t>());
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || n < 0) return std::nullopt;
  return n;
}

tl::expected<Issue, std::string> parse_issue(const json& j, const std::string& organization) {
  if (!j.is_object()) return tl::unexpected(std::string("an issue is not a JSON object"));
  Issue is;
  is.id = jstr(j, "id");
  if (is.id.empty()) return tl::unexpected(std::string("an issue has no id"));
  const auto count = parse_count(j.value("count", json()));
  if (!count) return tl::unexpected("issue " + is.id + " has no count or an unreadable one");
  is.count = *count;
  is.status = jstr(j, "status");
  is.level = jstr(j, "level");
  is.substatus = jstr(j, "substatus");
  const std::string first = jstr(j, "firstSeen"), last = jstr(j, "lastSeen");
  is.first_seen = parse_rfc3339(first);
  is.last_seen = parse_rfc3339(last);
  std::int64_t users = 0;
  if (const auto u = parse_count(j.value("userCount", json()))) users = *u;
  const json project = j.value("project", json::object());
  is.attrs = {{"organization", organization},
              {"project", project.is_object() ? jstr(project, "slug") : std::string()},
              {"project_id", project.is_object() ? jstr(project, "id") : std::string()},
              {"project_name", project.is_object() ? jstr(project, "name") : std::string()},
              {"issue_id", is.id},
              {"short_id", jstr(j, "shortId")},
              {"title", jstr(j, "title")},
              {"culprit", jstr(j, "culprit")},
              {"level", is.level},
              {"status", is.status},
              {"count", is.count},
              {"user_count", users},
              {"permalink", jstr(j, "permalink")},
              {"first_seen", first},
              {"last_seen", last}};
  if (!is.substatus.empty()) is.attrs["substatus"] = is.substatus;
  static constexpr std::pair<const char*, const char*> kOptional[] = {
      {"priority", "priority"},
      {"platform", "platform"},
      {"type", "type"},
      {"issueType", "issue_type"},
      {"issueCategory", "issue_category"}};
  for (const auto& [from, to] : kOptional) {
    if (auto v = jstr(j, from); !v.empty()) is.attrs[to] = v;
  }
  if (auto it = j.find("isUnhandled"); it != j.end() && it->is_boolean())
    is.attrs["is_unhandled"] = *it;
  return is;
}

std::string detail_of(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  std::string d = j.is_object() ? jstr(j, "detail") : std::string();
  if (d.size() > 200) d = d.substr(0, 200) + "...";
  return d;
}

class SentryCollector final : public Collector {
 public:
  SentryCollector(const CollectorSpec& spec, net::Url base, net::HttpClient& http, Logger log)
      : name_(spec.name),
        base_(std::move(base)),
        http_(http),
        log_(std::move(log)),
        token_(spec.secrets.at("token")),
        organization_(spec.options.string("organization")),
        projects_(spec.options.strings("projects")),
        query_(spec.options.string("query")),
        project_endpoint_(spec.options.string("endpoint") == "project"),
        stats_period_(spec.options.string("stats_period")),
        start_(spec.options.string("start")),
        max_pages_(spec.options.integer("max_pages", 10)),
        max_issues_(static_cast<std::size_t>(spec.options.integer("max_issues", 2000))),
        baseline_first_(spec.options.string("first_poll") == "baseline") {
    // Org endpoint: numeric entries go as `project=<id>`; slugs join the search query.
    if (!project_endpoint_) {
      std::vector<std::string> slugs;
      for (const auto& p : projects_) {
        if (!p.empty() &&
            std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          project_ids_.push_back(p);
        } else {
          slugs.push_back(p);
        }
      }
      if (!slugs.empty()) {
        std::string filter = "project:";
        if (slugs.size() == 1) {
          filter += slugs[0];
        } else {
          filter += "[";
          for (std::size_t i = 0; i < slugs.size(); ++i) filter += (i ? "," : "") + slugs[i];
          filter += "]";
        }
        query_ = query_.empty() ? filter : query_ + " " + filter;
      }
    }
    listed_ = std::string(project_endpoint_ ? "project" : "organization") + "|" + query_ + "|" +
              stats_period_ + "|" + start_;
    for (const auto& p : projects_) listed_ += "|" + p;
    // Kept short in the cursor: a hash says "the same listing" well enough.
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : listed_) h = (h ^ c) * 1099511628211ull;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    listed_ = hex;
  }

  PollResult poll(const PollContext& ctx) override {
    ctx_now_ = ctx.now;
    State st;
    if (ctx.cursor) {
      if (auto parsed = parse_cursor(*ctx.cursor)) {
        st = std::move(*parsed);
      } else {
        // Only an older or damaged cursor gets here: start over; event ids keep "new" unique.
        log_.warn("Sentry cursor unreadable: starting a fresh listing", {{"collector", name_}});
        st.baseline = baseline_first_;
      }
    } else {
      st.baseline = baseline_first_;
    }
    // A listing in progress continues only if the config still asks for the same one.
    if (!st.in_progress || st.listed != listed_ ||
        st.project >= std::max<std::size_t>(projects_.size(), 1)) {
      ++st.listing;
      st.in_progress = true;
      st.project = 0;
      st.page.clear();
      st.listed = listed_;
    }

    PollResult out;
    bool complete = false;
    for (std::int64_t pages = 0;;) {
      const std::string& project = project_endpoint_ ? projects_.at(st.project) : std::string();
      auto resp = get(list_url(project, st.page, ctx.now));
      if (!resp.ok) return std::move(resp.failure);
      const json body = json::parse(resp.body, nullptr, false);
      if (!body.is_array()) {
        return failed(PollStatus::retry,
                      "malformed response from Sentry (" + where(project) + "): " +
                          (body.is_discarded() ? "not valid JSON" : "not a JSON array of issues"));
      }
      std::vector<Issue> issues;
      for (const auto& item : body) {
        auto is = parse_issue(item, organization_);
        if (!is)
          return failed(PollStatus::retry,
                        "malformed response from Sentry (" + where(project) + "): " + is.error());
        issues.push_back(std::move(*is));
      }
      for (auto& is : issues) observe(st, std::move(is), /*listed=*/true, ctx.now, out.events);
      ++pages;
      const auto next = link_with_rel(resp.link, "next", /*require_results_true=*/true);
      std::string next_page = next ? cursor_param(*next) : std::string();
      // A next link without a cursor, or the same cursor again, would never end: the listing ends.
      if (next && (next_page.empty() || next_page == st.page)) {
        log_.warn("Sentry pagination link without a new cursor: listing ends here",
                  {{"collector", name_}});
      }
      if (next && !next_page.empty() && next_page != st.page) {
        st.page = std::move(next_page);
      } else if (project_endpoint_ && st.project + 1 < projects_.size()) {
        ++st.project;
        st.page.clear();
      } else {
        complete = true;
        break;
      }
      // Out of budget, or out of requests in this rate-limit window: continue later.
      if (resp.remaining == 0) break;
      if (pages >= max_pages_) {
        out.more = true;
        break;
      }
    }

    if (complete) {
      std::vector<std::string> gone;
      for (const auto& [id, e] : st.issues) {
        if (e.listing != st.listing && !e.out) gone.push_back(id);
      }
      // The most recently active first: the ones whose fate a rule most likely waits for.
      std::sort(gone.begin(), gone.end(), [&](const auto& a, const auto& b) {
        return st.issues[a].last_seen_ms > st.issues[b].last_seen_ms;
      });
      if (gone.size() > kMaxLookups) {
        gone.resize(kMaxLookups);
        out.more = true;  // the next listing looks up the rest
      }
      for (const auto& id : gone) {
        auto resp = get(issue_url(id));
        if (!resp.ok) {
          if (resp.status == 404 || resp.status == 410) {
            st.issues.erase(id);  // deleted or merged into another issue
            continue;
          }
          return std::move(resp.failure);
        }
        const json body = json::parse(resp.body, nullptr, false);
        auto is = parse_issue(body, organization_);
        if (!is)
          return failed(PollStatus::retry,
                        "malformed response from Sentry (issue " + id + "): " + is.error());
        observe(st, std::move(*is), /*listed=*/false, ctx.now, out.events);
        st.issues[id].out = true;
      }
      st.in_progress = false;
      st.page.clear();
      st.listed.clear();
      st.project = 0;
      st.baseline = false;
    }
    evict(st);
    out.cursor = dump_cursor(st);
    return out;
  }

 private:
  struct Response {
    bool ok = false;
    int status = 0;
    std::string body, link;
    std::optional<std::int64_t> remaining;
    PollResult failure;
  };

  static PollResult failed(PollStatus status, std::string error) {
    PollResult r;
    r.status = status;
    r.error = std::move(error);
    return r;
  }

  std::string where(const std::string& project) const {
    return project_endpoint_ ? "project " + project : "organization " + organization_;
  }

  net::Url list_url(const std::string& project, const std::string& page, TimePoint now) const {
    const std::string path =
        project_endpoint_ ? "api/0/projects/" + net::url_encode(organization_) + "/" +
                                net::url_encode(project) + "/issues/"
                          : "api/0/organizations/" + net::url_encode(organization_) + "/issues/";
    net::Url url = net::join(base_, path);
    // `query=` is always sent: the project endpoint's default is is:unresolved, not "all".
    std::string q = "query=" + net::url_encode(query_);
    for (const auto& id : project_ids_) q += "&project=" + id;
    if (!start_.empty() && !project_endpoint_) {
      q += "&start=" + net::url_encode(start_) + "&end=" + net::url_encode(format_rfc3339(now));
    } else {
      q += "&statsPeriod=" + net::url_encode(stats_period_);
    }
    if (!page.empty()) q += "&cursor=" + net::url_encode(page);
    url.target += "?" + q;
    return url;
  }

  net::Url issue_url(const std::string& id) const {
    return net::join(base_, project_endpoint_
                                ? "api/0/issues/" + net::url_encode(id) + "/"
                                : "api/0/organizations/" + net::url_encode(organization_) +
                                      "/issues/" + net::url_encode(id) + "/");
  }

  static std::string cursor_param(const std::string& url) {
    const auto q = url.find('?');
    if (q == std::string::npos) return {};
    std::string_view rest(url);
    rest.remove_prefix(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view part = rest.substr(0, amp);
      if (part.rfind("cursor=", 0) == 0) return net::url_decode(part.substr(7));
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
    return {};
  }

  // One GET; any answer but 2xx becomes the poll's failure (the token never appears in it).
  Response get(const net::Url& url) const {
    Response r;
    net::ClientRequest req;
    req.url = url;
    req.headers["Authorization"] = "Bearer " + token_;
    req.headers["Accept"] = "application/json";
    const std::string path = url.target.substr(0, url.target.find('?'));
    auto resp = http_.send(req);
    if (!resp) {
      r.failure = failed(resp.error().retryable() ? PollStatus::retry : PollStatus::error,
                         "Sentry request " + path +
                             " failed: " + std::string(net::client_error_name(resp.error().kind)) +
                             ": " + resp.error().message);
      return r;
    }
    r.status = resp->status;
    if (auto v = resp->header("X-Sentry-Rate-Limit-Remaining")) {
      std::int64_t n = 0;
      if (std::from_chars(v->data(), v->data() + v->size(), n).ec == std::errc()) r.remaining = n;
    }
    if (resp->status >= 200 && resp->status < 300) {
      r.ok = true;
      r.body = std::move(resp->body);
      r.link = resp->header("Link").value_or("");
      return r;
    }
    const std::string detail = detail_of(resp->body);
    const std::string said = "Sentry answered " + std::to_string(resp->status) + " on " + path +
                             (detail.empty() ? std::string() : ": " + detail);
    if (resp->status == 429) {
      // No Retry-After from Sentry: wait until X-Sentry-Rate-Limit-Reset (epoch seconds).
      Duration wait = kDefaultRateLimitWait;
      if (auto reset = resp->header("X-Sentry-Rate-Limit-Reset")) {
        std::int64_t s = 0;
        if (std::from_chars(reset->data(), reset->data() + reset->size(), s).ec == std::errc()) {
          wait = std::clamp(saturating_seconds(s) - Duration{to_unix_ms(ctx_now_)}, Duration{1000},
                            kMaxRateLimitWait);
        }
      }
      r.failure = failed(PollStatus::rate_limited, said);
      r.failure.retry_after = wait;
    } else if (resp->status >= 500) {
      r.failure = failed(PollStatus::retry, said);
    } else if (resp->status == 401 || resp->status == 403) {
      r.failure =
          failed(PollStatus::error,
                 said + " (check the token and its scopes: org:read, project:read, event:read)");
    } else if (resp->status == 404) {
      r.failure = failed(PollStatus::error, said + " (check organization and projects)");
    } else {
      r.failure = failed(PollStatus::error, said);
    }
    return r;
  }

  bus::Event make_event(const Issue& is, const std::string& change, const json& previous,
                        const std::string& value, std::int64_t seq, TimePoint time) const {
    bus::Event e;
    e.id = "sentry:" + is.id + ":" + change +
           (change == "new" ? std::string() : ":" + value + ":" + std::to_string(seq));
    e.source = "sentry";
    e.kind = "sentry.issue";
    e.time = time;
    e.attrs = is.attrs;
    e.attrs["change"] = change;
    if (!previous.is_null()) e.attrs["previous"] = previous;
    e.attrs["collector"] = name_;
    return e;
  }

  // Compares one issue with what the cursor remembers, reports the differences, remembers it.
  void observe(State& st, Issue is, bool listed, TimePoint now, std::vector<bus::Event>& out) {
    const std::int64_t last_ms = is.last_seen ? to_unix_ms(*is.last_seen) : 0;
    auto it = st.issues.find(is.id);
    if (it == st.issues.end()) {
      if (!listed) return;
      Seen e{is.count, is.status, is.level, is.substatus, last_ms, 0, st.listing, false};
      if (!st.baseline)
        out.push_back(make_event(is, "new", json(), "", 0, is.first_seen.value_or(now)));
      st.issues.emplace(is.id, std::move(e));
      return;
    }
    Seen& e = it->second;
    if (listed) {
      e.listing = st.listing;
      e.out = false;
    }
    // Counts only grow for a rule: a count that shrinks (events aged out of the query window) is
    // remembered silently.
    if (is.count > e.count) {
      auto ev = make_event(is, "count", e.count, std::to_string(is.count), ++e.changes,
                           is.last_seen.value_or(now));
      ev.attrs["delta"] = is.count - e.count;
      out.push_back(std::move(ev));
    }
    e.count = is.count;
    // Sentry gives no time for these changes: they happened by this poll.
    auto change = [&](const char* what, std::string& mine, const std::string& theirs) {
      if (mine == theirs) return;
      out.push_back(make_event(is, what, mine, theirs, ++e.changes, now));
      mine = theirs;
    };
    change("level", e.level, is.level);
    // A resolved issue loses its substatus: not a change worth an event of its own.
    if (is.substatus.empty()) {
      e.substatus.clear();
    } else {
      change("substatus", e.substatus, is.substatus);
    }
    change("status", e.status, is.status);
    e.last_seen_ms = std::max(e.last_seen_ms, last_ms);
  }

  // Keeps the cursor bounded: forgets the issues out of the listing first, then the least recently
  // seen.
  void evict(State& st) const {
    if (st.issues.size() <= max_issues_) return;
    std::vector<std::pair<std::string, const Seen*>> all;
    for (const auto& [id, e] : st.issues) all.emplace_back(id, &e);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      if (a.second->out != b.second->out) return a.second->out;
      return a.second->last_seen_ms < b.second->last_seen_ms;
    });
    std::vector<std::string> drop;
    for (std::size_t i = 0; i < all.size() - max_issues_; ++i) drop.push_back(all[i].first);
    for (const auto& id : drop) st.issues.erase(id);
  }

  std::string name_;
  net::Url base_;
  net::HttpClient& http_;
  Logger log_;
  std::string token_;
  std::string organization_;
  std::vector<std::string> projects_, project_ids_;
  std::string query_;
  bool project_endpoint_;
  std::string stats_period_, start_;
  std::int64_t max_pages_;
  std::size_t max_issues_;
  bool baseline_first_;
  std::string listed_;
  TimePoint ctx_now_{};
};

}  // namespace

CollectorFactory sentry_factory() {
  return [](const CollectorSpec& spec, net::HttpClient& http,
            Logger log) -> tl::expected<std::unique_ptr<Collector>, std::string> {
    auto base = net::parse_url(spec.options.string("base_url", "https://sentry.io"));
    if (!base || (base->scheme != "http" && base->scheme != "https"))
      return tl::unexpected(std::string("base_url is not an http(s) URL"));
    if (!spec.secrets.count("token") || spec.secrets.at("token").empty()) {
      return tl::unexpected(std::string("no token: set token_env or token_file"));
    }
    if (spec.options.string("organization").empty())
      return tl::unexpected(std::string("organization is empty"));
    if (spec.options.string("endpoint") == "project" && spec.options.strings("projects").empty()) {
      return tl::unexpected(std::string("endpoint = \"project\" needs the projects to list"));
    }
    if (const auto start = spec.options.string("start"); !start.empty() && !parse_rfc3339(start)) {
      return tl::unexpected("start is not an RFC 3339 time: " + start);
    }
    return std::make_unique<SentryCollector>(spec, std::move(*base), http, std::move(log));
  };
}

}  // namespace vigie::collectors
