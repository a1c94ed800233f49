// One request from Slack, whichever way it came (HTTP endpoints or a Socket Mode envelope), after
// its authenticity was checked. Both transports hand these to the same handler.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

namespace vigie::chat {

enum class SlackInboundKind {
  events_api,     // the Events API envelope ({"type":"event_callback","event_id":...,"event":{...}})
  slash_command,  // the slash command's fields as a JSON object of strings (command, text, user_id...)
  interactive     // the interaction payload ({"type":"block_actions",...})
};

struct SlackInbound {
  SlackInboundKind kind = SlackInboundKind::events_api;
  nlohmann::json payload = nlohmann::json::object();
  int retry_num = 0;  // x-slack-retry-num (HTTP) or retry_attempt (Socket Mode); 0 on a first delivery
};

// What to answer at once. For slash commands an optional message
// ({"response_type":"ephemeral","text":...}) sent as the HTTP body or in the envelope's ack.
struct SlackInboundReply {
  std::optional<nlohmann::json> payload;
};

// Must return quickly (Slack wants an answer within 3 s): the work continues on the bus.
using SlackInboundHandler = std::function<SlackInboundReply(const SlackInbound&)>;

}  // namespace vigie::chat
