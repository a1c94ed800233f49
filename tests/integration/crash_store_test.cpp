// The real `vigie run` whose store cannot write: a full file system, and a read-only one. While
// the store cannot write, ingest answers 503 with a JSON error, the log says why and /healthz is
// 503; nothing is acknowledged that is not stored; when space returns, ingest resumes without a
// restart. The full file system is a 2 MB tmpfs under the store when the test may mount (root
// with CAP_SYS_ADMIN), otherwise RLIMIT_FSIZE on the daemon (its writes past the limit fail
// with EFBIG, SIGXFSZ ignored) — the same failure to SQLite, a refused write. A file system
// turning read-only under the running daemon is an ext4 on a loop device mounted
// errors=remount-ro, given an error through ext4's trigger_fs_error: what a failing disk does.
// A case that cannot run here says "VIGIE_SKIPPED: why", which ctest reports as skipped.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "crash_load.h"
#include "fake_slack.h"
#include "http_client.h"
#include "process.h"
#include "vigie/store/store.h"

using namespace vigie::testing;
using namespace std::chrono_literals;

namespace {

const std::string kBinary = VIGIE_BINARY;

struct StoreWorkspace {
  std::filesystem::path dir;
  bool mounted = false;
  // `slack_url`: [slack] on that fake Slack, and a rule posting alert "Disk" there.
  explicit StoreWorkspace(const std::string& name, const std::string& slack_url = "") {
    dir = std::filesystem::temp_directory_path() /
          ("vigie-crash-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "rules");
    std::filesystem::create_directories(dir / "data");
    std::ofstream(dir / "vigie.toml")
        << "rules = [\"rules/*.toml\"]\n[server]\nlisten = \"127.0.0.1:0\"\n"
           "[store]\npath = \"data/v.db\"\n";
    std::ofstream(dir / "rules" / "r.toml")
        << "[[rule]]\nname = \"hot\"\nwhen = 'alertname == \"Load\" and n ends_with \"000x\"'\n"
           "group_by = [\"n\"]\n";
    if (!slack_url.empty()) {
      std::ofstream(dir / "bot-token") << "xoxb-crash-store\n";
      std::ofstream(dir / "signing-secret") << "crash-store-secret\n";
      std::ofstream(dir / "vigie.toml", std::ios::app)
          << "[slack]\nbase_url = \"" << slack_url
          << "\"\ntoken_file = \"bot-token\"\nsigning_secret_file = \"signing-secret\"\n"
             "default_channel = \"C0OPS\"\n";
      // Only this rule: the load must not post to Slack.
      std::ofstream(dir / "rules" / "r.toml")
          << "[[rule]]\nname = \"disk\"\nwhen = 'alertname == \"Disk\"'\n";
    }
  }
  ~StoreWorkspace() {
    if (mounted) ::umount2((dir / "data").c_str(), MNT_DETACH);
    std::filesystem::remove_all(dir);
  }
  // A small tmpfs under data/ (false when this process may not mount).
  // VIGIE_CRASH_NO_MOUNT=1 forces the fallback, to check it where mounting works.
  bool mount_tmpfs(const char* options) {
    if (const char* no = std::getenv("VIGIE_CRASH_NO_MOUNT"); no && std::string(no) == "1")
      return false;
    mounted = ::mount("tmpfs", (dir / "data").c_str(), "tmpfs", 0, options) == 0;
    return mounted;
  }
  bool remount(unsigned long flags, const char* options) {
    return ::mount("tmpfs", (dir / "data").c_str(), "tmpfs", MS_REMOUNT | flags, options) == 0;
  }
  std::string config() const { return (dir / "vigie.toml").string(); }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

std::uint16_t start(std::unique_ptr<Child>& child, const StoreWorkspace& ws) {
  return start_daemon(child, kBinary, ws.config(), ws.file("out.log"), ws.file("err.log"));
}

// run_process does not search PATH: where Debian keeps the system tools.
std::string tool(const std::string& name) {
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
    if (::access((dir + name).c_str(), X_OK) == 0) return dir + name;
  }
  return name;
}

// An ext4 file system in a 64 MB image on a loop device, mounted with errors=remount-ro on
// `mount_point`. Linux refuses to remount a file system read-only while a process has files on it
// open for writing (EBUSY), so the daemon's store is made read-only the way a disk error does it:
// ext4 meets an error and turns itself read-only, every write failing with EROFS. That state
// lasts until the file system is unmounted (a remount rw is accepted but writes still fail:
// emergency_ro), so writable again means: daemon stopped, unmounted, checked, mounted again.
class LoopExt4 {
 public:
  LoopExt4(std::filesystem::path image, std::filesystem::path mount_point)
      : image_(std::move(image)), mount_point_(std::move(mount_point)) {}
  ~LoopExt4() {
    if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
    if (!device_.empty()) run_process({tool("losetup"), "-d", device_}, {}, 30);
    std::filesystem::remove(image_);
  }
  LoopExt4(const LoopExt4&) = delete;
  LoopExt4& operator=(const LoopExt4&) = delete;

  // Creates, attaches and mounts it; "" when done, otherwise why it cannot be done here.
  std::string create() {
    if (const char* no = std::getenv("VIGIE_CRASH_NO_MOUNT"); no && std::string(no) == "1")
      return "VIGIE_CRASH_NO_MOUNT=1";
    std::ofstream(image_).close();
    std::filesystem::resize_file(image_, 64 << 20);
    const auto mkfs = run_process({tool("mkfs.ext4"), "-q", "-F", image_.string()}, {}, 60);
    if (mkfs.exit_code != 0) return "mkfs.ext4 failed or is missing: " + mkfs.err;
    const auto loop = run_process({tool("losetup"), "--find", "--show", image_.string()}, {}, 30);
    if (loop.exit_code != 0) return "no loop device: " + loop.err;
    device_ = loop.out.substr(0, loop.out.find('\n'));
    if (auto why = mount(); !why.empty()) return why;
    if (!std::filesystem::exists(trigger())) return "no " + trigger().string();
    return "";
  }
  // ext4 meets an error and turns read-only (errors=remount-ro).
  bool make_read_only() const {
    std::ofstream(trigger()) << "vigie crash_store_test\n";
    const int fd = ::open((mount_point_ / "probe").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    return fd < 0 && errno == EROFS;
  }
  // Unmounted (nothing may hold a file on it), repaired as an operator would, mounted again.
  std::string remount_fresh() {
    if (::umount(mount_point_.c_str()) != 0) return std::string("umount: ") + std::strerror(errno);
    mounted_ = false;
    // e2fsck: 0 clean, 1 errors corrected (the error ext4 recorded).
    const auto fsck = run_process({tool("e2fsck"), "-f", "-y", device_}, {}, 60);
    if (fsck.exit_code != 0 && fsck.exit_code != 1) return "e2fsck: " + fsck.out + fsck.err;
    return mount();
  }

 private:
  std::string mount() {
    if (::mount(device_.c_str(), mount_point_.c_str(), "ext4", 0, "errors=remount-ro") != 0)
      return std::string("mount: ") + std::strerror(errno);
    mounted_ = true;
    return "";
  }
  std::filesystem::path trigger() const {
    return std::filesystem::path("/sys/fs/ext4") / std::filesystem::path(device_).filename() /
           "trigger_fs_error";
  }

  std::filesystem::path image_, mount_point_;
  std::string device_;
  bool mounted_ = false;
};

// Raises the "disk" alert with its chat.postMessage applied by the fake Slack but its answer
// held (bounded wait): the worker has acted, the engine does not know yet.
bool post_held_alert(HttpClient& http, FakeSlack& slack) {
  slack.hold_answers("chat.postMessage");
  const auto r =
      http.request("POST", "/api/v2/alerts", R"([{"labels":{"alertname":"Disk","host":"db1"}}])");
  return r.status == 200 && slack.wait_held(1, 10s);
}

// Waits (bounded) until the alert of rule "disk" has its first notify job done.
bool disk_notify_done(const StoreWorkspace& ws) {
  for (int i = 0; i < 100; ++i) {
    auto store = vigie::store::Store::open(ws.file("data/v.db"));
    if (!store) return false;
    auto alerts = (*store)->alerts_in_state(std::nullopt);
    if (!alerts) return false;
    for (const auto& a : *alerts) {
      auto job = (*store)->find_job("notify:" + std::to_string(a.id) + ":1");
      if (a.rule == "disk" && job && *job && (*job)->state == "done") return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// Posts batches of load alerts from `n` on; returns the answer of the first request that was
// not a 2xx (status 0 if none within `max_events`), adding what was acked to `acked`.
HttpResult post_until_refused(HttpClient& http, std::int64_t& n, std::int64_t max_events,
                              std::set<std::int64_t>& acked) {
  const std::int64_t end = n + max_events;
  while (n < end) {
    std::string body = "[";
    for (int i = 0; i < 100; ++i) body += (i ? "," : "") + load_alert(n + i);
    body += "]";
    auto r = http.request("POST", "/api/v2/alerts", body);
    if (r.status != 200) return r;
    for (int i = 0; i < 100; ++i) acked.insert(n + i);
    n += 100;
  }
  return {};
}

// Starts the daemon, has 1000 events acked, stops it with SIGTERM.
void run_with_load(const StoreWorkspace& ws, std::int64_t& n, std::set<std::int64_t>& acked) {
  std::unique_ptr<Child> vigie;
  const auto port = start(vigie, ws);
  REQUIRE(port != 0);
  HttpClient http(port, 10000);
  CHECK(post_until_refused(http, n, 1000, acked).status == 0);
  vigie->signal(SIGTERM);
  REQUIRE(vigie->wait(15000) == 0);
}

// Every acked n is stored exactly once.
void check_stored(const StoreWorkspace& ws, const std::set<std::int64_t>& acked) {
  auto store = vigie::store::Store::open(ws.file("data/v.db"));
  REQUIRE(store);
  auto events =
      (*store)->recent_events(std::string("alertmanager.alert"), std::nullopt, 10'000'000);
  REQUIRE(events);
  std::map<std::string, int> stored;
  for (const auto& e : *events) ++stored[e.attrs.value("n", "")];
  std::size_t lost = 0, twice = 0;
  for (auto n : acked) lost += stored.count(load_label(n)) == 0;
  for (const auto& [label, count] : stored) twice += count > 1;
  INFO("acked " << acked.size() << ", stored " << stored.size());
  CHECK(lost == 0);
  CHECK(twice == 0);
}

}  // namespace

TEST_CASE(
    "a full store: 503 with a JSON error and a log line, nothing acked lost, ingest resumes when "
    "space returns") {
  FakeSlack slack("xoxb-crash-store");
  StoreWorkspace ws("full", slack.base_url());
  const bool tmpfs = ws.mount_tmpfs("size=2m");
  // Without mount rights: the daemon's file size limit stands in for the full disk.
  if (!tmpfs)
    ::signal(SIGXFSZ, SIG_IGN);  // inherited by the child: a write past the limit fails with EFBIG
  std::unique_ptr<Child> vigie;
  const auto port = start(vigie, ws);
  REQUIRE(port != 0);
  if (!tmpfs) {
    WARN("no mount rights: RLIMIT_FSIZE on the daemon stands in for a full disk");
    const rlimit limit{2 << 20, RLIM_INFINITY};
    REQUIRE(::prlimit(vigie->pid(), RLIMIT_FSIZE, &limit, nullptr) == 0);
  }
  HttpClient http(port, 10000);
  // An alert whose Slack post is applied but whose answer comes only once the store is full:
  // its result must be recorded when space returns, not dropped (its job would run again at the
  // next restart: a second message).
  REQUIRE(post_held_alert(http, slack));
  std::set<std::int64_t> acked;
  std::int64_t n = 0;
  const auto refused = post_until_refused(http, n, 400'000, acked);
  INFO("acked " << acked.size() << " before the store filled up");
  REQUIRE(refused.status == 503);
  CHECK(acked.size() > 1000);
  const auto error = nlohmann::json::parse(refused.body, nullptr, false);
  REQUIRE(error.is_object());
  INFO(refused.body);
  WARN("store full: " << refused.body);
  CHECK(error.value("error", "") == "not stored, retry");
  const std::string detail = error.dump();
  CHECK((detail.find("full") != std::string::npos || detail.find("disk I/O") != std::string::npos));
  CHECK_FALSE(wait_for_line(ws.file("err.log"), "store commit failed", 5000).empty());
  CHECK(http.request("GET", "/healthz").status == 503);
  // Still full: still refused, the daemon lives on.
  std::set<std::int64_t> none;
  std::int64_t again = n;
  CHECK(post_until_refused(http, again, 300, none).status == 503);
  CHECK(none.empty());
  CHECK(vigie->running());
  // Its answer now: the small write of its result may fit where a batch did not (SQLite reuses
  // the WAL's pages) or be refused and kept (the next test); either way it is recorded once.
  slack.release_held();

  // Space returns: the next batches are stored, no restart.
  if (tmpfs) {
    REQUIRE(ws.remount(0, "size=64m"));
  } else {
    const rlimit limit{RLIM_INFINITY, RLIM_INFINITY};
    REQUIRE(::prlimit(vigie->pid(), RLIMIT_FSIZE, &limit, nullptr) == 0);
  }
  std::int64_t after = n;
  const auto resumed = post_until_refused(http, after, 2000, acked);
  INFO(resumed.status << " " << resumed.body);
  CHECK(resumed.status == 0);  // every batch got its 2xx
  CHECK(http.request("GET", "/healthz").status == 200);
  // The held result is recorded, without a restart.
  CHECK(disk_notify_done(ws));
  vigie->signal(SIGTERM);
  CHECK(vigie->wait(15000) == 0);
  check_stored(ws, acked);
  CHECK(slack.count("chat.postMessage") == 1);
}

TEST_CASE(
    "a read-only store: vigie run refuses to start and says why, once writable it starts and "
    "nothing acked is lost") {
  StoreWorkspace ws("readonly");
  const bool tmpfs = ws.mount_tmpfs("size=64m");
  // A store with events in it, then made read-only before the daemon starts again. (A file
  // system turning read-only under a running daemon fails its writes like a full one: the
  // test above.)
  std::set<std::int64_t> acked;
  std::int64_t n = 0;
  run_with_load(ws, n, acked);
  const auto data = ws.dir / "data";
  if (tmpfs) {
    REQUIRE(ws.remount(MS_RDONLY, "size=64m"));
  } else if (::geteuid() != 0) {
    std::filesystem::permissions(
        data, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  } else {
    WARN(
        "VIGIE_SKIPPED: root without mount rights cannot make a read-only folder (permissions do "
        "not "
        "bind root)");
    return;
  }
  auto refused = run_process({kBinary, "run", "-c", ws.config()}, {}, 30);
  INFO(refused.err);
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find("opening the store") != std::string::npos);
  CHECK(refused.err.find("is not writable") != std::string::npos);
  CHECK((refused.err.find("Read-only file system") != std::string::npos ||
         refused.err.find("Permission denied") != std::string::npos));

  // Writable again: it starts, takes events, and kept every one acked before.
  if (tmpfs) {
    REQUIRE(ws.remount(0, "size=64m"));
  } else {
    std::filesystem::permissions(data, std::filesystem::perms::owner_all);
  }
  run_with_load(ws, n, acked);
  check_stored(ws, acked);
}

TEST_CASE("a job result the store refuses is kept and recorded once the store can write again") {
  FakeSlack slack("xoxb-crash-store");
  StoreWorkspace ws("locked", slack.base_url());
  std::unique_ptr<Child> vigie;
  const auto port = start(vigie, ws);
  REQUIRE(port != 0);
  HttpClient http(port, 20000);
  REQUIRE(post_held_alert(http, slack));
  // Another connection holds the write lock past the daemon's busy timeout (5 s): its writes
  // fail with "database is locked", as they would on a full disk.
  auto other = vigie::store::Store::open(ws.file("data/v.db"));
  REQUIRE(other);
  std::atomic<bool> locked{false}, unlock{false};
  std::thread holder([&] {
    (void)(*other)->write([&] {
      locked = true;
      for (int i = 0; i < 300 && !unlock; ++i) std::this_thread::sleep_for(50ms);
      return true;
    });
  });
  while (!locked) std::this_thread::sleep_for(5ms);
  slack.release_held();
  const bool refused = !wait_for_line(ws.file("err.log"), "job result not recorded", 12000).empty();
  unlock = true;
  holder.join();
  other->reset();
  CHECK(refused);
  CHECK(disk_notify_done(ws));  // recorded without a restart
  vigie->signal(SIGTERM);
  CHECK(vigie->wait(15000) == 0);
  // Nothing is left for a restart to run again.
  auto store = vigie::store::Store::open(ws.file("data/v.db"));
  REQUIRE(store);
  auto unfinished = (*store)->unfinished_jobs();
  REQUIRE(unfinished);
  CHECK(unfinished->empty());
  CHECK(slack.count("chat.postMessage") == 1);
}

TEST_CASE(
    "a store turning read-only under the running daemon: 503 with a JSON error and a log line, "
    "nothing acked lost, ingest resumes once it is writable") {
  StoreWorkspace ws("rofs");
  LoopExt4 fs(ws.dir / "ext4.img", ws.dir / "data");  // destroyed (unmounted) before ws
  if (auto why = fs.create(); !why.empty()) {
    WARN(
        "VIGIE_SKIPPED: a read-only file system at runtime needs root with mount rights, a loop "
        "device, mkfs.ext4 and ext4's trigger_fs_error: "
        << why);
    return;
  }
  std::unique_ptr<Child> vigie;
  auto port = start(vigie, ws);
  REQUIRE(port != 0);
  HttpClient http(port, 10000);
  std::set<std::int64_t> acked;
  std::int64_t n = 0;
  REQUIRE(post_until_refused(http, n, 1000, acked).status == 0);

  // What the acked events' commits wrote is on the disk before it fails: with synchronous=NORMAL
  // a commit is not flushed, and what the kernel had not written back when the file system
  // turned read-only is gone, as after a power loss (docs/store.md) — not this test's subject.
  ::sync();
  REQUIRE(fs.make_read_only());
  std::set<std::int64_t> none;
  const auto refused = post_until_refused(http, n, 100, none);
  INFO(refused.body);
  WARN("store read-only: " << refused.body);
  REQUIRE(refused.status == 503);
  CHECK(none.empty());
  const auto error = nlohmann::json::parse(refused.body, nullptr, false);
  REQUIRE(error.is_object());
  CHECK(error.value("error", "") == "not stored, retry");
  CHECK(error.value("detail", "").find("disk I/O error") != std::string::npos);
  const auto line = wait_for_line(ws.file("err.log"), "store commit failed", 5000);
  INFO(line);
  CHECK_FALSE(line.empty());
  CHECK(line.find("Read-only file system") != std::string::npos);
  CHECK(http.request("GET", "/healthz").status == 503);
  // Still read-only: still refused, the daemon lives on.
  std::int64_t again = n;
  CHECK(post_until_refused(http, again, 300, none).status == 503);
  CHECK(none.empty());
  CHECK(vigie->running());
  // It stops on SIGTERM although its store cannot write (status aside: its last writes fail).
  vigie->signal(SIGTERM);
  CHECK(vigie->wait(15000) != -1);

  // Writable again (unmounted, checked, mounted): it starts, takes events, kept every one acked.
  const auto why = fs.remount_fresh();
  INFO(why);
  REQUIRE(why.empty());
  port = start(vigie, ws);
  REQUIRE(port != 0);
  HttpClient after(port, 10000);
  CHECK(post_until_refused(after, n, 1000, acked).status == 0);
  CHECK(after.request("GET", "/healthz").status == 200);
  vigie->signal(SIGTERM);
  CHECK(vigie->wait(15000) == 0);
  check_stored(ws, acked);
}
