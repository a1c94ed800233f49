// Chat commands and clicks, handled on the engine side once their event is stored: the built-ins
// (help, alerts, ack, resolve, silence, unsilence, silences, rules, run, status, whoami, history),
// the [[command]] aliases, the alert and action buttons, access checks, confirmations and
// approvals (kept in the store, so they survive a restart), the audit log, and the replies —
// `reply` jobs in the outbox, which the worker sends through Slack.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vigie/bus/event.h"
#include "vigie/chat/access.h"
#include "vigie/core/clock.h"
#include "vigie/core/log.h"
#include "vigie/rules/engine.h"
#include "vigie/rules/rule_set.h"
#include "vigie/store/store.h"

namespace vigie::chat {

struct ChatCommandsImpl;

// Action ids of the buttons this module puts on its own messages (value: the request id).
inline constexpr std::string_view kActionConfirm = "vigie_confirm";
inline constexpr std::string_view kActionCancel = "vigie_cancel";
inline constexpr std::string_view kActionApprove = "vigie_approve";
inline constexpr std::string_view kActionDeny = "vigie_deny";

struct ChatOptions {
  Duration default_approval_timeout{15 * 60'000};
  std::size_t max_reply_lines = 30;  // longer output is cut with "… N more lines"
};

// The daemon's view of itself for `status`: collectors, bus, store, last reload (a JSON object).
using StatusProvider = std::function<nlohmann::json()>;

class ChatCommands {
 public:
  ChatCommands(rules::Engine& engine, store::Store& store, Clock& clock, Logger log, ChatOptions options = {});

  void set_rules(rules::RuleSetPtr rules) { rules_ = std::move(rules); }
  void set_access(Access access) { access_ = std::move(access); }
  void set_status_provider(StatusProvider provider) { status_ = std::move(provider); }
  // `[actions] enabled`: false refuses every action before it is dispatched (the kill switch).
  void set_actions_enabled(bool enabled) { actions_enabled_ = enabled; }
  // Values to blank out of audit rows and replies (the process's secrets).
  void set_secrets(std::shared_ptr<const SecretRegistry> secrets) { secrets_ = std::move(secrets); }

  // A stored `chat.command` or `chat.action` event. Everything it decides (engine transitions,
  // reply and action jobs, request state, audit rows) is committed before this returns; the
  // output's jobs are for the dispatcher. nullopt for other events.
  std::optional<rules::EngineOutput> handle(const bus::Event& event);
  // An `action` job finished: its outcome goes to the thread it came from and to the audit log,
  // its guardrail record is closed, and an `action.finished` event is stored and evaluated (its
  // transitions and jobs are in the output).
  rules::EngineOutput action_finished(const std::string& job_id, bool ok, const nlohmann::json& output,
                                      const std::string& reason);
  // Expires approval and confirmation requests whose time is up, announcing it.
  rules::EngineOutput tick();
  std::optional<TimePoint> next_deadline();

  struct Context;  // one event's work, in the .cpp

 private:
  friend struct ChatCommandsImpl;
  rules::Engine& engine_;
  store::Store& store_;
  Clock& clock_;
  Logger log_;
  ChatOptions options_;
  rules::RuleSetPtr rules_;
  Access access_;
  StatusProvider status_;
  std::shared_ptr<const SecretRegistry> secrets_;
  bool actions_enabled_ = true;
};

// Untrusted text (log lines, a command's output) for a Slack code block: &, < and > escaped, since
// Slack reads `<!channel>` or `<@U…>` as a mention even there; CR dropped; ``` broken so the text
// cannot close the block it is shown in.
std::string code_escape(std::string_view text);

// "… N more lines" after `max_lines` lines, inside a code block; the text is escaped (code_escape).
std::string capped_code_block(const std::string& text, std::size_t max_lines);

}  // namespace vigie::chat
