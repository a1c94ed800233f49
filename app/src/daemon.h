// `vigie run`: the roles — collector (the HTTP server and its ingest client), engine (ingest
// server, engine, job dispatcher, fan-out, the store) and worker (runs jobs) — all in one process
// over inproc:// (`--role all`, the default), or one per process over tcp:// ([bus] mode = "tcp").
// Graceful shutdown on SIGTERM/SIGINT; rule reload on SIGHUP, POST /-/reload and file changes.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "vigie/core/clock.h"
#include "vigie/net/http.h"

namespace vigie::app {

struct RunOptions {
  std::string config_path;
  std::string role = "all";
  std::string log_level;  // overrides [log] level
  std::string listen;     // overrides [server] listen; gives engine and worker roles an HTTP port
};

// What a caller embedding the daemon (`vigie demo`) changes; `vigie run` passes none.
struct DaemonHooks {
  Clock* clock = nullptr;  // unset: the system clock
  // Called once every role runs, with the HTTP server's port (0 without one); the daemon stops
  // when it returns, instead of at SIGTERM/SIGINT.
  std::function<void(std::uint16_t port)> run;
  // Routes tried before the API's (the demo's channel); false: not handled, the API answers.
  std::function<bool(const net::HttpRequest&, const net::Respond&)> routes;
};

int run_daemon(const RunOptions& options, std::ostream& out, std::ostream& err,
               const DaemonHooks& hooks = {});

}  // namespace vigie::app
