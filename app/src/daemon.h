// `vigie run`: every role in one process over inproc:// — the HTTP server and its ingest client,
// the engine loop (ingest server, engine, job dispatcher, fan-out) — with graceful shutdown on
// SIGTERM/SIGINT and rule reload on SIGHUP and POST /-/reload.
#pragma once

#include <iosfwd>
#include <string>

namespace vigie::app {

struct RunOptions {
  std::string config_path;
  std::string role = "all";
  std::string log_level;  // overrides [log] level
};

int run_daemon(const RunOptions& options, std::ostream& out, std::ostream& err);

}  // namespace vigie::app
