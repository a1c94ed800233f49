// Alert buttons → engine calls.
#include "vigie/chat/buttons.h"

#include <charconv>

#include "vigie/actions/slack_message.h"

namespace vigie::chat {
namespace {

std::string matcher_value(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

store::Silence silence_for_alert(const store::Alert& alert, const std::string& user, TimePoint now, Duration length) {
  store::Silence s;
  s.matchers = nlohmann::json::array({"rule=" + matcher_value(alert.rule)});
  for (auto it = alert.labels.begin(); it != alert.labels.end(); ++it) {
    s.matchers.push_back(it.key() + "=" + matcher_value(it.value().is_string() ? it.value().get<std::string>() : it.value().dump()));
  }
  s.starts = s.created = now;
  s.ends = now + length;
  s.author = user;
  return s;
}

std::optional<rules::EngineOutput> apply_alert_button(rules::Engine& engine, store::Store& store,
                                                      const bus::Event& action, TimePoint now) {
  if (action.kind != "chat.action") return std::nullopt;
  const std::string id = action.attrs.value("action_id", "");
  const std::string value = action.attrs.value("value", "");
  const std::string user = action.attrs.value("user", "");
  std::int64_t alert_id = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), alert_id);
  if (ec != std::errc() || p != value.data() + value.size()) return std::nullopt;
  if (id == actions::slack::kActionAck) return engine.acknowledge(alert_id, user);
  if (id == actions::slack::kActionResolve) return engine.resolve(alert_id, user);
  if (id == actions::slack::kActionSilence1h) {
    auto alert = store.find_alert(alert_id);
    if (!alert || !*alert) return std::nullopt;
    store::Silence s = silence_for_alert(**alert, user, now, std::chrono::hours(1));
    s.id = "slack-" + std::to_string(alert_id) + "-" + std::to_string(to_unix_ms(now));
    s.comment = "Silence 1h, from Slack";
    return engine.add_silence(std::move(s));
  }
  return std::nullopt;
}

}  // namespace vigie::chat
