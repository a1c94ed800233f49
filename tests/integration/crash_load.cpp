// The load generator: each thread keeps its share of the rate by scheduling its next request at
// a fixed interval (not after a fixed sleep), so slow answers do not lower the rate it asks for.
#include "crash_load.h"

#include <chrono>

#include "http_client.h"

namespace vigie::testing {

std::string load_label(std::int64_t n) { return "x" + std::to_string(n) + "x"; }

std::string load_alert(std::int64_t n) {
  // host cycles over 20 values every 100 events: a soak rule can fire and resolve on a bounded
  // set of groups (n ending in 00 fires host h<k>, n ending in 50 resolves it).
  return R"({"labels":{"alertname":"Load","n":")" + load_label(n) + R"(","host":"h)" +
         std::to_string((n / 100) % 20) + R"("},"fingerprint":"L)" + std::to_string(n) +
         R"(","startsAt":"2026-11-22T09:00:00Z"})";
}

LoadGenerator::LoadGenerator(LoadOptions options) : options_(options), next_n_(options.first_n) {
  running_ = options_.threads;
  for (int t = 0; t < options_.threads; ++t) threads_.emplace_back([this] { run(); });
}

LoadGenerator::~LoadGenerator() { stop(); }

void LoadGenerator::stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

bool LoadGenerator::finished() const { return running_ == 0; }

LoadStats LoadGenerator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::set<std::int64_t> LoadGenerator::acked() const {
  std::lock_guard lock(mutex_);
  return acked_;
}

void LoadGenerator::run() {
  using clock = std::chrono::steady_clock;
  const auto interval =
      options_.rate > 0 ? std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(
                              options_.batch * options_.threads / options_.rate))
                        : clock::duration::zero();
  auto next = clock::now();
  HttpClient http(options_.port, options_.timeout_ms);
  while (!stop_) {
    const std::int64_t first = next_n_.fetch_add(options_.batch);
    std::int64_t count = options_.batch;
    if (options_.max_events > 0) {
      const std::int64_t left = options_.first_n + options_.max_events - first;
      if (left <= 0) break;
      count = std::min(count, left);
    }
    std::string body = "[";
    for (std::int64_t i = 0; i < count; ++i) body += (i ? "," : "") + load_alert(first + i);
    body += "]";
    const auto r = http.request("POST", "/api/v2/alerts", body);
    {
      std::lock_guard lock(mutex_);
      stats_.sent += count;
      stats_.last_status = r.status;
      if (r.status >= 200 && r.status < 300) {
        stats_.acked += count;
        if (options_.record_acked) {
          for (std::int64_t i = 0; i < count; ++i) acked_.insert(first + i);
        }
      } else if (r.status == 0) {
        stats_.failed += count;
      } else {
        stats_.refused += count;
        stats_.last_error_body = r.body;
      }
    }
    if (r.status == 0 && options_.stop_on_connection_error) break;
    if (interval > clock::duration::zero()) {
      next += interval;
      const auto now = clock::now();
      if (next < now - std::chrono::seconds(1)) next = now;  // far behind: do not burst to catch up
      std::this_thread::sleep_until(next);
    }
  }
  --running_;
}

}  // namespace vigie::testing
