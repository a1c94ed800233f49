// Alert messages in Block Kit: what people see for each state, the buttons that change with it,
// confirm dialogs on dangerous actions, thread replies by the rule's `thread` setting, and Block
// Kit's limits kept by truncation.
#include <catch2/catch.hpp>

#include "vigie/actions/slack_message.h"

using namespace vigie::actions::slack;
using nlohmann::json;

namespace {

json payload(std::string type = "post", std::string state = "firing") {
  return {{"type", type},
          {"channels", {"C0OPS"}},
          {"alert", {{"id", 42}, {"rule", "disk-full"}, {"fingerprint", "disk-full{instance=\"db1\"}"},
                     {"labels", {{"instance", "db1"}}}, {"state", state}, {"count", 3},
                     {"first_seen", "2026-11-22T09:00:00.000Z"}, {"last_seen", "2026-11-22T09:05:00.000Z"},
                     {"acked_by", ""}, {"silenced", false}, {"inhibited", false}, {"occurrence", 1}}},
          {"rule", {{"severity", "critical"}, {"summary", "Disk <90%> on db1"}, {"details", ""},
                    {"runbook", "https://wiki/disk"}, {"offer", {"restart-db", "clean-tmp"}},
                    {"confirm", {"restart-db"}}, {"thread", "all"}}}};
}

std::vector<std::string> action_ids(const json& blocks) {
  std::vector<std::string> ids;
  for (const auto& b : blocks) {
    if (b["type"] != "actions") continue;
    for (const auto& e : b["elements"]) ids.push_back(e["action_id"]);
  }
  return ids;
}

const json* find_button(const json& blocks, std::string_view id) {
  for (const auto& b : blocks) {
    if (b["type"] != "actions") continue;
    for (const auto& e : b["elements"]) {
      if (e["action_id"] == id) return &e;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a firing alert: header with severity and rule, summary, fields, and every button") {
  const auto n = AlertNotice::from_payload(payload());
  const json blocks = alert_blocks(n);
  CHECK(blocks[0]["type"] == "header");
  CHECK(blocks[0]["text"]["text"] == ":red_circle: disk-full");
  CHECK(blocks[1]["text"]["text"] == "Disk <90%> on db1");  // the summary template escaped it already
  const std::string fields = blocks[2]["fields"].dump();
  CHECK(fields.find("*Count*\\n3") != std::string::npos);
  CHECK(fields.find("*instance*\\ndb1") != std::string::npos);
  CHECK(action_ids(blocks) == std::vector<std::string>{"vigie_ack", "vigie_resolve", "vigie_silence_1h",
                                                        "vigie_run:restart-db", "vigie_run:clean-tmp", "vigie_runbook"});
  CHECK((*find_button(blocks, "vigie_ack"))["value"] == "42");
  // Only the dangerous action asks for confirmation.
  CHECK(find_button(blocks, "vigie_run:restart-db")->contains("confirm"));
  CHECK((*find_button(blocks, "vigie_run:restart-db"))["style"] == "danger");
  CHECK_FALSE(find_button(blocks, "vigie_run:clean-tmp")->contains("confirm"));
  CHECK((*find_button(blocks, "vigie_runbook"))["url"] == "https://wiki/disk");
  CHECK(alert_text(n) == "Firing: disk-full (instance=db1) — Disk <90%> on db1");
}

TEST_CASE("acknowledged: says who, and the Acknowledge button is gone, resolved: no buttons but the runbook") {
  auto p = payload("update", "acknowledged");
  p["alert"]["acked_by"] = "U0ALICE";
  p["by"] = "U0ALICE";
  const auto acked = AlertNotice::from_payload(p);
  const json blocks = alert_blocks(acked);
  CHECK(blocks.dump().find("Acknowledged by <@U0ALICE>") != std::string::npos);
  CHECK(find_button(blocks, "vigie_ack") == nullptr);
  CHECK(find_button(blocks, "vigie_resolve") != nullptr);
  CHECK(thread_reply(acked) == std::optional<std::string>(":eyes: Acknowledged by <@U0ALICE>"));

  auto r = payload("resolved", "resolved");
  r["reason"] = "condition cleared";
  const auto resolved = AlertNotice::from_payload(r);
  CHECK(action_ids(alert_blocks(resolved)) == std::vector<std::string>{"vigie_runbook"});
  CHECK(alert_blocks(resolved)[0]["text"]["text"] == ":white_check_mark: disk-full");
  CHECK(thread_reply(resolved) == std::optional<std::string>(":white_check_mark: Resolved (condition cleared)"));
}

TEST_CASE("thread = all | transitions | none decides which notices get a thread reply") {
  auto refire = payload("update");
  CHECK(thread_reply(AlertNotice::from_payload(refire)).has_value());  // all: new occurrences too
  refire["rule"]["thread"] = "transitions";
  CHECK_FALSE(thread_reply(AlertNotice::from_payload(refire)).has_value());
  auto resolved = payload("resolved", "resolved");
  resolved["rule"]["thread"] = "transitions";
  CHECK(thread_reply(AlertNotice::from_payload(resolved)).has_value());
  resolved["rule"]["thread"] = "none";
  CHECK_FALSE(thread_reply(AlertNotice::from_payload(resolved)).has_value());
  CHECK_FALSE(thread_reply(AlertNotice::from_payload(payload("post"))).has_value());
}

TEST_CASE("Block Kit limits: long texts cut on a character boundary, at most 10 fields and 25 buttons") {
  auto p = payload();
  p["rule"]["summary"] = std::string(5000, 'x');
  for (int i = 0; i < 30; ++i) p["alert"]["labels"]["label" + std::to_string(i)] = std::string(2500, 'y');
  json offers = json::array();
  for (int i = 0; i < 40; ++i) offers.push_back("action-" + std::to_string(i));
  p["rule"]["offer"] = offers;
  p["alert"]["rule"] = std::string(200, 'r');
  const json blocks = alert_blocks(AlertNotice::from_payload(p));
  CHECK(blocks.size() <= kMaxBlocks);
  CHECK(blocks[0]["text"]["text"].get<std::string>().size() <= kMaxHeaderChars);
  CHECK(blocks[1]["text"]["text"].get<std::string>().size() <= kMaxSectionChars);
  CHECK(blocks[2]["fields"].size() == kMaxFields);
  for (const auto& f : blocks[2]["fields"]) CHECK(f["text"].get<std::string>().size() <= kMaxFieldChars);
  CHECK(blocks.dump().find("More labels:") != std::string::npos);  // the rest are not dropped silently
  CHECK(action_ids(blocks).size() == kMaxButtons);

  const std::string accents = "ééééé";  // 2 bytes each
  const std::string cut = truncate_utf8(accents, 6);
  CHECK(cut == "é\xe2\x80\xa6");  // never half a character
  CHECK(truncate_utf8("short", 10) == "short");
}

TEST_CASE("a storm digest lists its alerts and stays within the block limit") {
  std::vector<AlertNotice> many;
  for (int i = 0; i < 5000; ++i) {
    auto p = payload();
    p["alert"]["id"] = i;
    p["alert"]["labels"] = {{"instance", "db" + std::to_string(i)}};
    many.push_back(AlertNotice::from_payload(p));
  }
  const json blocks = digest_blocks(many);
  CHECK(blocks.size() <= kMaxBlocks);
  CHECK(blocks[0]["text"]["text"] == ":rotating_light: 5000 new alerts");
  CHECK(blocks.dump().find("instance=db0") != std::string::npos);
  CHECK(blocks.back().dump().find("more") != std::string::npos);
  CHECK_FALSE(digest_text(many).empty());
}
