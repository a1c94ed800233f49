// The alert buttons on Vigie's Slack messages (Acknowledge, Resolve, Silence 1h), applied to the
// engine when their `chat.action` event has been stored. Running offered actions, access roles
// and approvals come with chat commands; until then anyone who sees the message may press these.
#pragma once

#include <optional>

#include "vigie/bus/event.h"
#include "vigie/rules/engine.h"
#include "vigie/store/store.h"

namespace vigie::chat {

// nullopt when the event is not one of these buttons (or names no alert).
std::optional<rules::EngineOutput> apply_alert_button(rules::Engine& engine, store::Store& store,
                                                      const bus::Event& action, TimePoint now);

}  // namespace vigie::chat
