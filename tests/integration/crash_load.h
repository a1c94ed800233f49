// A load generator for the crash loop and the soak: threads posting batches of Alertmanager
// alerts, each with a unique label `n`, to a running `vigie run` at a steady rate, remembering
// which `n` got a 2xx (the events Vigie promised to keep).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace vigie::testing {

struct LoadOptions {
  std::uint16_t port = 0;
  int threads = 3;
  int batch = 50;               // events per request
  double rate = 10'000;         // events per second over all threads; 0: as fast as answers come
  std::int64_t first_n = 0;     // the first label n; each event takes the next
  std::int64_t max_events = 0;  // stop after this many were sent; 0: until stop()
  int timeout_ms = 5000;        // per request
  bool stop_on_connection_error = true;  // the server died: stop (the crash loop); else retry
  bool record_acked = true;              // keep every acked n (a long soak only counts them)
};

struct LoadStats {
  std::int64_t sent = 0;     // events posted (whatever the answer)
  std::int64_t acked = 0;    // events in 2xx answers
  std::int64_t refused = 0;  // events in non-2xx answers (503 while the store cannot write...)
  std::int64_t failed = 0;   // events whose request got no answer
  int last_status = 0;
  std::string last_error_body;  // the body of the last non-2xx answer
};

// The alert JSON for label n (`{"labels":{"alertname":"Load","n":"x<n>x","host":...},...}`); its
// event id is `am:L<n>:...`. `n` is wrapped in x…x so one value is never a substring of another.
std::string load_alert(std::int64_t n);
std::string load_label(std::int64_t n);

class LoadGenerator {
 public:
  explicit LoadGenerator(LoadOptions options);
  ~LoadGenerator();  // stops and joins
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  void stop();
  bool finished() const;  // every thread ended (max_events reached, or the server died)
  LoadStats stats() const;
  // The labels n that got a 2xx.
  std::set<std::int64_t> acked() const;
  // The next n not yet handed out: where a following generator should start.
  std::int64_t next_n() const { return next_n_; }

 private:
  void run();
  LoadOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> next_n_;
  std::atomic<int> running_{0};
  mutable std::mutex mutex_;
  LoadStats stats_;               // guarded by mutex_
  std::set<std::int64_t> acked_;  // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace vigie::testing
