// The factories of the action and provider kinds, one per folder, listed in kinds.cpp.
#pragma once

#include "vigie/actions/action.h"

namespace vigie::actions {

tl::expected<std::unique_ptr<Action>, std::string> make_exec_action(const ActionRequest& request, ActionContext& ctx);
// What make_exec_action would refuse, found in the options as written (for `vigie check`).
std::vector<config::OptionProblem> check_exec_options(const config::OptionValues& options);
tl::expected<std::unique_ptr<Action>, std::string> make_http_action(const ActionRequest& request, ActionContext& ctx);
std::vector<config::OptionProblem> check_http_options(const config::OptionValues& options);

}  // namespace vigie::actions
