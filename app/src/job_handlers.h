// What a worker does with each job kind. Until Slack delivery exists (`[slack]` absent), a notify
// job is written to the log: alerts stay visible and their outbox jobs finish.
#pragma once

#include "vigie/bus/jobs.h"
#include "vigie/config/config.h"
#include "vigie/core/log.h"

namespace vigie::app {

// The handler a JobWorker runs: dispatches on `job.kind`; an unknown kind fails the job with a
// reason (retrying would not help).
bus::JobWorker::Handler make_job_handler(const config::Config& cfg, Logging& logging);

}  // namespace vigie::app
