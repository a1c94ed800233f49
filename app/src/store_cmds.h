// `vigie events`, `vigie alerts` and `vigie audit`: read the store for operators and tests.
#pragma once

#include <iosfwd>
#include <string>

namespace vigie::app {

struct EventsOptions {
  std::string config_path;
  std::string kind;
  std::string since;
  int limit = 50;
  bool json = false;
};

struct AlertsOptions {
  std::string config_path;
  std::string state = "open";
  bool json = false;
};

struct AuditOptions {
  std::string config_path;
  std::string since;  // a duration ago (24h) or an RFC 3339 time; empty: no bound
  std::string user;   // Slack user id; empty: everyone
  int limit = 100;
  bool json = false;
};

int run_events(const EventsOptions& options, std::ostream& out, std::ostream& err);
int run_alerts(const AlertsOptions& options, std::ostream& out, std::ostream& err);
int run_audit(const AuditOptions& options, std::ostream& out, std::ostream& err);

}  // namespace vigie::app
