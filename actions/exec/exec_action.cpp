// type = "exec": runs a vetted program from an argv list — never through a shell, so a parameter
// is always exactly one argument, whatever it holds. The child gets a cleared environment (only
// the names in `env`, from the worker's own), a fixed working directory, stdin from /dev/null,
// its own process group, default signal handling and no inherited descriptors; stdout and stderr
// are captured together and capped; at the timeout the whole group gets SIGTERM, then SIGKILL.
// Security model: docs/actions.md.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../src/factories.h"
#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {

using nlohmann::json;

constexpr Duration kTermGrace{1'000};  // after SIGTERM, before SIGKILL
#ifndef CLOSE_RANGE_CLOEXEC
constexpr unsigned kCloseRangeCloexec = 4;
#else
constexpr unsigned kCloseRangeCloexec = CLOSE_RANGE_CLOEXEC;
#endif

// A monotonic deadline in the kernel (a timerfd): the child is a real process, so its timeout is
// real time, whatever clock the rest of Vigie runs on.
class KernelDeadline {
 public:
  explicit KernelDeadline(Duration d) : fd_(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) {
    if (fd_ < 0) return;
    itimerspec spec{};
    const auto ms = std::max<std::int64_t>(d.count(), 1);
    spec.it_value.tv_sec = ms / 1000;
    spec.it_value.tv_nsec = (ms % 1000) * 1'000'000;
    ::timerfd_settime(fd_, 0, &spec, nullptr);
  }
  ~KernelDeadline() {
    if (fd_ >= 0) ::close(fd_);
  }
  KernelDeadline(const KernelDeadline&) = delete;
  KernelDeadline& operator=(const KernelDeadline&) = delete;
  int fd() const { return fd_; }
  bool passed() const {
    if (fd_ < 0) return true;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

 private:
  int fd_;
};

struct Outcome {
  std::string output;
  std::size_t dropped = 0;
  int status = 0;
  bool timed_out = false;
  bool killed = false;  // SIGKILL was needed
  int spawn_errno = 0;
  std::string spawn_step;
};

class ExecAction final : public Action {
 public:
  ExecAction(std::vector<std::string> argv, std::string workdir, std::vector<std::string> env, std::size_t max_output)
      : argv_(std::move(argv)), workdir_(std::move(workdir)), env_(std::move(env)), max_output_(max_output) {}

  StepResult run(const RunContext& ctx) override {
    const Duration timeout = ctx.remaining();
    if (timeout <= Duration{0}) return Fail{"no time left to start " + argv_[0], "", json::object()};
    Outcome o = spawn_and_wait(timeout);
    if (o.spawn_errno != 0) {
      return Fail{"cannot run " + argv_[0] + ": " + o.spawn_step + ": " + std::strerror(o.spawn_errno), "",
                  {{"argv", argv_}}};
    }
    std::string output = o.output;
    if (o.dropped > 0) output += "\n… (" + std::to_string(o.dropped) + " more bytes not kept)";
    json details = {{"argv", argv_}, {"truncated", o.dropped > 0}};
    if (o.timed_out) {
      details["timed_out"] = true;
      return Fail{"timed out after " + format_duration(timeout) + "; its process group was sent SIGTERM" +
                      (o.killed ? " then SIGKILL" : ""),
                  output, details};
    }
    if (WIFEXITED(o.status)) {
      const int code = WEXITSTATUS(o.status);
      details["exit_code"] = code;
      if (code == 0) return Ok{output, details};
      return Fail{argv_[0] + " exited with status " + std::to_string(code), output, details};
    }
    const int sig = WIFSIGNALED(o.status) ? WTERMSIG(o.status) : 0;
    details["signal"] = sig;
    return Fail{argv_[0] + " was killed by signal " + std::to_string(sig), output, details};
  }

  std::string describe() const override {
    return "exec argv " + json(argv_).dump() + "\n  workdir " + workdir_ + "\n  env " + json(env_).dump() +
           " (all others cleared)\n  stdin /dev/null";
  }

 private:
  Outcome spawn_and_wait(Duration timeout) const {
    Outcome o;
    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    std::vector<char*> argv;
    for (const auto& a : argv_) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (const auto& name : env_) {
      if (const char* v = std::getenv(name.c_str())) env_strings.push_back(name + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    const long max_fd = std::min<long>(::sysconf(_SC_OPEN_MAX) > 0 ? ::sysconf(_SC_OPEN_MAX) : 1024, 65536);

    int out[2], status[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
      o.spawn_errno = errno;
      o.spawn_step = "pipe";
      return o;
    }
    if (::pipe2(status, O_CLOEXEC) != 0) {
      o.spawn_errno = errno;
      o.spawn_step = "pipe";
      ::close(out[0]);
      ::close(out[1]);
      return o;
    }
    const pid_t worker = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      o.spawn_errno = errno;
      o.spawn_step = "fork";
      for (int fd : {out[0], out[1], status[0], status[1]}) ::close(fd);
      return o;
    }
    if (pid == 0) child(argv.data(), envp.data(), out[1], status[1], max_fd, worker);
    ::setpgid(pid, pid);  // also done by the child; whichever runs first wins the race
    ::close(out[1]);
    ::close(status[1]);
    // The status pipe closes on a successful exec (close-on-exec); before that, a failing step
    // writes its name's index and errno.
    int report[2] = {0, 0};
    ssize_t got = 0;
    while (got < static_cast<ssize_t>(sizeof report)) {
      const ssize_t n = ::read(status[0], reinterpret_cast<char*>(report) + got, sizeof report - static_cast<std::size_t>(got));
      if (n > 0) {
        got += n;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;
      }
    }
    ::close(status[0]);
    if (got == static_cast<ssize_t>(sizeof report)) {
      ::waitpid(pid, &o.status, 0);
      ::close(out[0]);
      o.spawn_errno = report[1];
      o.spawn_step = report[0] == 1 ? "chdir " + workdir_ : report[0] == 2 ? "redirecting stdin/stdout" : "execve";
      return o;
    }

    KernelDeadline deadline(timeout);
    ::fcntl(out[0], F_SETFL, O_NONBLOCK);
    bool open = true;
    bool exited = false;
    char buf[8192];
    auto drain = [&] {
      for (;;) {
        const ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n > 0) {
          const std::size_t room = max_output_ > o.output.size() ? max_output_ - o.output.size() : 0;
          const std::size_t keep = std::min<std::size_t>(room, static_cast<std::size_t>(n));
          o.output.append(buf, keep);
          o.dropped += static_cast<std::size_t>(n) - keep;
          continue;
        }
        if (n == 0) open = false;
        if (n < 0 && errno == EINTR) continue;
        return;
      }
    };
    while (!exited) {
      if (::waitpid(pid, &o.status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      pollfd fds[2] = {{deadline.fd(), POLLIN, 0}, {open ? out[0] : -1, POLLIN, 0}};
      // With the output closed, look at the child again every 10 ms.
      const int r = ::poll(fds, 2, open ? -1 : 10);
      if (r < 0 && errno != EINTR) break;
      if (open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) drain();
      if (fds[0].revents & POLLIN) {
        o.timed_out = true;
        break;
      }
    }
    if (!exited) {
      // Timed out (or poll failed): the whole group, politely first.
      ::kill(-pid, SIGTERM);
      KernelDeadline grace(kTermGrace);
      while (!exited && !grace.passed()) {
        if (::waitpid(pid, &o.status, WNOHANG) == pid) {
          exited = true;
          break;
        }
        pollfd fds[2] = {{grace.fd(), POLLIN, 0}, {open ? out[0] : -1, POLLIN, 0}};
        ::poll(fds, 2, 10);
        if (open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) drain();
      }
      if (!exited) {
        o.killed = true;
        ::kill(-pid, SIGKILL);
        while (::waitpid(pid, &o.status, 0) < 0 && errno == EINTR) {
        }
      }
    }
    // Whatever the program left behind in its group does not outlive the run.
    ::kill(-pid, SIGKILL);
    if (open) drain();
    ::close(out[0]);
    return o;
  }

  [[noreturn]] void child(char** argv, char** envp, int out_w, int status_w, long max_fd, pid_t worker) const {
    auto fail = [&](int step) {
      const int report[2] = {step, errno};
      [[maybe_unused]] auto n = ::write(status_w, report, sizeof report);
      ::_exit(127);
    };
    ::setpgid(0, 0);
    // A program does not outlive a killed worker: after a restart the job may run again (the
    // documented window), and two runs of one remediation must not overlap. The signal comes
    // when the forking thread ends, and that thread waits for the program. If the worker died
    // before this line, the program is already an orphan: it must not start.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != worker) ::_exit(127);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) ::signal(sig, SIG_DFL);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd < 0 || ::dup2(null_fd, 0) < 0) fail(2);
    if (::dup2(out_w, 1) < 0 || ::dup2(out_w, 2) < 0) fail(2);
    if (::chdir(workdir_.c_str()) != 0) fail(1);
    // No descriptor of the worker (sockets, the store) reaches the program.
    if (::syscall(SYS_close_range, 3U, ~0U, kCloseRangeCloexec) != 0) {
      for (long fd = 3; fd < max_fd; ++fd) {
        if (fd != status_w) ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
      }
    }
    ::execve(argv[0], argv, envp);
    fail(3);
    ::_exit(127);
  }

  std::vector<std::string> argv_;
  std::string workdir_;
  std::vector<std::string> env_;
  std::size_t max_output_;
};

bool valid_env_name(const std::string& n) {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
  for (char c : n) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// make_exec_action's checks, every problem found. Before rendering (`rendered` false, for
// `vigie check`) a value that still holds a {{param}} is judged only at run time.
std::vector<config::OptionProblem> exec_problems(const std::vector<std::string>& argv,
                                                 const std::string& workdir,
                                                 const std::vector<std::string>& env,
                                                 std::int64_t max_output, bool rendered) {
  std::vector<config::OptionProblem> out;
  auto pending = [&](const std::string& v) {
    return !rendered && v.find("{{") != std::string::npos;
  };
  if (argv.empty()) {
    out.push_back({"argv", "'argv' is empty: it needs at least the program"});
  } else if (!pending(argv[0]) && (argv[0].empty() || argv[0][0] != '/')) {
    out.push_back({"argv", "the program (argv[0]) must be an absolute path, not '" + argv[0] +
                               "': no PATH lookup is done"});
  }
  for (const auto& a : argv) {
    if (a.find('\0') != std::string::npos) {
      out.push_back({"argv", "an argv element holds a NUL byte"});
      break;
    }
  }
  if (!pending(workdir) && (workdir.empty() || workdir[0] != '/')) {
    out.push_back({"workdir", "'workdir' must be an absolute path, not '" + workdir + "'"});
  }
  for (const auto& e : env) {
    if (!valid_env_name(e))
      out.push_back({"env", "'env' lists '" + e + "', which is not a variable name"});
  }
  if (max_output < 1024 || max_output > (16 << 20)) {
    out.push_back({"max_output", "'max_output' must be between 1024 and 16777216"});
  }
  return out;
}

}  // namespace

tl::expected<std::unique_ptr<Action>, std::string> make_exec_action(const ActionRequest& request,
                                                                    ActionContext&) {
  if (auto ok = request.options.check(exec_options()); !ok) return tl::unexpected(ok.error());
  auto argv = request.options.strings("argv");
  const std::string workdir = request.options.string("workdir", "/");
  auto env = request.options.strings("env");
  const auto max_output = request.options.integer("max_output", 65536);
  if (auto problems = exec_problems(argv, workdir, env, max_output, /*rendered=*/true);
      !problems.empty()) {
    return tl::unexpected(std::move(problems.front().message));
  }
  return std::make_unique<ExecAction>(std::move(argv), workdir, std::move(env), static_cast<std::size_t>(max_output));
}

std::vector<config::OptionProblem> check_exec_options(const config::OptionValues& options) {
  return exec_problems(options.strings("argv"), options.string("workdir", "/"),
                       options.strings("env"), options.integer("max_output", 65536),
                       /*rendered=*/false);
}

}  // namespace vigie::actions
