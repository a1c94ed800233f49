// What a worker does with each job kind. Notify jobs go to Slack through the delivery queue when
// vigie.toml has a [slack] section, and to the log otherwise (alerts stay visible and their
// outbox jobs finish). A kind without a handler fails its job with that reason.
#pragma once

#include <memory>

#include "vigie/bus/jobs.h"
#include "vigie/config/config.h"
#include "vigie/core/clock.h"
#include "vigie/core/log.h"

namespace vigie::app {

class JobRunner {
 public:
  // Reads the secrets it needs (problems go to `diags`); nullptr when a secret is missing.
  static std::unique_ptr<JobRunner> create(const config::Config& cfg, Logging& logging, Clock& clock,
                                           config::Diagnostics& diags);
  ~JobRunner();
  bus::JobWorker::AsyncHandler handler();
  std::size_t capacity() const;  // jobs the worker may hold at once
  // [actions] enabled as vigie.toml says now (a reload re-reads it): false refuses action jobs.
  void set_actions_enabled(bool enabled);
  void stop();                   // stops the delivery queue (pending jobs are dispatched again later)

 private:
  struct Impl;
  explicit JobRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::app
