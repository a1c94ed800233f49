// Store: SQLite with WAL and synchronous=NORMAL (a committed transaction survives a process
// crash; a power loss may lose the last ones — docs/store.md), cached prepared statements, one
// transaction per batch of events.
#include "vigie/store/store.h"

#include "migrations.h"
#include "sqlite.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <limits>
#include <mutex>
#include <system_error>
#include <thread>
#include <tuple>

namespace vigie::store {

using detail::Statement;

namespace {

tl::unexpected<StoreError> fail(std::string_view what, const detail::Database& db) {
  return tl::unexpected(StoreError{std::string(what) + ": " + db.error()});
}

// Steps a statement to the end, turning each row into a T.
template <typename T, typename FromRow>
Result<std::vector<T>> collect_rows(detail::Database& db, Statement& st, std::string_view what, FromRow from_row) {
  std::vector<T> out;
  for (;;) {
    const int rc = st.step();
    if (rc == SQLITE_DONE) return out;
    if (rc != SQLITE_ROW) return fail(what, db);
    out.push_back(from_row(st));
  }
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json parse_or(const std::string& text, nlohmann::json fallback) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

std::optional<TimePoint> opt_time(const Statement& st, int col) {
  if (st.is_null(col)) return std::nullopt;
  return from_unix_ms(st.integer(col));
}

void bind_opt_time(Statement& st, int i, const std::optional<TimePoint>& t) {
  if (t) st.bind(i, to_unix_ms(*t));
  else st.bind_null(i);
}

bus::Event event_from_row(const Statement& st, int first) {
  bus::Event e;
  e.id = st.text(first);
  e.source = st.text(first + 1);
  e.kind = st.text(first + 2);
  e.time = from_unix_ms(st.integer(first + 3));
  e.received_at = from_unix_ms(st.integer(first + 4));
  e.attrs = parse_or(st.text(first + 5), nlohmann::json::object());
  return e;
}

constexpr const char* kEventColumns = "id, source, kind, time_ms, received_ms, attrs";
constexpr const char* kAlertColumns =
    "id, fingerprint, rule, labels, state, silenced, inhibited, count, first_seen_ms, last_seen_ms, "
    "last_event_id, acked_by, acked_ms, resolved_ms, occurrence, previous_id, data";

Alert alert_from_row(const Statement& st) {
  Alert a;
  a.id = st.integer(0);
  a.fingerprint = st.text(1);
  a.rule = st.text(2);
  a.labels = parse_or(st.text(3), nlohmann::json::object());
  a.state = st.text(4);
  a.silenced = st.integer(5) != 0;
  a.inhibited = st.integer(6) != 0;
  a.count = st.integer(7);
  a.first_seen = from_unix_ms(st.integer(8));
  a.last_seen = from_unix_ms(st.integer(9));
  a.last_event_id = st.text(10);
  a.acked_by = st.text(11);
  a.acked_at = opt_time(st, 12);
  a.resolved_at = opt_time(st, 13);
  a.occurrence = st.integer(14);
  a.previous_id = st.integer(15);
  a.data = parse_or(st.text(16), nlohmann::json::object());
  return a;
}

constexpr const char* kJobColumns = "id, kind, payload, state, attempts, alert_id, created_ms, updated_ms, result";

Job job_from_row(const Statement& st) {
  Job j;
  j.id = st.text(0);
  j.kind = st.text(1);
  j.payload = parse_or(st.text(2), nlohmann::json::object());
  j.state = st.text(3);
  j.attempts = st.integer(4);
  j.alert_id = st.integer(5);
  j.created = from_unix_ms(st.integer(6));
  j.updated = from_unix_ms(st.integer(7));
  j.result = parse_or(st.text(8), nlohmann::json::object());
  return j;
}

constexpr const char* kSilenceColumns =
    "id, matchers, starts_ms, ends_ms, author, comment, expire_on_resolve, created_ms, expired_ms";

Silence silence_from_row(const Statement& st) {
  Silence s;
  s.id = st.text(0);
  s.matchers = parse_or(st.text(1), nlohmann::json::array());
  s.starts = from_unix_ms(st.integer(2));
  s.ends = from_unix_ms(st.integer(3));
  s.author = st.text(4);
  s.comment = st.text(5);
  s.expire_on_resolve = st.integer(6) != 0;
  s.created = from_unix_ms(st.integer(7));
  s.expired = opt_time(st, 8);
  return s;
}

bool known_alert_state(const std::string& s) { return s == "firing" || s == "acknowledged" || s == "resolved"; }
bool known_job_state(const std::string& s) {
  return s == "pending" || s == "dispatched" || s == "done" || s == "failed";
}

// Opens the file and sets the durability pragmas; every error names the file.
Result<bool> open_database(detail::Database& db, const std::string& path, const OpenOptions& options) {
  const std::string what = "opening the store '" + path + "'";
  sqlite3* handle = nullptr;
  // NOMUTEX: a Store is used by one thread at a time (the engine's), so SQLite's own locking
  // would only cost.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  db.set_handle(handle);
  if (rc != SQLITE_OK) return fail(what, db);
  const auto timeout = std::clamp<std::int64_t>(options.busy_timeout.count(), 0, std::numeric_limits<int>::max());
  sqlite3_busy_timeout(handle, static_cast<int>(timeout));
  sqlite3_extended_result_codes(handle, 1);
  // A file from a newer build is refused before anything (even the journal mode) is written to it.
  if (auto v = detail::user_version(db); !v) {
    return tl::unexpected(StoreError{what + ": " + v.error().message});
  } else if (*v > kSchemaVersion) {
    return tl::unexpected(StoreError{what + ": " + detail::too_new(*v).message});
  }
  // journal_mode answers with the mode it got: a file system without shared memory support
  // would silently stay in rollback mode, which the durability notes do not describe.
  {
    auto st = db.prepare("PRAGMA journal_mode=WAL", what + ": setting journal_mode=WAL");
    if (!st) return tl::unexpected(st.error());
    if (st->step() != SQLITE_ROW) return fail(what + ": setting journal_mode=WAL", db);
    const std::string mode = st->text(0);
    if (mode != "wal" && mode != "memory") {
      return tl::unexpected(StoreError{what + ": the journal stayed in '" + mode + "' mode instead of WAL"});
    }
  }
  for (const char* pragma : {"PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY"}) {
    if (auto ok = db.exec(pragma, what + ": " + pragma); !ok) return tl::unexpected(ok.error());
  }
  return true;
}

// Why SQLite could not open or write a file, when the file system says so: SQLite's own
// message for a read-only folder is "unable to open database file", and for a file system that
// turned read-only under it (ext4 errors=remount-ro) "disk I/O error". "" when nothing is wrong.
std::string not_writable_hint(const std::string& path) {
  if (path.empty() || path == ":memory:") return "";
  const std::filesystem::path file(path);
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  auto hint = [](const char* what, const std::filesystem::path& p, int e) {
    return std::string(" (") + what + " '" + p.string() + "' is not writable: " + std::generic_category().message(e) + ")";
  };
  // The folder too: SQLite creates the -wal and -shm files beside the database.
  for (const auto& [p, what] : {std::pair{dir, "its folder"}, std::pair{file, "the file"}}) {
    if (p == file && ::access(p.c_str(), F_OK) != 0) continue;
    if (::access(p.c_str(), W_OK) != 0) return hint(what, p, errno);
  }
  // access() goes by the mount's flags and permissions; a file system that turned read-only after
  // an error keeps its flags and refuses only the writes themselves. A new file shows it (never
  // the database itself: closing a descriptor of it would drop SQLite's locks).
  const auto probe = dir / (".vigie-write-probe-" + std::to_string(::getpid()));
  const int fd = ::open(probe.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return errno == EEXIST ? "" : hint("its folder", dir, errno);
  ::close(fd);
  ::unlink(probe.c_str());
  return "";
}

}  // namespace

// Copies the WAL back into the database file on a connection and thread of its own, when woken:
// by the writer's commit hook once per kBackgroundCheckpointPages new frames, and by Store::idle
// for the frames since. PASSIVE: it never waits for, nor blocks, the writer; frames committed
// while it runs are left for the next run.
class Checkpointer {
 public:
  ~Checkpointer() { stop(); }

  Result<bool> start(const std::string& path) {
    const std::string what = "opening the store '" + path + "' for background checkpoints";
    sqlite3* handle = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &handle,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.set_handle(handle);
    if (rc != SQLITE_OK) return fail(what, db_);
    // The syncs a checkpoint makes (the WAL before, the file after) follow this connection's
    // setting.
    if (auto ok = db_.exec("PRAGMA synchronous=NORMAL", what); !ok)
      return tl::unexpected(ok.error());
    thread_ = std::thread([this] { run(); });
    return true;
  }

  void wake() {
    {
      std::lock_guard lock(mutex_);
      due_ = true;
      ++requested_;
    }
    cv_.notify_one();
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  // One checkpoint at a time from this process: SQLite answers a second one with SQLITE_BUSY at
  // once, so a writer that must bound the WAL would find the background run in its way forever.
  int checkpoint(sqlite3* db, const char* schema) {
    std::lock_guard lock(checkpoint_mutex_);
    return sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }

  std::int64_t runs() const { return runs_.load(std::memory_order_relaxed); }
  // Wakes so far, and how many of them a finished run started after.
  std::pair<std::int64_t, std::int64_t> requested_served() const {
    std::lock_guard lock(mutex_);
    return {requested_, served_};
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || due_; });
      if (stopping_) return;
      due_ = false;
      const std::int64_t serving = requested_;
      lock.unlock();
      // A failure (a reader in the way, a full disk) is retried at the next wake; the writer's
      // own checkpoint past kWriterCheckpointPages keeps the WAL bounded meanwhile.
      if (checkpoint(db_.handle(), nullptr) == SQLITE_OK)
        runs_.fetch_add(1, std::memory_order_relaxed);
      lock.lock();
      served_ = serving;
    }
  }

  detail::Database db_;
  std::thread thread_;
  std::mutex checkpoint_mutex_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool due_ = false;
  std::int64_t requested_ = 0;
  std::int64_t served_ = 0;
  bool stopping_ = false;
  std::atomic<std::int64_t> runs_{0};
};

struct Store::Impl {
  detail::Database db;
  std::string path;
  int depth = 0;          // nesting of write()
  bool failed = false;    // a Store call failed inside the current transaction
  std::int64_t commits = 0;
  std::unique_ptr<Checkpointer> checkpointer;  // declared after db: stopped before db closes
  std::atomic<std::int64_t> writer_checkpoints{0};
  int wal_pages_seen = 0;  // the WAL's size at the last commit (the hook runs on the writer's thread)
  int woken_at_pages = 0;  // its size when the background thread was last woken

  // SQLite's WAL hook, called after each commit with the WAL's size in pages. It replaces SQLite's
  // auto-checkpoint (which would checkpoint here, in the committing thread, at 1 000 pages).
  static int on_wal_commit(void* arg, sqlite3* db, const char* schema, int pages) {
    auto* impl = static_cast<Impl*>(arg);
    if (pages >= kWriterCheckpointPages) {
      // The background runs copied most frames already; this copies the rest, so the next commit
      // can start the WAL over (a PASSIVE run beside back-to-back commits never gets that far).
      if (impl->checkpointer->checkpoint(db, schema) == SQLITE_OK) {
        impl->writer_checkpoints.fetch_add(1, std::memory_order_relaxed);
      }
    } else {
      // Once per kBackgroundCheckpointPages new frames, not after every commit past the mark: each
      // run costs two fsyncs, and a page rewritten by many commits is copied once per run.
      if (pages < impl->wal_pages_seen) impl->woken_at_pages = 0;  // the WAL started over
      if (pages - impl->woken_at_pages >= kBackgroundCheckpointPages) {
        impl->woken_at_pages = pages;
        impl->checkpointer->wake();
      }
    }
    impl->wal_pages_seen = pages;
    return SQLITE_OK;
  }

  // The error of a failed write, which also dooms the enclosing write() transaction: a caller
  // that ignores the error must not commit half of its change.
  tl::unexpected<StoreError> write_failed(std::string_view what) {
    if (depth > 0) failed = true;
    return fail(what, db);
  }
  tl::unexpected<StoreError> write_failed(StoreError error) {
    if (depth > 0) failed = true;
    return tl::unexpected(std::move(error));
  }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::string& path, const OpenOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  if (auto ok = open_database(impl->db, path, options); !ok) {
    return tl::unexpected(StoreError{ok.error().message + not_writable_hint(path)});
  }
  if (auto ok = detail::migrate(impl->db, kSchemaVersion); !ok) {
    return tl::unexpected(StoreError{"opening the store '" + path + "': " + ok.error().message + not_writable_hint(path)});
  }
  sqlite3_commit_hook(
      impl->db.handle(),
      [](void* counter) {
        ++*static_cast<std::int64_t*>(counter);
        return 0;  // 0: let the commit proceed
      },
      &impl->commits);
  if (options.background_checkpoints && path != ":memory:" && !path.empty()) {
    impl->checkpointer = std::make_unique<Checkpointer>();
    if (auto ok = impl->checkpointer->start(path); !ok) return tl::unexpected(ok.error());
    sqlite3_wal_hook(impl->db.handle(), &Impl::on_wal_commit, impl.get());
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Result<bool> create_at_version(const std::string& path, int version) {
  detail::Database db;
  if (auto ok = open_database(db, path, {}); !ok) return tl::unexpected(ok.error());
  return detail::migrate(db, version);
}

std::int64_t Store::commits() const { return impl_->commits; }

void Store::idle() {
  auto& impl = *impl_;
  if (!impl.checkpointer || impl.wal_pages_seen <= impl.woken_at_pages) return;
  impl.woken_at_pages = impl.wal_pages_seen;
  impl.checkpointer->wake();
}

CheckpointStats Store::checkpoints() const {
  CheckpointStats st;
  st.writer = impl_->writer_checkpoints.load(std::memory_order_relaxed);
  if (impl_->checkpointer) {
    st.background = impl_->checkpointer->runs();
    std::tie(st.requested, st.served) = impl_->checkpointer->requested_served();
  }
  return st;
}

int Store::schema_version() const {
  auto v = detail::user_version(impl_->db);
  return v ? *v : -1;
}

std::string Store::pragma(const std::string& name) {
  auto st = impl_->db.prepare("PRAGMA " + name, "reading a pragma");
  if (!st || st->step() != SQLITE_ROW) return {};
  return st->text(0);
}

Result<bool> Store::write(const std::function<bool()>& fn) {
  auto& db = impl_->db;
  if (impl_->depth > 0) {
    // Joined to the outer transaction: its caller commits or rolls back. An exception goes up
    // to the outermost write(), which turns it into an error.
    ++impl_->depth;
    bool ok = false;
    try {
      ok = fn();
    } catch (...) {
      --impl_->depth;
      impl_->failed = true;
      throw;
    }
    --impl_->depth;
    if (!ok) impl_->failed = true;
    return ok;
  }
  if (auto ok = db.exec("BEGIN IMMEDIATE", "starting a transaction"); !ok) return tl::unexpected(ok.error());
  impl_->depth = 1;
  impl_->failed = false;
  bool ok = false;
  std::optional<StoreError> thrown;
  try {
    ok = fn();
  } catch (const std::exception& e) {
    thrown = StoreError{std::string("writing a transaction: rolled back after an exception: ") + e.what()};
  } catch (...) {
    thrown = StoreError{"writing a transaction: rolled back after an exception"};
  }
  impl_->depth = 0;
  const bool failed = impl_->failed;
  impl_->failed = false;
  if (thrown) {
    db.rollback();
    return tl::unexpected(*thrown);
  }
  if (!ok) {
    db.rollback();
    return false;
  }
  if (failed) {
    db.rollback();
    return tl::unexpected(StoreError{"writing a transaction: rolled back because a write in it failed or was rolled back"});
  }
  if (auto c = db.exec("COMMIT", "committing a transaction"); !c) {
    db.rollback();
    return tl::unexpected(StoreError{c.error().message + not_writable_hint(impl_->path)});
  }
  return true;
}

Result<std::vector<bool>> Store::insert_events(std::span<const bus::Event> events,
                                               std::span<const std::string> attrs_json) {
  if (events.empty()) return std::vector<bool>{};
  std::vector<bool> inserted;
  inserted.reserve(events.size());
  std::optional<StoreError> error;
  auto done = write([&] {
    auto st = impl_->db.prepare(
        "INSERT INTO events (id, source, kind, time_ms, received_ms, attrs) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT(id) DO NOTHING",
        "inserting events");
    if (!st) {
      error = st.error();
      return false;
    }
    const bool encoded = attrs_json.size() == events.size();
    for (std::size_t i = 0; i < events.size(); ++i) {
      const auto& e = events[i];
      std::string own;
      const std::string& attrs = encoded ? attrs_json[i] : (own = dump(e.attrs));
      st->bind(1, e.id).bind(2, e.source).bind(3, e.kind).bind(4, to_unix_ms(e.time))
          .bind(5, to_unix_ms(e.received_at)).bind(6, attrs);
      if (st->step() != SQLITE_DONE) {
        error = StoreError{"inserting event '" + e.id + "': " + impl_->db.error()};
        return false;
      }
      inserted.push_back(sqlite3_changes(impl_->db.handle()) > 0);
      st->reset();
    }
    return true;
  });
  if (error) return tl::unexpected(*error);
  if (!done) return tl::unexpected(done.error());
  if (!*done) return tl::unexpected(StoreError{"inserting events: rolled back"});
  return inserted;
}

Result<std::optional<bus::Event>> Store::find_event(const std::string& id) {
  auto st = impl_->db.prepare(std::string("SELECT ") + kEventColumns + " FROM events WHERE id = ?", "finding an event");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, id);
  const int rc = st->step();
  if (rc == SQLITE_ROW) return std::optional<bus::Event>(event_from_row(*st, 0));
  if (rc == SQLITE_DONE) return std::optional<bus::Event>();
  return fail("finding an event", impl_->db);
}

Result<std::int64_t> Store::event_count() {
  auto st = impl_->db.prepare("SELECT count(*) FROM events", "counting events");
  if (!st) return tl::unexpected(st.error());
  if (st->step() != SQLITE_ROW) return fail("counting events", impl_->db);
  return st->integer(0);
}

Result<std::size_t> Store::scan_events(TimePoint from, TimePoint to,
                                       const std::function<bool(const bus::Event&)>& fn) {
  auto st = impl_->db.prepare(std::string("SELECT ") + kEventColumns +
                                  " FROM events WHERE time_ms >= ? AND time_ms < ? ORDER BY time_ms, seq",
                              "scanning events");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, to_unix_ms(from)).bind(2, to_unix_ms(to));
  std::size_t n = 0;
  for (;;) {
    const int rc = st->step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return fail("scanning events", impl_->db);
    ++n;
    if (!fn(event_from_row(*st, 0))) break;
  }
  return n;
}

Result<std::size_t> Store::events_between(TimePoint from, TimePoint to,
                                          const std::function<bool(const bus::Event&)>& fn) {
  constexpr std::string_view what = "reading events in stored order";
  const std::int64_t lo = to_unix_ms(from), hi = to_unix_ms(to);
  if (hi <= lo) return std::size_t{0};
  // Two steps so that a million-event replay streams: the time index gives the first and last
  // stored position in the range, then the rows between them are read in rowid (= seq) order,
  // which needs no sort. A single "WHERE time.. ORDER BY seq" would let SQLite sort the whole
  // range in a temporary b-tree first (in memory, with temp_store=MEMORY).
  std::int64_t first = 0, last = 0;
  {
    auto st = impl_->db.prepare("SELECT min(seq), max(seq) FROM events WHERE time_ms >= ? AND time_ms < ?", what);
    if (!st) return tl::unexpected(st.error());
    st->bind(1, lo).bind(2, hi);
    if (st->step() != SQLITE_ROW) return fail(what, impl_->db);
    if (st->is_null(0)) return std::size_t{0};
    first = st->integer(0);
    last = st->integer(1);
  }
  // The unary + keeps SQLite from using the time index for this scan.
  auto st = impl_->db.prepare(std::string("SELECT ") + kEventColumns +
                                  " FROM events WHERE seq >= ? AND seq <= ? AND +time_ms >= ? AND +time_ms < ? "
                                  "ORDER BY seq",
                              what);
  if (!st) return tl::unexpected(st.error());
  st->bind(1, first).bind(2, last).bind(3, lo).bind(4, hi);
  std::size_t n = 0;
  for (;;) {
    const int rc = st->step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return fail(what, impl_->db);
    ++n;
    if (!fn(event_from_row(*st, 0))) break;
  }
  return n;
}

Result<std::vector<bus::Event>> Store::events_since(TimePoint since) {
  std::vector<bus::Event> out;
  auto n = events_between(since, TimePoint::max(), [&](const bus::Event& e) {
    out.push_back(e);
    return true;
  });
  if (!n) return tl::unexpected(n.error());
  return out;
}

Result<std::vector<bus::Event>> Store::recent_events(std::optional<std::string> kind,
                                                     std::optional<TimePoint> since, std::size_t limit) {
  std::string sql = std::string("SELECT ") + kEventColumns + " FROM events WHERE received_ms >= ?";
  if (kind) sql += " AND kind = ?";
  sql += " ORDER BY received_ms DESC, seq DESC LIMIT ?";
  auto st = impl_->db.prepare(sql, "listing events");
  if (!st) return tl::unexpected(st.error());
  int i = 1;
  st->bind(i++, since ? to_unix_ms(*since) : std::numeric_limits<std::int64_t>::min());
  if (kind) st->bind(i++, *kind);
  st->bind(i, static_cast<std::int64_t>(limit));
  return collect_rows<bus::Event>(impl_->db, *st, "listing events", [](const Statement& row) { return event_from_row(row, 0); });
}

Result<std::int64_t> Store::save_alert(Alert& a) {
  if (!known_alert_state(a.state)) {
    return impl_->write_failed(StoreError{"saving an alert: unknown state '" + a.state + "'"});
  }
  const bool insert = a.id == 0;
  const std::string sql =
      insert ? "INSERT INTO alerts (fingerprint, rule, labels, state, silenced, inhibited, count, first_seen_ms, "
               "last_seen_ms, last_event_id, acked_by, acked_ms, resolved_ms, occurrence, previous_id, data) "
               "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
             : "UPDATE alerts SET fingerprint=?, rule=?, labels=?, state=?, silenced=?, inhibited=?, count=?, "
               "first_seen_ms=?, last_seen_ms=?, last_event_id=?, acked_by=?, acked_ms=?, resolved_ms=?, "
               "occurrence=?, previous_id=?, data=? WHERE id=?";
  auto st = impl_->db.prepare(sql, "saving an alert");
  if (!st) return impl_->write_failed(st.error());
  st->bind(1, a.fingerprint).bind(2, a.rule).bind(3, dump(a.labels)).bind(4, a.state).bind(5, a.silenced)
      .bind(6, a.inhibited).bind(7, a.count).bind(8, to_unix_ms(a.first_seen)).bind(9, to_unix_ms(a.last_seen))
      .bind(10, a.last_event_id).bind(11, a.acked_by);
  bind_opt_time(*st, 12, a.acked_at);
  bind_opt_time(*st, 13, a.resolved_at);
  st->bind(14, a.occurrence).bind(15, a.previous_id).bind(16, dump(a.data));
  if (!insert) st->bind(17, a.id);
  if (st->step() != SQLITE_DONE) return impl_->write_failed("saving an alert");
  if (insert) {
    a.id = sqlite3_last_insert_rowid(impl_->db.handle());
  } else if (sqlite3_changes(impl_->db.handle()) == 0) {
    return impl_->write_failed(StoreError{"saving an alert: no alert with id " + std::to_string(a.id)});
  }
  return a.id;
}

namespace {
Result<std::vector<Alert>> alerts_query(detail::Database& db, const std::string& where,
                                        const std::function<void(Statement&)>& bind) {
  auto st = db.prepare(std::string("SELECT ") + kAlertColumns + " FROM alerts " + where, "reading alerts");
  if (!st) return tl::unexpected(st.error());
  bind(*st);
  return collect_rows<Alert>(db, *st, "reading alerts", [](const Statement& row) { return alert_from_row(row); });
}
}  // namespace

Result<std::optional<Alert>> Store::find_alert(std::int64_t id) {
  auto r = alerts_query(impl_->db, "WHERE id = ?", [&](Statement& st) { st.bind(1, id); });
  if (!r) return tl::unexpected(r.error());
  if (r->empty()) return std::optional<Alert>();
  return std::optional<Alert>(std::move(r->front()));
}

Result<std::optional<Alert>> Store::latest_alert(const std::string& fingerprint) {
  auto r = alerts_query(impl_->db, "WHERE fingerprint = ? ORDER BY id DESC LIMIT 1",
                        [&](Statement& st) { st.bind(1, fingerprint); });
  if (!r) return tl::unexpected(r.error());
  if (r->empty()) return std::optional<Alert>();
  return std::optional<Alert>(std::move(r->front()));
}

Result<std::vector<Alert>> Store::alerts_in_state(std::optional<std::string> state) {
  if (!state) return alerts_query(impl_->db, "ORDER BY id", [](Statement&) {});
  return alerts_query(impl_->db, "WHERE state = ? ORDER BY id", [&](Statement& st) { st.bind(1, *state); });
}

Result<std::vector<Alert>> Store::open_alerts() {
  return alerts_query(impl_->db, "WHERE state IN ('firing', 'acknowledged') ORDER BY id", [](Statement&) {});
}

Result<bool> Store::set_slack_message(const SlackMessage& m) {
  auto st = impl_->db.prepare(
      "INSERT INTO slack_messages (alert_id, channel, ts, digest) VALUES (?,?,?,?) "
      "ON CONFLICT(alert_id) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, digest = excluded.digest",
      "saving a Slack message");
  if (!st) return impl_->write_failed(st.error());
  st->bind(1, m.alert_id).bind(2, m.channel).bind(3, m.ts).bind(4, static_cast<std::int64_t>(m.digest ? 1 : 0));
  if (st->step() != SQLITE_DONE) return impl_->write_failed("saving a Slack message");
  return true;
}

Result<std::optional<SlackMessage>> Store::slack_message(std::int64_t alert_id) {
  auto st = impl_->db.prepare("SELECT alert_id, channel, ts, digest FROM slack_messages WHERE alert_id = ?",
                              "reading a Slack message");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, alert_id);
  const int rc = st->step();
  if (rc == SQLITE_DONE) return std::optional<SlackMessage>();
  if (rc != SQLITE_ROW) return fail("reading a Slack message", impl_->db);
  return std::optional<SlackMessage>(SlackMessage{st->integer(0), st->text(1), st->text(2), st->integer(3) != 0});
}

Result<bool> Store::add_job(const Job& job) {
  if (!known_job_state(job.state)) {
    return impl_->write_failed(StoreError{"adding a job: unknown state '" + job.state + "'"});
  }
  auto st = impl_->db.prepare(
      "INSERT INTO outbox (id, kind, payload, state, attempts, alert_id, created_ms, updated_ms, result) "
      "VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING",
      "adding a job");
  if (!st) return impl_->write_failed(st.error());
  st->bind(1, job.id).bind(2, job.kind).bind(3, dump(job.payload)).bind(4, job.state).bind(5, job.attempts)
      .bind(6, job.alert_id).bind(7, to_unix_ms(job.created)).bind(8, to_unix_ms(job.updated))
      .bind(9, dump(job.result));
  if (st->step() != SQLITE_DONE) return impl_->write_failed("adding a job");
  return sqlite3_changes(impl_->db.handle()) > 0;
}

namespace {
Result<std::vector<Job>> jobs_query(detail::Database& db, const std::string& where, std::string_view what) {
  auto st = db.prepare(std::string("SELECT ") + kJobColumns + " FROM outbox " + where, what);
  if (!st) return tl::unexpected(st.error());
  return collect_rows<Job>(db, *st, what, [](const Statement& row) { return job_from_row(row); });
}
}  // namespace

Result<std::vector<Job>> Store::unfinished_jobs() {
  return jobs_query(impl_->db, "WHERE state IN ('pending', 'dispatched') ORDER BY created_ms, id",
                    "listing unfinished jobs");
}

Result<std::vector<Job>> Store::pending_jobs() {
  return jobs_query(impl_->db, "WHERE state = 'pending' ORDER BY created_ms, id", "listing pending jobs");
}

Result<bool> Store::mark_job(const std::string& id, const std::string& state, const nlohmann::json& result,
                             TimePoint now) {
  if (!known_job_state(state)) {
    return impl_->write_failed(StoreError{"updating job " + id + ": unknown state '" + state + "'"});
  }
  // A finished job stays finished: a late or repeated result cannot reopen it.
  auto st = impl_->db.prepare(
      "UPDATE outbox SET state = ?, result = ?, updated_ms = ?, "
      "attempts = attempts + (CASE WHEN ? = 'dispatched' THEN 1 ELSE 0 END) "
      "WHERE id = ? AND state NOT IN ('done', 'failed')",
      "updating a job");
  if (!st) return impl_->write_failed(st.error());
  st->bind(1, state).bind(2, dump(result)).bind(3, to_unix_ms(now)).bind(4, state).bind(5, id);
  if (st->step() != SQLITE_DONE) return impl_->write_failed("updating a job");
  return sqlite3_changes(impl_->db.handle()) > 0;
}

Result<std::optional<Job>> Store::find_job(const std::string& id) {
  auto st = impl_->db.prepare(std::string("SELECT ") + kJobColumns + " FROM outbox WHERE id = ?", "finding a job");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, id);
  const int rc = st->step();
  if (rc == SQLITE_DONE) return std::optional<Job>();
  if (rc != SQLITE_ROW) return fail("finding a job", impl_->db);
  return std::optional<Job>(job_from_row(*st));
}

Result<bool> Store::save_silence(const Silence& s) {
  auto st = impl_->db.prepare(
      "INSERT INTO silences (id, matchers, starts_ms, ends_ms, author, comment, expire_on_resolve, created_ms, "
      "expired_ms) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET matchers = excluded.matchers, "
      "starts_ms = excluded.starts_ms, ends_ms = excluded.ends_ms, author = excluded.author, "
      "comment = excluded.comment, expire_on_resolve = excluded.expire_on_resolve, expired_ms = excluded.expired_ms",
      "saving a silence");
  if (!st) return impl_->write_failed(st.error());
  st->bind(1, s.id).bind(2, dump(s.matchers)).bind(3, to_unix_ms(s.starts)).bind(4, to_unix_ms(s.ends))
      .bind(5, s.author).bind(6, s.comment).bind(7, s.expire_on_resolve).bind(8, to_unix_ms(s.created));
  bind_opt_time(*st, 9, s.expired);
  if (st->step() != SQLITE_DONE) return impl_->write_failed("saving a silence");
  return true;
}

Result<std::vector<Silence>> Store::active_silences(TimePoint at) {
  auto st = impl_->db.prepare(std::string("SELECT ") + kSilenceColumns +
                                  " FROM silences WHERE starts_ms <= ? AND ends_ms > ? AND expired_ms IS NULL ORDER BY created_ms",
                              "listing silences");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, to_unix_ms(at)).bind(2, to_unix_ms(at));
  return collect_rows<Silence>(impl_->db, *st, "listing silences", [](const Statement& row) { return silence_from_row(row); });
}

Result<std::vector<Silence>> Store::all_silences() {
  auto st = impl_->db.prepare(std::string("SELECT ") + kSilenceColumns + " FROM silences ORDER BY created_ms, id",
                              "listing silences");
  if (!st) return tl::unexpected(st.error());
  return collect_rows<Silence>(impl_->db, *st, "listing silences", [](const Statement& row) { return silence_from_row(row); });
}

namespace {
constexpr const char* kChatRequestColumns = "id, state, data, created_ms, expires_ms, updated_ms";
ChatRequest chat_request_from_row(const Statement& st) {
  ChatRequest r;
  r.id = st.text(0);
  r.state = st.text(1);
  r.data = parse_or(st.text(2), nlohmann::json::object());
  r.created = from_unix_ms(st.integer(3));
  r.expires = from_unix_ms(st.integer(4));
  r.updated = from_unix_ms(st.integer(5));
  return r;
}
}  // namespace

Result<bool> Store::save_chat_request(const ChatRequest& r) {
  auto st = impl_->db.prepare(
      "INSERT INTO chat_requests (id, state, data, created_ms, expires_ms, updated_ms) VALUES (?,?,?,?,?,?) "
      "ON CONFLICT(id) DO UPDATE SET state = excluded.state, data = excluded.data, expires_ms = excluded.expires_ms, "
      "updated_ms = excluded.updated_ms",
      "saving a chat request");
  if (!st) return impl_->write_failed(st.error());
  st->bind(1, r.id).bind(2, r.state).bind(3, dump(r.data)).bind(4, to_unix_ms(r.created))
      .bind(5, to_unix_ms(r.expires)).bind(6, to_unix_ms(r.updated));
  if (st->step() != SQLITE_DONE) return impl_->write_failed("saving a chat request");
  return true;
}

Result<std::optional<ChatRequest>> Store::find_chat_request(const std::string& id) {
  auto st = impl_->db.prepare(std::string("SELECT ") + kChatRequestColumns + " FROM chat_requests WHERE id = ?",
                              "finding a chat request");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, id);
  const int rc = st->step();
  if (rc == SQLITE_DONE) return std::optional<ChatRequest>();
  if (rc != SQLITE_ROW) return fail("finding a chat request", impl_->db);
  return std::optional<ChatRequest>(chat_request_from_row(*st));
}

Result<std::vector<ChatRequest>> Store::open_chat_requests() {
  auto st = impl_->db.prepare(std::string("SELECT ") + kChatRequestColumns +
                                  " FROM chat_requests WHERE state LIKE 'awaiting_%' ORDER BY created_ms, id",
                              "listing chat requests");
  if (!st) return tl::unexpected(st.error());
  return collect_rows<ChatRequest>(impl_->db, *st, "listing chat requests",
                                   [](const Statement& row) { return chat_request_from_row(row); });
}

namespace {
constexpr const char* kActionRunColumns = "action, target, job_id, requested_by, state, started_ms, finished_ms";
ActionRun action_run_from_row(const Statement& st) {
  ActionRun r;
  r.action = st.text(0);
  r.target = st.text(1);
  r.job_id = st.text(2);
  r.requested_by = st.text(3);
  r.state = st.text(4);
  r.started = from_unix_ms(st.integer(5));
  if (!st.is_null(6)) r.finished = from_unix_ms(st.integer(6));
  return r;
}
}  // namespace

Result<bool> Store::start_action_run(const ActionRun& r) {
  auto st = impl_->db.prepare(
      "INSERT INTO action_runs (action, target, job_id, requested_by, state, started_ms) VALUES (?,?,?,?,?,?) "
      "ON CONFLICT(job_id) DO NOTHING",
      "recording an action run");
  if (!st) return impl_->write_failed(st.error());
  st->bind(1, r.action).bind(2, r.target).bind(3, r.job_id).bind(4, r.requested_by).bind(5, r.state)
      .bind(6, to_unix_ms(r.started));
  if (st->step() != SQLITE_DONE) return impl_->write_failed("recording an action run");
  return true;
}

Result<bool> Store::finish_action_run(const std::string& job_id, const std::string& state, TimePoint at) {
  auto st = impl_->db.prepare("UPDATE action_runs SET state = ?, finished_ms = ? WHERE job_id = ? AND state = 'running'",
                              "finishing an action run");
  if (!st) return impl_->write_failed(st.error());
  st->bind(1, state).bind(2, to_unix_ms(at)).bind(3, job_id);
  if (st->step() != SQLITE_DONE) return impl_->write_failed("finishing an action run");
  return sqlite3_changes(impl_->db.handle()) > 0;
}

Result<std::vector<ActionRun>> Store::action_runs(const std::string& action, const std::string& target,
                                                  TimePoint since) {
  auto st = impl_->db.prepare(std::string("SELECT ") + kActionRunColumns +
                                  " FROM action_runs WHERE action = ? AND target = ? AND (started_ms >= ? OR "
                                  "state = 'running') ORDER BY started_ms DESC, id DESC",
                              "listing action runs");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, action).bind(2, target).bind(3, to_unix_ms(since));
  return collect_rows<ActionRun>(impl_->db, *st, "listing action runs",
                                 [](const Statement& row) { return action_run_from_row(row); });
}

Result<std::optional<Silence>> Store::find_silence(const std::string& id) {
  auto st = impl_->db.prepare(std::string("SELECT ") + kSilenceColumns + " FROM silences WHERE id = ?",
                              "finding a silence");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, id);
  const int rc = st->step();
  if (rc == SQLITE_DONE) return std::optional<Silence>();
  if (rc != SQLITE_ROW) return fail("finding a silence", impl_->db);
  return std::optional<Silence>(silence_from_row(*st));
}

Result<bool> Store::expire_silence(const std::string& id, TimePoint at) {
  auto st = impl_->db.prepare("UPDATE silences SET expired_ms = ? WHERE id = ? AND expired_ms IS NULL",
                              "expiring a silence");
  if (!st) return impl_->write_failed(st.error());
  st->bind(1, to_unix_ms(at)).bind(2, id);
  if (st->step() != SQLITE_DONE) return impl_->write_failed("expiring a silence");
  return sqlite3_changes(impl_->db.handle()) > 0;
}

Result<bool> Store::delete_silence(const std::string& id) {
  auto st = impl_->db.prepare("DELETE FROM silences WHERE id = ?", "deleting a silence");
  if (!st) return impl_->write_failed(st.error());
  st->bind(1, id);
  if (st->step() != SQLITE_DONE) return impl_->write_failed("deleting a silence");
  return sqlite3_changes(impl_->db.handle()) > 0;
}

Result<std::int64_t> Store::append_audit(const AuditEntry& e) {
  auto st = impl_->db.prepare(
      "INSERT INTO audit (time_ms, user, channel, action, alert_id, args, result) VALUES (?,?,?,?,?,?,?)",
      "writing the audit log");
  if (!st) return impl_->write_failed(st.error());
  st->bind(1, to_unix_ms(e.time)).bind(2, e.user).bind(3, e.channel).bind(4, e.action).bind(5, e.alert_id)
      .bind(6, dump(e.args)).bind(7, e.result);
  if (st->step() != SQLITE_DONE) return impl_->write_failed("writing the audit log");
  return sqlite3_last_insert_rowid(impl_->db.handle());
}

Result<std::vector<AuditEntry>> Store::audit(const AuditQuery& q) {
  std::string sql = "SELECT id, time_ms, user, channel, action, alert_id, args, result FROM audit WHERE time_ms >= ?";
  if (!q.user.empty()) sql += " AND user = ?";
  sql += " ORDER BY time_ms DESC, id DESC LIMIT ?";
  auto st = impl_->db.prepare(sql, "reading the audit log");
  if (!st) return tl::unexpected(st.error());
  int i = 1;
  st->bind(i++, q.since ? to_unix_ms(*q.since) : std::numeric_limits<std::int64_t>::min());
  if (!q.user.empty()) st->bind(i++, q.user);
  st->bind(i, static_cast<std::int64_t>(q.limit));
  std::vector<AuditEntry> out;
  for (;;) {
    const int rc = st->step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return fail("reading the audit log", impl_->db);
    AuditEntry e;
    e.id = st->integer(0);
    e.time = from_unix_ms(st->integer(1));
    e.user = st->text(2);
    e.channel = st->text(3);
    e.action = st->text(4);
    e.alert_id = st->integer(5);
    e.args = parse_or(st->text(6), nlohmann::json::object());
    e.result = st->text(7);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::optional<std::string>> Store::cursor(const std::string& collector) {
  auto st = impl_->db.prepare("SELECT cursor FROM collector_cursors WHERE name = ?", "reading a cursor");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, collector);
  const int rc = st->step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return fail("reading a cursor", impl_->db);
  return std::optional<std::string>(st->text(0));
}

Result<bool> Store::set_cursor(const std::string& collector, const std::string& cursor, TimePoint now) {
  auto st = impl_->db.prepare(
      "INSERT INTO collector_cursors (name, cursor, updated_ms) VALUES (?,?,?) "
      "ON CONFLICT(name) DO UPDATE SET cursor = excluded.cursor, updated_ms = excluded.updated_ms",
      "saving a cursor");
  if (!st) return impl_->write_failed(st.error());
  st->bind(1, collector).bind(2, cursor).bind(3, to_unix_ms(now));
  if (st->step() != SQLITE_DONE) return impl_->write_failed("saving a cursor");
  return true;
}

Result<std::int64_t> Store::apply_retention(TimePoint now, Duration retention,
                                            std::optional<Duration> audit_retention) {
  for (const Duration d : {retention, audit_retention.value_or(retention)}) {
    if (d <= Duration{0}) {
      return tl::unexpected(StoreError{"applying retention: the retention must be positive, not " +
                                       format_duration(d)});
    }
  }
  const std::int64_t cutoff = to_unix_ms(now - retention);
  const std::int64_t audit_cutoff = to_unix_ms(now - audit_retention.value_or(retention));
  std::int64_t deleted = 0;
  std::optional<StoreError> error;
  auto run = [&](const char* sql, const char* what, std::int64_t before) -> std::optional<std::int64_t> {
    auto st = impl_->db.prepare(sql, what);
    if (!st) {
      error = st.error();
      return std::nullopt;
    }
    st->bind(1, before);
    if (st->step() != SQLITE_DONE) {
      error = StoreError{std::string(what) + ": " + impl_->db.error()};
      return std::nullopt;
    }
    const std::int64_t n = sqlite3_changes(impl_->db.handle());
    deleted += n;
    return n;
  };
  // Events can be millions of rows: deleted a batch per transaction, so an ingest commit waits
  // for one batch (busy timeout), not for the whole purge.
  for (;;) {
    std::int64_t n = 0;
    auto ok = write([&] {
      auto r = run("DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE received_ms < ? LIMIT 10000)",
                   "applying retention: deleting old events", cutoff);
      if (r) n = *r;
      return r.has_value();
    });
    if (error) return tl::unexpected(*error);
    if (!ok) return tl::unexpected(ok.error());
    if (!*ok) return tl::unexpected(StoreError{"applying retention: rolled back"});
    if (n < 10000) break;
  }
  auto ok = write([&] {
    return run("DELETE FROM outbox WHERE state IN ('done', 'failed') AND updated_ms < ?",
               "applying retention: deleting finished jobs", cutoff) &&
           run("DELETE FROM audit WHERE time_ms < ?", "applying retention: deleting old audit rows", audit_cutoff) &&
           run("DELETE FROM slack_messages WHERE alert_id IN (SELECT id FROM alerts WHERE state = 'resolved' "
               "AND resolved_ms < ?)",
               "applying retention: deleting old Slack messages", cutoff) &&
           run("DELETE FROM silences WHERE ends_ms < ?", "applying retention: deleting ended silences", cutoff) &&
           run("DELETE FROM chat_requests WHERE state NOT LIKE 'awaiting_%' AND updated_ms < ?",
               "applying retention: deleting settled chat requests", cutoff);
  });
  if (error) return tl::unexpected(*error);
  if (!ok) return tl::unexpected(ok.error());
  if (!*ok) return tl::unexpected(StoreError{"applying retention: rolled back"});
  return deleted;
}

}  // namespace vigie::store
