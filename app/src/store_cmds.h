// `vigie events` and `vigie alerts`: read the store for operators and tests.
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

int run_events(const EventsOptions& options, std::ostream& out, std::ostream& err);
int run_alerts(const AlertsOptions& options, std::ostream& out, std::ostream& err);

}  // namespace vigie::app
