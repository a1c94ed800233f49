// `vigie run`: the roles — collector (the HTTP server and its ingest client), engine (ingest
// server, engine, job dispatcher, fan-out, the store) and worker (runs jobs) — all in one process
// over inproc:// (`--role all`, the default), or one per process over tcp:// ([bus] mode = "tcp").
// Graceful shutdown on SIGTERM/SIGINT; rule reload on SIGHUP, POST /-/reload and file changes.
#pragma once

#include <iosfwd>
#include <string>

namespace vigie::app {

struct RunOptions {
  std::string config_path;
  std::string role = "all";
  std::string log_level;  // overrides [log] level
  std::string listen;     // overrides [server] listen; gives engine and worker roles an HTTP port
};

int run_daemon(const RunOptions& options, std::ostream& out, std::ostream& err);

}  // namespace vigie::app
