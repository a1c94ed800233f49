// docker.restart (api-notes section 8) and the docker provider (the Engine API's unix socket).
//   POST /containers/{id}/restart?t=N → 204; 404 {"message":"No such container: ..."}
// The Engine API holds the answer until the container has stopped (up to t seconds) and started
// again, so each action gets its own client whose request timeout covers t: a restart is rare and
// a unix socket connection costs nothing. Each request is also cut at what is left of the run's
// `timeout` (the contract: a step never blocks past ctx.remaining()); a daemon that never answers
// is then a Retry the runner turns into "timed out" at the deadline, not a worker thread held for
// t + 60 s.
#include <nlohmann/json.hpp>

#include "../src/provider_http.h"
#include "../src/provider_kinds.h"
#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {

using nlohmann::json;

constexpr std::string_view kService = "Docker";
// Seconds Docker may take beyond the stop timeout to start the container again and answer.
constexpr std::int64_t kAnswerMargin = 60;

class DockerProvider final : public Provider {
 public:
  DockerProvider(std::string name, std::string socket, Logger log)
      : name_(std::move(name)), socket_(std::move(socket)), log_(std::move(log)) {}

  const std::string& name() const { return name_; }
  const std::string& socket() const { return socket_; }
  const Logger& log() const { return log_; }

 private:
  std::string name_, socket_;
  Logger log_;
};

class DockerRestart final : public Action {
 public:
  DockerRestart(const DockerProvider& provider, std::string container, std::int64_t stop_timeout)
      : provider_(provider), container_(std::move(container)), stop_timeout_(stop_timeout) {
    net::HttpClientOptions options;
    options.unix_socket = provider_.socket();
    options.connect_timeout = Duration(5'000);
    options.request_timeout = Duration((stop_timeout_ + kAnswerMargin) * 1000);
    http_ = net::make_http_client(std::move(options), provider_.log());
  }

  StepResult run(const RunContext& ctx) override {
    net::ClientRequest r;
    r.method = "POST";
    // Any Host works on the socket; the path has no version prefix, so the daemon's own applies.
    r.url = *net::parse_url("http://localhost/containers/" + net::url_encode(container_) +
                            "/restart?t=" + std::to_string(stop_timeout_));
    r.timeout = ctx.remaining();  // the client's own bound (t + the margin) applies when shorter
    auto response = http_->send(r);
    if (!response) {
      auto result = provider::transport_failure(kService, response.error());
      if (response.error().kind == net::ClientErrorKind::connect) {
        // Say what to check: the daemon, the path, the permissions.
        return Fail{"cannot connect to the Docker Engine API at " + provider_.socket() +
                        " (is dockerd running, and may vigie's user open the socket? [providers." +
                        provider_.name() + "] socket)",
                    {},
                    {}};
      }
      return result;
    }
    if (response->status == 204 || response->status == 200) {
      return Ok{"Restarted container " + container_ + " (stop timeout " +
                    std::to_string(stop_timeout_) + "s)",
                json{{"container", container_}, {"status", response->status}}};
    }
    return provider::http_failure(kService, *response, ctx.clock.system_now(),
                                  {.reset_header = {},
                                   .rate_limit_fallback = Duration(60'000),
                                   .auth_hint = {},
                                   .not_found_hint = {}});
  }

  std::string describe() const override {
    return "POST /containers/" + container_ + "/restart?t=" + std::to_string(stop_timeout_) +
           " on unix socket " + provider_.socket();
  }

 private:
  const DockerProvider& provider_;
  std::string container_;
  std::int64_t stop_timeout_;
  std::unique_ptr<net::HttpClient> http_;
};

}  // namespace

ProviderFactory::result_type make_docker_provider(const ProviderSpec& spec, ProviderContext& ctx) {
  std::string socket = spec.options.string("socket", "/var/run/docker.sock");
  // DOCKER_HOST's spelling is accepted too.
  if (socket.rfind("unix://", 0) == 0) socket = socket.substr(7);
  if (socket.empty() || socket[0] != '/') {
    return tl::unexpected("socket '" + socket +
                          "' must be an absolute path to the Engine API's unix socket");
  }
  return std::make_shared<DockerProvider>(spec.name, std::move(socket), ctx.log);
}

ActionFactory::result_type make_docker_restart(const ActionRequest& request, ActionContext& ctx) {
  if (auto valid = request.options.check(docker_restart_options()); !valid)
    return tl::unexpected(valid.error());
  auto provider =
      ctx.providers.get<DockerProvider>(request.options.string("provider", "docker"), "docker");
  if (!provider) return tl::unexpected(provider.error());
  auto container = provider::required(request.options, "container");
  if (!container) return tl::unexpected(container.error());
  const std::int64_t t = request.options.integer("stop_timeout", 10);
  if (t < 0 || t > 3600)
    return tl::unexpected(std::string("stop_timeout must be between 0 and 3600 seconds"));
  return std::make_unique<DockerRestart>(**provider, *container, t);
}

}  // namespace vigie::actions
