// Job handlers by kind, for the worker role.
#include "job_handlers.h"

#include <nlohmann/json.hpp>

namespace vigie::app {
namespace {

// With no [slack] section, a notification is a log line: the operator of a fresh install sees
// alerts in `vigie run`'s output, and the job is done (nothing will deliver it later).
bus::JobResult notify_to_log(const bus::Job& job, const Logger& log) {
  const auto alert = job.payload.value("alert", nlohmann::json::object());
  const auto rule = job.payload.value("rule", nlohmann::json::object());
  std::string channels;
  for (const auto& c : job.payload.value("channels", nlohmann::json::array())) {
    if (!channels.empty()) channels += ",";
    channels += c.is_string() ? c.get<std::string>() : c.dump();
  }
  log.info("alert notification", {{"job", job.id},
                                  {"type", job.payload.value("type", "")},
                                  {"rule", alert.value("rule", "")},
                                  {"state", alert.value("state", "")},
                                  {"count", alert.value("count", std::int64_t{0})},
                                  {"channels", channels},
                                  {"severity", rule.value("severity", "")},
                                  {"summary", rule.value("summary", "")}});
  return {job.id, bus::JobOutcome::ok, {{"delivered", "log"}}, "", Duration{0}, ""};
}

}  // namespace

bus::JobWorker::Handler make_job_handler(const config::Config& /*cfg*/, Logging& logging) {
  return [log = logging.logger("worker")](const bus::Job& job) -> bus::JobResult {
    try {
      if (job.kind == "notify") return notify_to_log(job, log);
      log.error("no handler for this job kind", {{"job", job.id}, {"kind", job.kind}});
      return {job.id, bus::JobOutcome::fail, nlohmann::json::object(),
              "this worker has no handler for job kind '" + job.kind + "'", Duration{0}, ""};
    } catch (const std::exception& e) {
      // A malformed payload fails its job; the worker thread keeps running.
      return {job.id, bus::JobOutcome::fail, nlohmann::json::object(), e.what(), Duration{0}, ""};
    }
  };
}

}  // namespace vigie::app
