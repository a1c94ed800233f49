// Runs a child process with a clean, given environment and captures its output and exit code;
// bounded in time so a hung child fails the test instead of hanging CI.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace vigie::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed for the time limit or by a signal
  std::string out;
  std::string err;
};

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env = {},
                          int timeout_seconds = 60);

}  // namespace vigie::testing
