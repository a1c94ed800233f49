// Job handlers by kind, for the worker role.
#include "job_handlers.h"

#include <nlohmann/json.hpp>

#include "logs_job.h"
#include "vigie/actions/slack_delivery.h"
#include "vigie/net/http_client.h"

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

struct JobRunner::Impl {
  Logger log;
  std::unique_ptr<net::HttpClient> http;
  std::unique_ptr<actions::slack::SlackDelivery> slack;
  std::unique_ptr<LogsSearcher> logs;  // `logs` jobs (chat), on a thread of their own
};

JobRunner::JobRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JobRunner::~JobRunner() { stop(); }

std::unique_ptr<JobRunner> JobRunner::create(const config::Config& cfg, Logging& logging, Clock& clock,
                                             config::Diagnostics& diags) {
  auto impl = std::make_unique<Impl>(Impl{logging.logger("worker"), nullptr, nullptr});
  if (cfg.slack.enabled && cfg.slack.token) {
    auto token = config::resolve_secret(*cfg.slack.token, "token", logging.secrets(), diags);
    if (!token) return nullptr;
    actions::slack::DeliveryOptions o;
    o.base_url = *net::parse_url(cfg.slack.base_url);  // validated as a URL by the config loader
    o.token = *token;
    o.default_channel = cfg.slack.default_channel;
    impl->http = net::make_http_client({}, logging.logger("http-client"));
    impl->slack = std::make_unique<actions::slack::SlackDelivery>(o, *impl->http, clock, logging.logger("slack"));
    impl->slack->start();
  }
  impl->logs = std::make_unique<LogsSearcher>(logs_settings(cfg, logging), logging);
  return std::unique_ptr<JobRunner>(new JobRunner(std::move(impl)));
}

std::size_t JobRunner::capacity() const {
  // The delivery queue coalesces what waits together: let many notify jobs wait there.
  // `logs` searches wait on their own thread, not in these slots' way.
  return (impl_->slack ? 1000 : 1) + 8;
}

void JobRunner::stop() {
  if (impl_->logs) impl_->logs->stop();
  if (impl_->slack) impl_->slack->stop();
}

bus::JobWorker::AsyncHandler JobRunner::handler() {
  return [impl = impl_.get()](const bus::Job& job, std::function<void(bus::JobResult)> done) {
    try {
      if (job.kind == "notify" || job.kind == "reply") {
        if (impl->slack) {
          impl->slack->submit(job, std::move(done));
        } else if (job.kind == "notify") {
          done(notify_to_log(job, impl->log));
        } else {
          impl->log.info("reply", {{"job", job.id}, {"text", job.payload.value("text", "")}});
          done({job.id, bus::JobOutcome::ok, {{"delivered", "log"}}, "", Duration{0}, ""});
        }
        return;
      }
      if (job.kind == "logs") {
        impl->logs->submit(
            job,
            [impl](const bus::Job& reply, LogsSearcher::Done reply_done) {
              if (impl->slack) return impl->slack->submit(reply, std::move(reply_done));
              impl->log.info("reply", {{"job", reply.id}, {"text", reply.payload.value("text", "")}});
              reply_done({reply.id, bus::JobOutcome::ok, {{"delivered", "log"}}, "", Duration{0}, ""});
            },
            std::move(done));
        return;
      }
      impl->log.error("no handler for this job kind", {{"job", job.id}, {"kind", job.kind}});
      done({job.id, bus::JobOutcome::fail, nlohmann::json::object(),
            "this worker has no handler for job kind '" + job.kind + "'", Duration{0}, ""});
    } catch (const std::exception& e) {
      // A malformed payload fails its job; the worker keeps running.
      done({job.id, bus::JobOutcome::fail, nlohmann::json::object(), e.what(), Duration{0}, ""});
    }
  };
}

}  // namespace vigie::app
