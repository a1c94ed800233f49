// The explicit lists of action and provider kinds: one line per kind with its option table and
// its factory (nullptr: the kind is known to the rule files, but this build cannot run it, and a
// worker fails its jobs saying so).
#include "vigie/actions/kinds.h"

#include <array>

#include "factories.h"
#include "provider_kinds.h"

namespace vigie::actions {
namespace {

struct ActionKind {
  std::string_view type;
  std::string_view description;
  const config::OptionTable& (*options)();
  ActionFactory::result_type (*factory)(const ActionRequest&, ActionContext&);
  std::vector<config::OptionProblem> (*check)(const config::OptionValues&) = nullptr;
};

struct ProviderKind {
  std::string_view type;
  std::string_view description;
  const config::OptionTable& (*options)();
  ProviderFactory::result_type (*factory)(const ProviderSpec&, ProviderContext&);
};

const std::array<ActionKind, 13> kActionKinds{{
    {"exec", "Run a vetted program with an argv list (never a shell)", &exec_options,
     &make_exec_action, &check_exec_options},
    {"http", "Send an HTTP request built from templates", &http_options, &make_http_action,
     &check_http_options},
    {"heroku.restart", "Restart one dyno or all dynos of a Heroku app", &heroku_restart_options,
     &make_heroku_restart},
    {"heroku.scale", "Change a Heroku formation's quantity or size", &heroku_scale_options,
     &make_heroku_scale},
    {"digitalocean.reboot", "Gracefully reboot a droplet and wait for the action",
     &digitalocean_reboot_options, &make_digitalocean_reboot},
    {"digitalocean.power_cycle", "Power-cycle a droplet and wait for the action",
     &digitalocean_power_cycle_options, &make_digitalocean_power_cycle},
    {"rackspace.reboot", "Reboot a Rackspace Cloud Server (SOFT or HARD)",
     &rackspace_reboot_options, &make_rackspace_reboot},
    {"docker.restart", "Restart a container through the Docker Engine API", &docker_restart_options,
     &make_docker_restart},
    {"slack.post", "Post a message to a Slack channel", &slack_post_options, nullptr},
    {"sentry.resolve", "Resolve a Sentry issue", &sentry_resolve_options, &make_sentry_resolve},
    {"sentry.ignore", "Ignore a Sentry issue, for a while or until it escalates",
     &sentry_ignore_options, &make_sentry_ignore},
    {"newrelic.ack", "Acknowledge a NewRelic incident (REST API v2)", &newrelic_ack_options,
     &make_newrelic_ack},
    {"newrelic.close", "Close a NewRelic incident (REST API v2)", &newrelic_close_options,
     &make_newrelic_close},
}};

const std::array<ProviderKind, 6> kProviderKinds{{
    {"heroku", "Heroku Platform API credentials", &heroku_provider_options, &make_heroku_provider},
    {"digitalocean", "DigitalOcean API credentials", &digitalocean_provider_options,
     &make_digitalocean_provider},
    {"rackspace", "Rackspace identity and region", &rackspace_provider_options,
     &make_rackspace_provider},
    {"docker", "Docker Engine API socket", &docker_provider_options, &make_docker_provider},
    {"sentry", "Sentry API credentials (issue updates)", &sentry_provider_options,
     &make_sentry_provider},
    {"newrelic", "NewRelic REST API credentials (incident updates)", &newrelic_provider_options,
     &make_newrelic_provider},
}};

}  // namespace

void register_builtin_actions(config::KindCatalog& c) {
  for (const auto& k : kActionKinds)
    c.add({k.type, k.description, &k.options(), k.check, k.factory != nullptr});
}

void register_builtin_providers(config::KindCatalog& c) {
  for (const auto& k : kProviderKinds)
    c.add({k.type, k.description, &k.options(), nullptr, k.factory != nullptr});
}

ActionFactory action_factory(std::string_view type) {
  for (const auto& k : kActionKinds) {
    if (k.type == type && k.factory) return k.factory;
  }
  return nullptr;
}

const config::OptionTable* action_option_table(std::string_view type) {
  for (const auto& k : kActionKinds) {
    if (k.type == type) return &k.options();
  }
  return nullptr;
}

ProviderFactory provider_factory(std::string_view type) {
  for (const auto& k : kProviderKinds) {
    if (k.type == type && k.factory) return k.factory;
  }
  return nullptr;
}

}  // namespace vigie::actions
