// The alert buttons on Vigie's Slack messages (Acknowledge, Resolve, Silence 1h), applied to the
// engine when their `chat.action` event has been stored. Who may press them is checked before
// (chat/commands.h).
#pragma once

#include <optional>

#include "vigie/bus/event.h"
#include "vigie/rules/engine.h"
#include "vigie/store/store.h"

namespace vigie::chat {

// A silence matching exactly this alert's rule and labels, from `now` for `length` (id unset).
store::Silence silence_for_alert(const store::Alert& alert, const std::string& user, TimePoint now, Duration length);

// nullopt when the event is not one of these buttons (or names no alert).
std::optional<rules::EngineOutput> apply_alert_button(rules::Engine& engine, store::Store& store,
                                                      const bus::Event& action, TimePoint now);

}  // namespace vigie::chat
