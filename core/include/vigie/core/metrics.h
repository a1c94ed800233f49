// Prometheus metrics: counters, gauges and histograms with labels, rendered in the text
// exposition format at /metrics. Thread-safe; updates are atomic adds on pre-registered series.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace vigie {

class Counter {
 public:
  void inc(double v = 1) {
    double cur = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {}
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  std::vector<double> bounds() const { return bounds_; }
  std::vector<std::uint64_t> counts() const;  // cumulative per bound, then +Inf
  double sum() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  Counter sum_;
};

class Metrics {
 public:
  // Returns the series for (name, labels), creating it; the same arguments give the same series.
  // `labels` like {{"source", "sentry"}}.
  Counter& counter(const std::string& name, const std::string& help,
                   const std::map<std::string, std::string>& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help,
               const std::map<std::string, std::string>& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                       const std::map<std::string, std::string>& labels = {});

  // Prometheus text format 0.0.4.
  std::string render() const;

 private:
  struct Family {
    std::string type, help;
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

}  // namespace vigie
