// The `vigie` command line (CLI11). Each subcommand is a thin shell over a module.
#include "vigie/app/cli.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <iostream>
#include <ostream>

#include "../demo/demo.h"
#include "backtest_cmd.h"
#include "check.h"
#include "daemon.h"
#include "kinds_cmd.h"
#include "store_cmds.h"
#include "test_cmd.h"

#ifndef VIGIE_VERSION
#define VIGIE_VERSION "0.0.0"
#endif

namespace vigie::app {

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"Vigie: rules and alerting for the chat, from NewRelic, Sentry, Papertrail and "
               "webhooks to Slack"};
  app.name("vigie");
  app.require_subcommand(0, 1);
  bool version = false;
  app.add_flag("--version", version, "Print the version and exit");

  CheckOptions check;
  auto* check_cmd = app.add_subcommand(
      "check", "Validate vigie.toml and every rule file; exit 1 with file:line:col diagnostics");
  check_cmd->add_option("-c,--config", check.config_path, "Path to vigie.toml")->required();
  check_cmd->add_flag("--json", check.json, "Print every diagnostic as one JSON document");
  check_cmd->add_flag("--werror", check.werror, "Treat warnings as errors");

  TestOptions test;
  auto* test_cmd = app.add_subcommand("test", "Run rule unit tests (timelines of events and expected alerts)");
  test_cmd->add_option("files", test.files, "Rule test files")->required();
  test_cmd->add_option("-c,--config", test.config_path, "vigie.toml, to check `allow` roles");
  test_cmd->add_flag("--json", test.json, "Print the results as one JSON document");

  RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "Run the daemon: HTTP intake, the engine and workers");
  run_cmd->add_option("-c,--config", run.config_path, "Path to vigie.toml")->required();
  run_cmd->add_option("--role", run.role,
                      "all (default): every role in this process; collector, engine or worker: one role, "
                      "over [bus] mode = \"tcp\"")
      ->check(CLI::IsMember({"all", "collector", "engine", "worker"}));
  run_cmd->add_option("--listen", run.listen,
                      "host:port for HTTP (overrides [server] listen); engine and worker roles serve "
                      "/healthz and /metrics there");
  run_cmd->add_option("--log-level", run.log_level, "debug, info, warn or error (overrides [log] level)");

  EventsOptions events;
  auto* events_cmd = app.add_subcommand("events", "List stored events, newest first");
  events_cmd->add_option("-c,--config", events.config_path, "Path to vigie.toml")->required();
  events_cmd->add_option("--kind", events.kind, "Only events of this kind");
  events_cmd->add_option("--since", events.since, "Only events received within this duration (10m, 24h)");
  events_cmd->add_option("--limit", events.limit, "At most this many (default 50)");
  events_cmd->add_flag("--json", events.json, "One JSON array");

  AlertsOptions alerts;
  auto* alerts_cmd = app.add_subcommand("alerts", "List alerts");
  alerts_cmd->add_option("-c,--config", alerts.config_path, "Path to vigie.toml")->required();
  alerts_cmd->add_option("--state", alerts.state, "firing, acknowledged, resolved, or open (default: open)");
  alerts_cmd->add_flag("--json", alerts.json, "One JSON array");

  AuditOptions audit;
  auto* audit_cmd = app.add_subcommand("audit", "List the audit log: chat commands, clicks, approvals, denials, action outcomes");
  audit_cmd->add_option("-c,--config", audit.config_path, "Path to vigie.toml")->required();
  audit_cmd->add_option("--since", audit.since, "Only rows newer than this duration ago (24h) or RFC 3339 time");
  audit_cmd->add_option("--user", audit.user, "Only rows of this Slack user id");
  audit_cmd->add_option("--limit", audit.limit, "At most this many, newest first (default 100)");
  audit_cmd->add_flag("--json", audit.json, "One JSON array");

  KindsOptions kinds;
  auto* kinds_cmd = app.add_subcommand("kinds", "List every collector, action and provider kind with its options");
  kinds_cmd->add_flag("--json", kinds.json, "One JSON document");

  BacktestOptions backtest;
  auto* backtest_cmd = app.add_subcommand(
      "backtest", "Replay stored events through a candidate rule set and report what it would have done");
  backtest_cmd->add_option("-c,--config", backtest.config_path, "Path to vigie.toml")->required();
  backtest_cmd->add_option("--rules", backtest.rules_dir, "Folder of candidate rule files (default: the config's)");
  backtest_cmd->add_option("--from", backtest.from, "Start: RFC 3339 time, or a duration ago (24h)")->required();
  backtest_cmd->add_option("--to", backtest.to, "End: RFC 3339 time, or a duration ago (default: now)");
  backtest_cmd->add_flag("--json", backtest.json, "Print the report as JSON");

  DemoOptions demo;
  auto* demo_cmd = app.add_subcommand(
      "demo", "Run Vigie against simulated Slack, Sentry, NewRelic, Papertrail, Heroku, DigitalOcean, "
              "Rackspace and Docker, with a scripted scenario and the web view (no credentials needed)");
  demo_cmd->add_option("--port", demo.port, "Port of the web view and the HTTP API on 127.0.0.1 (default 8080; 0: any)");
  demo_cmd->add_option("--speed", demo.speed, "How many times faster than real time the demo clock runs (default 20)");
  demo_cmd->add_option("--for", demo.for_duration, "Stop after this much real time (90s, 5m); default: at Ctrl-C");
  demo_cmd->add_flag("--no-scenario", demo.no_scenario, "Start the simulators and the web view only, without the script");
  bool no_color = false;
  demo_cmd->add_flag("--no-color", no_color, "A transcript without colours (the default when not on a terminal)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "vigie: " << e.what() << "\n" << "Run 'vigie --help' for usage.\n";
    return 2;
  }

  if (version) {
    out << "vigie " << VIGIE_VERSION << '\n';
    return 0;
  }
  if (*check_cmd) return run_check(check, out, err);
  if (*run_cmd) return run_daemon(run, out, err);
  if (*events_cmd) return run_events(events, out, err);
  if (*alerts_cmd) return run_alerts(alerts, out, err);
  if (*audit_cmd) return run_audit(audit, out, err);
  if (*test_cmd) return run_tests(test, out, err);
  if (*backtest_cmd) return run_backtest_cmd(backtest, out, err);
  if (*kinds_cmd) return run_kinds(kinds, out, err);
  if (*demo_cmd) {
    demo.color = !no_color && ::isatty(STDOUT_FILENO) == 1 && &out == &std::cout;
    return run_demo(demo, out, err);
  }
  out << app.help();
  return 0;
}

}  // namespace vigie::app
