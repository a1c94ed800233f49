// The action kinds (`type` of an [[action]]) and provider kinds ([providers.<name>]) Vigie knows:
// one explicit list in kinds.cpp, one line per kind. Each kind's option table lives in its folder.
#pragma once

#include "vigie/config/options.h"

namespace vigie::actions {

void register_builtin_actions(config::KindCatalog& catalog);
void register_builtin_providers(config::KindCatalog& catalog);

const config::OptionTable& exec_options();
const config::OptionTable& http_options();
const config::OptionTable& heroku_restart_options();
const config::OptionTable& heroku_scale_options();
const config::OptionTable& digitalocean_reboot_options();
const config::OptionTable& digitalocean_power_cycle_options();
const config::OptionTable& rackspace_reboot_options();
const config::OptionTable& docker_restart_options();
const config::OptionTable& slack_post_options();
const config::OptionTable& sentry_resolve_options();
const config::OptionTable& sentry_ignore_options();
const config::OptionTable& newrelic_ack_options();
const config::OptionTable& newrelic_close_options();

const config::OptionTable& heroku_provider_options();
const config::OptionTable& digitalocean_provider_options();
const config::OptionTable& rackspace_provider_options();
const config::OptionTable& docker_provider_options();
const config::OptionTable& sentry_provider_options();
const config::OptionTable& newrelic_provider_options();

}  // namespace vigie::actions
