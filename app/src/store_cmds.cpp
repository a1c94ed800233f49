// `vigie events`, `vigie alerts` and `vigie audit`.
#include "store_cmds.h"

#include <nlohmann/json.hpp>

#include <ostream>

#include "vigie/app/catalogs.h"
#include "vigie/app/system_clock.h"
#include "vigie/bus/codec.h"
#include "vigie/store/store.h"

namespace vigie::app {
namespace {

std::unique_ptr<store::Store> open_store(const std::string& config_path, std::ostream& err) {
  const KindCatalogs catalogs = builtin_catalogs();
  config::Diagnostics diags;
  auto cfg = config::load_config(config_path, catalogs.for_config(), diags);
  if (!cfg) {
    err << diags.render_text();
    return nullptr;
  }
  auto s = store::Store::open(cfg->store.path);
  if (!s) {
    err << "vigie: " << s.error().message << '\n';
    return nullptr;
  }
  return std::move(*s);
}

}  // namespace

int run_events(const EventsOptions& o, std::ostream& out, std::ostream& err) {
  auto store = open_store(o.config_path, err);
  if (!store) return 2;
  std::optional<TimePoint> since;
  if (!o.since.empty()) {
    auto d = parse_duration(o.since);
    if (!d) {
      err << "vigie events: --since must be a duration such as 10m or 24h\n";
      return 2;
    }
    since = SystemClock().system_now() - *d;
  }
  auto events = store->recent_events(o.kind.empty() ? std::nullopt : std::optional<std::string>(o.kind), since,
                                     static_cast<std::size_t>(std::max(0, o.limit)));
  if (!events) {
    err << "vigie events: " << events.error().message << '\n';
    return 2;
  }
  if (o.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : *events) list.push_back(bus::event_to_json(e));
    out << list.dump(2) << '\n';
    return 0;
  }
  for (const auto& e : *events) {
    out << format_rfc3339(e.received_at) << "  " << e.kind << "  " << e.id << "  "
        << e.attrs.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  return 0;
}

int run_alerts(const AlertsOptions& o, std::ostream& out, std::ostream& err) {
  auto store = open_store(o.config_path, err);
  if (!store) return 2;
  if (o.state != "open" && o.state != "firing" && o.state != "acknowledged" && o.state != "resolved" && o.state != "all") {
    err << "vigie alerts: --state must be open, firing, acknowledged, resolved or all\n";
    return 2;
  }
  auto alerts = o.state == "open" ? store->open_alerts()
                                  : store->alerts_in_state(o.state == "all" ? std::nullopt : std::optional<std::string>(o.state));
  if (!alerts) {
    err << "vigie alerts: " << alerts.error().message << '\n';
    return 2;
  }
  if (o.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : *alerts) {
      list.push_back({{"id", a.id}, {"rule", a.rule}, {"fingerprint", a.fingerprint}, {"labels", a.labels},
                      {"state", a.state}, {"silenced", a.silenced}, {"inhibited", a.inhibited}, {"count", a.count},
                      {"first_seen", format_rfc3339(a.first_seen)}, {"last_seen", format_rfc3339(a.last_seen)},
                      {"acked_by", a.acked_by}, {"occurrence", a.occurrence}});
    }
    out << list.dump(2) << '\n';
    return 0;
  }
  for (const auto& a : *alerts) {
    out << "#" << a.id << "  " << a.state << (a.silenced ? " (silenced)" : "") << (a.inhibited ? " (inhibited)" : "")
        << "  " << a.fingerprint << "  count=" << a.count << "  since " << format_rfc3339(a.first_seen) << '\n';
  }
  return 0;
}

int run_audit(const AuditOptions& o, std::ostream& out, std::ostream& err) {
  store::AuditQuery q;
  if (!o.since.empty()) {
    if (auto d = parse_duration(o.since)) {
      q.since = SystemClock().system_now() - *d;
    } else if (auto t = parse_rfc3339(o.since)) {
      q.since = *t;
    } else {
      err << "vigie audit: --since must be a duration such as 24h or an RFC 3339 time, not '" << o.since << "'\n";
      return 2;
    }
  }
  if (o.limit <= 0) {
    err << "vigie audit: --limit must be a positive number\n";
    return 2;
  }
  q.user = o.user;
  q.limit = static_cast<std::size_t>(o.limit);
  auto store = open_store(o.config_path, err);
  if (!store) return 2;
  auto rows = store->audit(q);
  if (!rows) {
    err << "vigie audit: " << rows.error().message << '\n';
    return 2;
  }
  if (o.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : *rows) {
      list.push_back({{"id", a.id}, {"time", format_rfc3339(a.time)}, {"user", a.user}, {"channel", a.channel},
                      {"action", a.action}, {"alert_id", a.alert_id}, {"args", a.args}, {"result", a.result}});
    }
    out << list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return 0;
  }
  for (const auto& a : *rows) {
    out << format_rfc3339(a.time) << "  " << (a.user.empty() ? "-" : a.user) << "  "
        << (a.channel.empty() ? "-" : a.channel) << "  " << a.action;
    if (a.alert_id != 0) out << "  alert #" << a.alert_id;
    if (!a.args.empty()) out << "  " << a.args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out << "  -> " << a.result << '\n';
  }
  return 0;
}

}  // namespace vigie::app
