// The explicit lists of action and provider kinds: one line per kind with its option table and
// its factory (nullptr: the kind is known to the rule files, but this build cannot run it, and a
// worker fails its jobs saying so).
#include "vigie/actions/kinds.h"

#include <array>

#include "factories.h"

namespace vigie::actions {
namespace {

struct ActionKind {
  std::string_view type;
  std::string_view description;
  const config::OptionTable& (*options)();
  ActionFactory::result_type (*factory)(const ActionRequest&, ActionContext&);
};

struct ProviderKind {
  std::string_view type;
  std::string_view description;
  const config::OptionTable& (*options)();
  ProviderFactory::result_type (*factory)(const ProviderSpec&, ProviderContext&);
};

const std::array<ActionKind, 9> kActionKinds{{
    {"exec", "Run a vetted program with an argv list (never a shell)", &exec_options, &make_exec_action},
    {"http", "Send an HTTP request built from templates", &http_options, &make_http_action},
    {"heroku.restart", "Restart one dyno or all dynos of a Heroku app", &heroku_restart_options, nullptr},
    {"heroku.scale", "Change a Heroku formation's quantity or size", &heroku_scale_options, nullptr},
    {"digitalocean.reboot", "Gracefully reboot a droplet and wait for the action", &digitalocean_reboot_options,
     nullptr},
    {"digitalocean.power_cycle", "Power-cycle a droplet and wait for the action", &digitalocean_power_cycle_options,
     nullptr},
    {"rackspace.reboot", "Reboot a Rackspace Cloud Server (SOFT or HARD)", &rackspace_reboot_options, nullptr},
    {"docker.restart", "Restart a container through the Docker Engine API", &docker_restart_options, nullptr},
    {"slack.post", "Post a message to a Slack channel", &slack_post_options, nullptr},
}};

const std::array<ProviderKind, 4> kProviderKinds{{
    {"heroku", "Heroku Platform API credentials", &heroku_provider_options, nullptr},
    {"digitalocean", "DigitalOcean API credentials", &digitalocean_provider_options, nullptr},
    {"rackspace", "Rackspace identity and region", &rackspace_provider_options, nullptr},
    {"docker", "Docker Engine API socket", &docker_provider_options, nullptr},
}};

}  // namespace

void register_builtin_actions(config::KindCatalog& c) {
  for (const auto& k : kActionKinds) c.add({k.type, k.description, &k.options()});
}

void register_builtin_providers(config::KindCatalog& c) {
  for (const auto& k : kProviderKinds) c.add({k.type, k.description, &k.options()});
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
