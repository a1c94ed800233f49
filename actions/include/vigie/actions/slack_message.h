// Alert messages for Slack: what the engine's notify jobs become in Block Kit (api-notes 4.7). A
// pure function of the job's payload, so every message shape is tested without a network. Block
// Kit's limits (text lengths, 10 fields, 25 buttons, 50 blocks) are kept by truncation.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigie::actions::slack {

// Block Kit limits we render against.
inline constexpr std::size_t kMaxBlocks = 50;
inline constexpr std::size_t kMaxButtons = 25;
inline constexpr std::size_t kMaxFields = 10;
inline constexpr std::size_t kMaxHeaderChars = 150;
inline constexpr std::size_t kMaxSectionChars = 3000;
inline constexpr std::size_t kMaxFieldChars = 2000;
inline constexpr std::size_t kMaxButtonTextChars = 75;
inline constexpr std::size_t kMaxButtonValueChars = 2000;
inline constexpr std::size_t kMaxFallbackChars = 4000;

// Button action ids; the value of each is the alert id (for `run`, "<alert id>").
inline constexpr std::string_view kActionAck = "vigie_ack";
inline constexpr std::string_view kActionResolve = "vigie_resolve";
inline constexpr std::string_view kActionSilence1h = "vigie_silence_1h";
inline constexpr std::string_view kActionRunPrefix = "vigie_run:";  // + the action's name

// Where an alert's message is, once posted.
struct MessageRef {
  std::string channel;
  std::string ts;
  bool digest = false;  // the alert was posted inside a storm digest, not on its own
};

// One notify job's payload, read once.
struct AlertNotice {
  std::string type;  // post | update | resolved | repeat | escalate
  std::vector<std::string> channels;
  std::int64_t alert_id = 0;
  std::string rule, fingerprint, state, severity, summary, details, runbook, thread = "all";
  nlohmann::json labels = nlohmann::json::object();
  std::int64_t count = 0;
  std::string first_seen, last_seen, acked_by, by, reason, mention, silence_id;
  bool silenced = false, inhibited = false;
  std::int64_t occurrence = 1;
  std::vector<std::string> offer;
  std::vector<std::string> confirm;  // offered actions that ask "are you sure?"
  std::optional<MessageRef> message;

  static AlertNotice from_payload(const nlohmann::json& payload);
};

// Cuts `text` to at most `max` bytes (never inside a UTF-8 sequence), ending in "…" when cut.
std::string truncate_utf8(std::string_view text, std::size_t max);

// The alert's main message: header with severity emoji and rule, summary, fields, details,
// state line, runbook link and buttons (none once resolved).
nlohmann::json alert_blocks(const AlertNotice& n);
// The notification text Slack shows where blocks are not rendered; always set.
std::string alert_text(const AlertNotice& n);
// The thread reply this notice deserves under the rule's `thread` setting, if any.
std::optional<std::string> thread_reply(const AlertNotice& n);
// One message for many new alerts of one channel during a storm.
nlohmann::json digest_blocks(const std::vector<AlertNotice>& alerts);
std::string digest_text(const std::vector<AlertNotice>& alerts);

}  // namespace vigie::actions::slack
