// The explicit lists of action and provider kinds.
#include "vigie/actions/kinds.h"

namespace vigie::actions {

void register_builtin_actions(config::KindCatalog& c) {
  c.add({"exec", "Run a vetted program with an argv list (never a shell)", &exec_options()});
  c.add({"http", "Send an HTTP request built from templates", &http_options()});
  c.add({"heroku.restart", "Restart one dyno or all dynos of a Heroku app",
         &heroku_restart_options()});
  c.add({"heroku.scale", "Change a Heroku formation's quantity or size", &heroku_scale_options()});
  c.add({"digitalocean.reboot", "Gracefully reboot a droplet and wait for the action",
         &digitalocean_reboot_options()});
  c.add({"digitalocean.power_cycle", "Power-cycle a droplet and wait for the action",
         &digitalocean_power_cycle_options()});
  c.add({"rackspace.reboot", "Reboot a Rackspace Cloud Server (SOFT or HARD)",
         &rackspace_reboot_options()});
  c.add({"docker.restart", "Restart a container through the Docker Engine API",
         &docker_restart_options()});
  c.add({"slack.post", "Post a message to a Slack channel", &slack_post_options()});
}

void register_builtin_providers(config::KindCatalog& c) {
  c.add({"heroku", "Heroku Platform API credentials", &heroku_provider_options()});
  c.add({"digitalocean", "DigitalOcean API credentials", &digitalocean_provider_options()});
  c.add({"rackspace", "Rackspace identity and region", &rackspace_provider_options()});
  c.add({"docker", "Docker Engine API socket", &docker_provider_options()});
}

}  // namespace vigie::actions
