// The factories of the provider presets (one folder each: heroku/, digitalocean/, rackspace/,
// docker/, sentry/, newrelic/), listed in kinds.cpp.
#pragma once

#include "vigie/actions/action.h"

namespace vigie::actions {

ProviderFactory::result_type make_heroku_provider(const ProviderSpec& spec, ProviderContext& ctx);
ActionFactory::result_type make_heroku_restart(const ActionRequest& request, ActionContext& ctx);
ActionFactory::result_type make_heroku_scale(const ActionRequest& request, ActionContext& ctx);

ProviderFactory::result_type make_digitalocean_provider(const ProviderSpec& spec,
                                                        ProviderContext& ctx);
ActionFactory::result_type make_digitalocean_reboot(const ActionRequest& request,
                                                    ActionContext& ctx);
ActionFactory::result_type make_digitalocean_power_cycle(const ActionRequest& request,
                                                         ActionContext& ctx);

ProviderFactory::result_type make_rackspace_provider(const ProviderSpec& spec,
                                                     ProviderContext& ctx);
ActionFactory::result_type make_rackspace_reboot(const ActionRequest& request, ActionContext& ctx);

ProviderFactory::result_type make_docker_provider(const ProviderSpec& spec, ProviderContext& ctx);
ActionFactory::result_type make_docker_restart(const ActionRequest& request, ActionContext& ctx);

ProviderFactory::result_type make_sentry_provider(const ProviderSpec& spec, ProviderContext& ctx);
ActionFactory::result_type make_sentry_resolve(const ActionRequest& request, ActionContext& ctx);
ActionFactory::result_type make_sentry_ignore(const ActionRequest& request, ActionContext& ctx);

ProviderFactory::result_type make_newrelic_provider(const ProviderSpec& spec, ProviderContext& ctx);
ActionFactory::result_type make_newrelic_ack(const ActionRequest& request, ActionContext& ctx);
ActionFactory::result_type make_newrelic_close(const ActionRequest& request, ActionContext& ctx);

}  // namespace vigie::actions
