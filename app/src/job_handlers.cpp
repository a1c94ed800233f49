// Job handlers by kind, for the worker role.
#include "job_handlers.h"

#include <atomic>

#include <nlohmann/json.hpp>

#include "logs_job.h"
#include "vigie/actions/runner.h"
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
  std::unique_ptr<net::HttpClient> action_http;  // its own pool: a slow provider never holds up Slack
  std::unique_ptr<actions::ActionRunner> actions;
  std::atomic<bool> actions_enabled{true};  // set by a reload on another thread
  std::unique_ptr<LogsSearcher> logs;  // `logs` jobs (chat), on a thread of their own
};

JobRunner::JobRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JobRunner::~JobRunner() { stop(); }

void JobRunner::set_actions_enabled(bool enabled) { impl_->actions_enabled = enabled; }

std::unique_ptr<JobRunner> JobRunner::create(const config::Config& cfg, Logging& logging, Clock& clock,
                                             config::Diagnostics& diags) {
  std::unique_ptr<Impl> impl(new Impl{logging.logger("worker"), nullptr, nullptr});
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
  // Actions: the providers are built once from [providers.*] (they hold credentials and caches).
  impl->actions_enabled = cfg.actions_enabled;
  impl->action_http = net::make_http_client({}, logging.logger("http-client"));
  std::vector<actions::ProviderSpec> specs;
  for (const auto& p : cfg.providers) specs.push_back({p.name, p.type, p.options});
  actions::ProviderContext pctx{*impl->action_http, clock, logging.secrets(), logging.logger("providers")};
  auto providers = actions::build_providers(specs, pctx);
  if (!providers) {
    diags.error({cfg.path, 0, 0}, "provider", logging.secrets().redact(providers.error()));
    return nullptr;
  }
  impl->actions = std::make_unique<actions::ActionRunner>(std::move(*providers), *impl->action_http, logging.secrets(),
                                                          clock, logging.logger("actions"), actions::RunnerOptions{4});
  impl->actions->start();
  impl->logs = std::make_unique<LogsSearcher>(logs_settings(cfg, logging), logging);
  return std::unique_ptr<JobRunner>(new JobRunner(std::move(impl)));
}

std::size_t JobRunner::capacity() const {
  // The delivery queue coalesces what waits together, actions wait on their own threads (a reboot
  // being polled must not hold up alerts) and `logs` searches on theirs: many jobs may be held.
  return 1000 + 8;
}

void JobRunner::stop() {
  if (impl_->logs) impl_->logs->stop();
  if (impl_->slack) impl_->slack->stop();
  if (impl_->actions) impl_->actions->stop();
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
      if (job.kind == "action") {
        // The engine refuses to dispatch when [actions] enabled = false; a worker whose own
        // vigie.toml says so refuses as well (the switch is pulled on every host).
        if (!impl->actions_enabled) {
          done({job.id, bus::JobOutcome::fail, nlohmann::json::object(),
                "actions are disabled on this worker ([actions] enabled = false)", Duration{0}, ""});
          return;
        }
        impl->actions->submit(job, std::move(done));
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
