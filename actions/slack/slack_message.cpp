// Block Kit rendering of alert notices.
#include "vigie/actions/slack_message.h"

#include "vigie/rules/template.h"

namespace vigie::actions::slack {
namespace {

using nlohmann::json;
using rules::slack_escape;

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

json plain(std::string_view text, std::size_t max) {
  return {{"type", "plain_text"}, {"text", truncate_utf8(text, max)}, {"emoji", true}};
}
json mrkdwn(std::string_view text, std::size_t max) { return {{"type", "mrkdwn"}, {"text", truncate_utf8(text, max)}}; }

std::string severity_emoji(const AlertNotice& n) {
  if (n.state == "resolved") return ":white_check_mark:";
  if (n.severity == "critical") return ":red_circle:";
  if (n.severity == "warning") return ":large_orange_circle:";
  return ":large_blue_circle:";
}

std::string label_text(const json& labels) {
  std::string out;
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    if (!out.empty()) out += ", ";
    out += it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
  }
  return out;
}

std::string state_line(const AlertNotice& n) {
  std::string s;
  if (n.state == "resolved") {
    s = ":white_check_mark: Resolved";
    if (!n.by.empty()) s += " by <@" + slack_escape(n.by) + ">";
    if (!n.reason.empty()) s += " (" + slack_escape(n.reason) + ")";
  } else if (n.state == "acknowledged") {
    s = ":eyes: Acknowledged" + (n.acked_by.empty() ? std::string() : " by <@" + slack_escape(n.acked_by) + ">");
  } else {
    s = ":rotating_light: Firing";
  }
  if (n.silenced) s += " · :mute: silenced" + (n.silence_id.empty() ? std::string() : " (" + slack_escape(n.silence_id) + ")");
  if (n.inhibited) s += " · held back by a related alert";
  return s;
}

json button(std::string_view text, std::string_view action_id, std::string value, const char* style = nullptr) {
  json b = {{"type", "button"},
            {"text", plain(text, kMaxButtonTextChars)},
            {"action_id", std::string(action_id)},
            {"value", truncate_utf8(value, kMaxButtonValueChars)}};
  if (style) b["style"] = style;
  return b;
}

}  // namespace

std::string truncate_utf8(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  static constexpr std::string_view kEllipsis = "\xe2\x80\xa6";  // …
  if (max < kEllipsis.size()) return std::string();
  std::size_t cut = max - kEllipsis.size();
  // Back up over continuation bytes (10xxxxxx) so a multi-byte character is never split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + std::string(kEllipsis);
}

AlertNotice AlertNotice::from_payload(const json& payload) {
  AlertNotice n;
  const json alert = payload.value("alert", json::object());
  const json rule = payload.value("rule", json::object());
  n.type = str(payload, "type");
  n.channels = strings(payload, "channels");
  n.alert_id = alert.value("id", std::int64_t{0});
  n.rule = str(alert, "rule");
  n.fingerprint = str(alert, "fingerprint");
  n.state = str(alert, "state");
  n.labels = alert.value("labels", json::object());
  n.count = alert.value("count", std::int64_t{0});
  n.first_seen = str(alert, "first_seen");
  n.last_seen = str(alert, "last_seen");
  n.acked_by = str(alert, "acked_by");
  n.silenced = alert.value("silenced", false);
  n.inhibited = alert.value("inhibited", false);
  n.occurrence = alert.value("occurrence", std::int64_t{1});
  n.severity = str(rule, "severity");
  n.summary = str(rule, "summary");
  n.details = str(rule, "details");
  n.runbook = str(rule, "runbook");
  n.thread = rule.value("thread", std::string("all"));
  n.offer = strings(rule, "offer");
  n.confirm = strings(rule, "confirm");
  n.by = str(payload, "by");
  n.reason = str(payload, "reason");
  n.mention = str(payload, "mention");
  n.silence_id = str(payload, "silence_id");
  if (auto m = payload.find("message"); m != payload.end() && m->is_object() && m->contains("ts")) {
    n.message = MessageRef{str(*m, "channel"), str(*m, "ts"), m->value("digest", false)};
  }
  return n;
}

json alert_blocks(const AlertNotice& n) {
  json blocks = json::array();
  blocks.push_back({{"type", "header"}, {"text", plain(severity_emoji(n) + " " + n.rule, kMaxHeaderChars)}});
  if (!n.summary.empty()) blocks.push_back({{"type", "section"}, {"text", mrkdwn(n.summary, kMaxSectionChars)}});

  json fields = json::array();
  auto field = [&](const std::string& name, const std::string& value) {
    if (fields.size() < kMaxFields) fields.push_back(mrkdwn("*" + name + "*\n" + value, kMaxFieldChars));
  };
  if (!n.severity.empty()) field("Severity", slack_escape(n.severity));
  field("Count", std::to_string(n.count));
  field("First seen", slack_escape(n.first_seen));
  field("Last seen", slack_escape(n.last_seen));
  std::string overflow;
  for (auto it = n.labels.begin(); it != n.labels.end(); ++it) {
    const std::string value = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    if (fields.size() < kMaxFields) {
      field(slack_escape(it.key()), slack_escape(value));
    } else {
      overflow += (overflow.empty() ? "" : ", ") + slack_escape(it.key()) + "=" + slack_escape(value);
    }
  }
  blocks.push_back({{"type", "section"}, {"fields", fields}});
  if (!overflow.empty()) {
    blocks.push_back({{"type", "context"}, {"elements", json::array({mrkdwn("More labels: " + overflow, kMaxSectionChars)})}});
  }
  if (!n.details.empty()) blocks.push_back({{"type", "section"}, {"text", mrkdwn(n.details, kMaxSectionChars)}});
  blocks.push_back({{"type", "context"}, {"elements", json::array({mrkdwn(state_line(n), kMaxSectionChars)})}});

  json buttons = json::array();
  const std::string id = std::to_string(n.alert_id);
  if (n.state != "resolved") {
    if (n.state != "acknowledged") buttons.push_back(button("Acknowledge", kActionAck, id, "primary"));
    buttons.push_back(button("Resolve", kActionResolve, id));
    if (!n.silenced) buttons.push_back(button("Silence 1h", kActionSilence1h, id));
    for (const auto& action : n.offer) {
      if (buttons.size() >= kMaxButtons) break;
      json b = button("Run " + action, std::string(kActionRunPrefix) + truncate_utf8(action, 200), id);
      if (std::find(n.confirm.begin(), n.confirm.end(), action) != n.confirm.end()) {
        b["style"] = "danger";
        b["confirm"] = {{"title", plain("Run " + action + "?", 100)},
                        {"text", mrkdwn("This runs *" + slack_escape(action) + "* for alert " + id + ".", 300)},
                        {"confirm", plain("Run it", 30)},
                        {"deny", plain("Cancel", 30)},
                        {"style", "danger"}};
      }
      buttons.push_back(std::move(b));
    }
  }
  if (!n.runbook.empty() && buttons.size() < kMaxButtons) {
    json b = button("Runbook", "vigie_runbook", id);
    b["url"] = truncate_utf8(n.runbook, 3000);
    buttons.push_back(std::move(b));
  }
  if (!buttons.empty()) blocks.push_back({{"type", "actions"}, {"elements", buttons}});
  while (blocks.size() > kMaxBlocks) blocks.erase(blocks.begin() + static_cast<long>(kMaxBlocks) - 1);
  return blocks;
}

std::string alert_text(const AlertNotice& n) {
  std::string text = n.state == "resolved" ? "Resolved: " : n.state == "acknowledged" ? "Acknowledged: " : "Firing: ";
  text += n.rule;
  if (!n.labels.empty()) text += " (" + slack_escape(label_text(n.labels)) + ")";
  if (!n.summary.empty()) text += " — " + n.summary;
  return truncate_utf8(text, kMaxFallbackChars);
}

std::optional<std::string> thread_reply(const AlertNotice& n) {
  if (n.thread == "none" && !(n.message && n.message->digest)) return std::nullopt;
  const bool all = n.thread == "all";
  std::string prefix;
  // In a digest, replies name their alert: the thread holds many.
  if (n.message && n.message->digest) prefix = "*" + slack_escape(n.rule) + "* " + slack_escape(label_text(n.labels)) + ": ";
  if (n.type == "resolved") {
    std::string s = prefix + ":white_check_mark: Resolved";
    if (!n.by.empty()) s += " by <@" + slack_escape(n.by) + ">";
    if (!n.reason.empty()) s += " (" + slack_escape(n.reason) + ")";
    return s;
  }
  if (n.type == "repeat") return prefix + ":repeat: Still firing: " + std::to_string(n.count) + " occurrences";
  if (n.type == "escalate") {
    return prefix + ":rotating_light: Escalated" + (n.mention.empty() ? std::string() : " to " + n.mention) +
           ": still firing after " + std::to_string(n.count) + " occurrences, not acknowledged";
  }
  if (n.type == "update") {
    if (!n.by.empty() && n.state == "acknowledged") return prefix + ":eyes: Acknowledged by <@" + slack_escape(n.by) + ">";
    if (!n.silence_id.empty()) return prefix + ":mute: Silenced (" + slack_escape(n.silence_id) + ")";
    if (all) return prefix + "Fired again: " + std::to_string(n.count) + " occurrences, last at " + slack_escape(n.last_seen);
  }
  return std::nullopt;
}

json digest_blocks(const std::vector<AlertNotice>& alerts) {
  json blocks = json::array();
  blocks.push_back({{"type", "header"},
                    {"text", plain(":rotating_light: " + std::to_string(alerts.size()) + " new alerts", kMaxHeaderChars)}});
  // One line per alert in sections of up to 3000 characters; the rest counted in a last line.
  std::string section;
  std::size_t shown = 0;
  for (const auto& a : alerts) {
    std::string line = "• " + severity_emoji(a) + " *" + slack_escape(a.rule) + "* " + slack_escape(label_text(a.labels));
    if (!a.summary.empty()) line += " — " + a.summary;
    line = truncate_utf8(line, 300) + "\n";
    if (section.size() + line.size() > kMaxSectionChars) {
      if (blocks.size() + 2 >= kMaxBlocks) break;
      blocks.push_back({{"type", "section"}, {"text", mrkdwn(section, kMaxSectionChars)}});
      section.clear();
    }
    section += line;
    ++shown;
  }
  if (!section.empty()) blocks.push_back({{"type", "section"}, {"text", mrkdwn(section, kMaxSectionChars)}});
  std::string note = "Grouped to respect Slack's rate limit; updates follow in this thread.";
  if (shown < alerts.size()) note = "…and " + std::to_string(alerts.size() - shown) + " more. " + note;
  blocks.push_back({{"type", "context"}, {"elements", json::array({mrkdwn(note, kMaxSectionChars)})}});
  return blocks;
}

std::string digest_text(const std::vector<AlertNotice>& alerts) {
  std::string text = std::to_string(alerts.size()) + " new alerts:";
  for (const auto& a : alerts) {
    text += " " + a.rule;
    if (text.size() > 500) break;
  }
  return truncate_utf8(text, kMaxFallbackChars);
}

}  // namespace vigie::actions::slack
