// The factories of the action and provider kinds, one per folder, listed in kinds.cpp.
#pragma once

#include "vigie/actions/action.h"

namespace vigie::actions {

tl::expected<std::unique_ptr<Action>, std::string> make_exec_action(const ActionRequest& request, ActionContext& ctx);
tl::expected<std::unique_ptr<Action>, std::string> make_http_action(const ActionRequest& request, ActionContext& ctx);

}  // namespace vigie::actions
