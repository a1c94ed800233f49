// Metrics registry and Prometheus text rendering.
#include "vigie/core/metrics.h"

#include <cmath>
#include <cstdio>

namespace vigie {
namespace {

std::string label_text(const std::map<std::string, std::string>& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"";
    for (char c : v) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

std::string with_le(const std::string& labels, const std::string& le) {
  if (labels.empty()) return "{le=\"" + le + "\"}";
  return labels.substr(0, labels.size() - 1) + ",le=\"" + le + "\"}";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::observe(double v) {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.inc(v);
}

std::vector<std::uint64_t> Histogram::counts() const {
  std::vector<std::uint64_t> out;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    out.push_back(total);
  }
  return out;
}

double Histogram::sum() const { return sum_.value(); }

Counter& Metrics::counter(const std::string& name, const std::string& help,
                          const std::map<std::string, std::string>& labels) {
  std::lock_guard lock(mutex_);
  auto& f = families_[name];
  f.type = "counter";
  f.help = help;
  auto& slot = f.counters[label_text(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Metrics::gauge(const std::string& name, const std::string& help,
                      const std::map<std::string, std::string>& labels) {
  std::lock_guard lock(mutex_);
  auto& f = families_[name];
  f.type = "gauge";
  f.help = help;
  auto& slot = f.gauges[label_text(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Metrics::histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                              const std::map<std::string, std::string>& labels) {
  std::lock_guard lock(mutex_);
  auto& f = families_[name];
  f.type = "histogram";
  f.help = help;
  auto& slot = f.histograms[label_text(labels)];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return *slot;
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, c] : f.counters) out += name + labels + " " + number(c->value()) + "\n";
    for (const auto& [labels, g] : f.gauges) out += name + labels + " " + number(g->value()) + "\n";
    for (const auto& [labels, h] : f.histograms) {
      const auto bounds = h->bounds();
      const auto counts = h->counts();
      for (std::size_t i = 0; i < bounds.size(); ++i) {
        out += name + "_bucket" + with_le(labels, number(bounds[i])) + " " + std::to_string(counts[i]) + "\n";
      }
      out += name + "_bucket" + with_le(labels, "+Inf") + " " + std::to_string(counts.back()) + "\n";
      out += name + "_sum" + labels + " " + number(h->sum()) + "\n";
      out += name + "_count" + labels + " " + std::to_string(counts.back()) + "\n";
    }
  }
  return out;
}

}  // namespace vigie
