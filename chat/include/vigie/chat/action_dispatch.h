// The engine's half of running an action: parameters checked against their declared types, the
// kind's options rendered with them (so a worker on another host needs no rule files), and the
// guardrails — cooldown, rate limit, one run at a time per target — read from the store, where
// every dispatched run is recorded (so they hold across workers and restarts). docs/actions.md.
#pragma once

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <optional>
#include <string>

#include "vigie/core/time.h"
#include "vigie/rules/rule_set.h"
#include "vigie/store/store.h"

namespace vigie::chat {

// Every parameter the action uses present and of its declared type (undeclared: a word); the
// error is for the person who asked ("`app` must be one word (...), not `a b`").
tl::expected<void, std::string> check_params(const rules::ActionDef& def, const nlohmann::json& params);

// What the guardrails count per: the parameters as "k=v" sorted by name, space-separated.
std::string action_target(const nlohmann::json& params);

// The kind's own options as they travel in the job (action.h, ActionOptions), every {{param}}
// rendered: percent-encoded in `url`, JSON-escaped in `body`, verbatim elsewhere (an argv element
// stays one element). Secrets travel as their references ({"env": ...} / {"file": ...}).
tl::expected<nlohmann::json, std::string> render_options(const rules::ActionDef& def, const nlohmann::json& params);

// Why `def` may not run on `target` now (a reply for the chat), or nullopt. Reads the recorded runs.
std::optional<std::string> guardrail_refusal(store::Store& store, const rules::ActionDef& def,
                                             const std::string& target, TimePoint now);

}  // namespace vigie::chat
