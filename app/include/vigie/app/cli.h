// The `vigie` command line: subcommands parse their flags here and run against the modules.
#pragma once

#include <iosfwd>

namespace vigie::app {

// Runs the command line; returns the process exit code. Output goes to `out`/`err` so tests can
// run subcommands in-process.
int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace vigie::app
