// Runs a child process with a clean, given environment and captures its output and exit code;
// bounded in time so a hung child fails the test instead of hanging CI.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
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

namespace vigie::testing {

// A child process running in the background, its stdout and stderr sent to files.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& out_file, const std::string& err_file);
  ~Child();  // SIGKILLs a child still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  int pid() const { return pid_; }
  void signal(int sig);
  // Waits for the exit (bounded); returns the exit code, or -1 on a signal or the time limit.
  int wait(int timeout_ms);
  bool running();

 private:
  int pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// Reads `file` until a line containing `needle` appears (bounded); returns that line or "".
std::string wait_for_line(const std::string& file, const std::string& needle, int timeout_ms);

// Starts `binary run -c config` with its output in out_file / err_file (out_file emptied
// first) and waits (bounded) for "listening on http://127.0.0.1:<port>"; returns the port, or 0.
std::uint16_t start_daemon(std::unique_ptr<Child>& child, const std::string& binary,
                           const std::string& config, const std::string& out_file,
                           const std::string& err_file);

// Creates `dir` afresh with rules/ and the bot token and signing secret files a test daemon's
// [slack] reads; returns the head of its vigie.toml (rules from rules/, an ephemeral port, the
// store in v.db, [slack] on `slack_url` with default channel C0OPS) for the caller to extend.
std::string slack_daemon_setup(const std::filesystem::path& dir, const std::string& slack_url,
                               const std::string& bot_token, const std::string& signing_secret);

}  // namespace vigie::testing
