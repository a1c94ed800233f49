// Hostile input end to end, in-process (slack_world.h: the real engine, store, chat commands,
// delivery queue and HTTP client against the fake Slack, on a FakeClock): mustache in a Sentry
// title is never expanded, Slack markup in event fields and log lines (`<!channel>`, `<@U…>`,
// `<http://x|y>`) reaches Slack escaped, a 1 MB log line against regular-expression rules is
// matched in bounded time and posted cut to Block Kit's limits, and signed clicks from another
// workspace's user or a user without the role change nothing, get a denial, and replays do
// nothing twice; with [slack] team_id, another workspace's click on a real alert message is
// refused (403) before it is stored and acknowledges nothing.
#include <catch2/catch.hpp>

#include <chrono>

#include "slack_world.h"

using namespace vigie;
using namespace vigie::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const char* kHostileRules = R"(
[[rule]]
name = "sentry-new"
when = 'kind == "sentry.issue"'
group_by = ["project"]
summary = "{{title}} in {{project}}"
notify = ["C0OPS"]

[[rule]]
name = "log-error"
when = 'kind == "papertrail.log" and message matches "(?i)(error|fail)+[a-z]*$"'
group_by = ["host"]
summary = "{{host}}: {{message}}"
notify = ["C0OPS"]
)";

// What Slack would read as markup: none of it may reach a message raw.
const char* kMarkup[] = {"<!channel>", "<!here>", "<@U0BOB>", "<http://evil.example|click here>",
                         "<#C0OPS>"};

std::string everything(const FakeSlack& slack) {
  std::string all;
  for (const auto& r : slack.requests()) all += r.args.dump() + "\n";
  return all;
}

void ingest(SlackWorld& w, const std::string& kind, json attrs) {
  bus::Event e;
  e.id = "hostile-" + std::to_string(++w.seq);
  e.source = "test";
  e.kind = kind;
  e.time = e.received_at = w.clock.system_now();
  e.attrs = std::move(attrs);
  w.take(w.engine->ingest({e}));
}

// A disk alert posted to Slack: its message's ts, its id, and how often the message was edited.
struct PostedAlert {
  std::string ts;
  std::int64_t alert_id = 0;
  int edits = 0;
};
PostedAlert post_disk_alert(SlackWorld& w) {
  w.disk("web-1", 97);
  w.settle();
  REQUIRE(w.slack.messages().size() == 1);
  PostedAlert a;
  a.ts = w.slack.messages()[0].ts;
  a.alert_id = w.only_alert_id();
  a.edits = w.slack.message("C0OPS", a.ts)->edits;
  return a;
}

}  // namespace

TEST_CASE(
    "hostile input: mustache in a Sentry title is not expanded and Slack markup in it is escaped",
    "[hostile]") {
  SlackWorld w(false, kHostileRules);
  const std::string title =
      "{{count}} {{#labels}}x{{/labels}} {{{project}}} {{> partial}} <!channel> <!here> <@U0BOB> "
      "<http://evil.example|click here> <#C0OPS> & done";
  ingest(w, "sentry.issue", {{"project", "shop-api"}, {"title", title}, {"count", 7}});
  w.settle();
  REQUIRE(w.slack.messages().size() == 1);
  const auto m = w.slack.messages()[0];
  const std::string shown = m.text + m.blocks.dump();
  // The template's own {{title}} expanded once; what the title holds stays literal text.
  CHECK(shown.find("{{count}} {{#labels}}x{{/labels}} {{{project}}} {{&gt; partial}}") !=
        std::string::npos);
  CHECK(shown.find("7 {{#labels}}") == std::string::npos);
  for (const char* markup : kMarkup) CHECK(everything(w.slack).find(markup) == std::string::npos);
  CHECK(shown.find("&lt;!channel&gt;") != std::string::npos);
  CHECK(shown.find("&lt;@U0BOB&gt;") != std::string::npos);
  CHECK(shown.find("&lt;http://evil.example|click here&gt;") != std::string::npos);
  CHECK(shown.find("&amp; done") != std::string::npos);
}

TEST_CASE(
    "hostile input: Slack markup in a log line and in a label is escaped in the message and its "
    "fields",
    "[hostile]") {
  SlackWorld w(false, kHostileRules);
  ingest(w, "papertrail.log",
         {{"host", "<!here>web-1"},
          {"message", "disk <!channel> <@U0BOB> <http://evil.example|click here> <#C0OPS> error"}});
  w.settle();
  REQUIRE(w.slack.messages().size() == 1);
  for (const char* markup : kMarkup) CHECK(everything(w.slack).find(markup) == std::string::npos);
  const auto m = w.slack.messages()[0];
  CHECK((m.text + m.blocks.dump()).find("&lt;!here&gt;web-1") != std::string::npos);
}

TEST_CASE(
    "hostile input: a 1 MB log line against regular-expression rules is matched in bounded time "
    "and posted cut",
    "[hostile]") {
  SlackWorld w(false, kHostileRules);
  // A subject that makes backtracking engines explode on (error|fail)+[a-z]*$; RE2 is linear.
  std::string line;
  while (line.size() < (1u << 20)) line += "errorfailerror";
  line += " <!channel> error";  // ends in letters after "error": matches
  const auto started = std::chrono::steady_clock::now();
  ingest(w, "papertrail.log",
         {{"host", "web-1"}, {"message", line + "!"}});  // no match, found at the very end
  ingest(w, "papertrail.log", {{"host", "web-2"}, {"message", line}});
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(took < 5s);
  w.settle();
  // Only the second line matched; its message is cut to Block Kit's limits and escaped.
  REQUIRE(w.slack.messages().size() == 1);
  const auto m = w.slack.messages()[0];
  for (const auto& block : m.blocks) {
    if (block.value("type", "") == "section" && block.contains("text"))
      CHECK(block["text"].value("text", "").size() <= 3000);
  }
  CHECK(everything(w.slack).find("<!channel") == std::string::npos);
}

TEST_CASE(
    "hostile input: a signed click from another workspace's user or a user without the role is "
    "denied and changes "
    "nothing, and a replayed click does nothing twice",
    "[hostile]") {
  SlackWorld w(false, kRules, {"U0BOB"});
  const auto [ts, alert_id, edits_before] = post_disk_alert(w);

  auto click = [&](const std::string& user, const std::string& team, const std::string& action_ts) {
    const std::string body =
        SlackWorld::click_body("vigie_ack", alert_id, ts, user, action_ts, team);
    return std::make_pair(body,
                          FakeSlack::signed_headers(kSigningSecret, body, w.clock.system_now()));
  };
  auto denials = [&] {
    std::size_t n = 0;
    for (const auto& j : w.jobs)
      n += j.kind == "reply" &&
           j.payload.dump().find("You may not press that button") != std::string::npos;
    return n;
  };
  // Another workspace where the app is installed: signed with the same secret, a stranger's id.
  auto [stranger_body, stranger_headers] = click("W0STRANGER", "T0OTHER", "1767226300.000100");
  CHECK(w.post_to_vigie("/slack/interactive", stranger_body, stranger_headers, true) == 200);
  // Our workspace, a user holding no role.
  auto [eve_body, eve_headers] = click("U0EVE", "T0VIGIE", "1767226300.000200");
  CHECK(w.post_to_vigie("/slack/interactive", eve_body, eve_headers, true) == 200);
  w.settle();
  CHECK((*w.store->find_alert(alert_id))->state == "firing");
  CHECK(w.slack.message("C0OPS", ts)->edits == edits_before);
  CHECK(denials() == 2);

  // Bob holds the role: his click acknowledges (so the denials above were about who clicked).
  auto [bob_body, bob_headers] = click("U0BOB", "T0VIGIE", "1767226300.000300");
  CHECK(w.post_to_vigie("/slack/interactive", bob_body, bob_headers, true) == 200);
  w.settle();
  CHECK((*w.store->find_alert(alert_id))->state == "acknowledged");
  const auto edits_after_ack = w.slack.message("C0OPS", ts)->edits;
  const auto audit_jobs = w.jobs.size();

  // A replay of Bob's request within Slack's window: the same click id, nothing happens twice.
  w.clock.advance(2min);
  CHECK(w.post_to_vigie("/slack/interactive", bob_body, bob_headers, true) == 200);
  w.settle();
  CHECK(w.slack.message("C0OPS", ts)->edits == edits_after_ack);
  CHECK(w.jobs.size() == audit_jobs);
  // And past it: refused outright.
  w.clock.advance(4min);
  CHECK(w.post_to_vigie("/slack/interactive", bob_body, bob_headers, true) == 401);
  // The stranger's click replayed: still denied, not twice.
  CHECK(w.post_to_vigie("/slack/interactive", stranger_body, stranger_headers, true) == 401);
  CHECK(denials() == 2);
}

TEST_CASE(
    "hostile input: with [slack] team_id, a signed click from another workspace on a real alert "
    "message gets 403 and acknowledges nothing, the workspace's own click does",
    "[hostile]") {
  // U0BOB holds the role in both workspaces' eyes: only the team tells them apart.
  SlackWorld w(false, kRules, {"U0BOB"}, "T0VIGIE");
  const auto [ts, alert_id, edits_before] = post_disk_alert(w);
  const auto jobs_before = w.jobs.size();
  const auto events_before = w.stored.size();

  auto post_click = [&](const std::string& team, const std::string& action_ts) {
    const std::string body =
        SlackWorld::click_body("vigie_ack", alert_id, ts, "U0BOB", action_ts, team);
    return w.post_to_vigie("/slack/interactive", body,
                           FakeSlack::signed_headers(kSigningSecret, body, w.clock.system_now()),
                           true);
  };
  CHECK(post_click("T0OTHER", "1767226400.000100") == 403);
  CHECK(post_click("", "1767226400.000200") == 403);  // names no team at all
  w.settle();
  CHECK((*w.store->find_alert(alert_id))->state == "firing");
  CHECK(w.slack.message("C0OPS", ts)->edits == edits_before);
  CHECK(w.jobs.size() == jobs_before);      // no reply, no denial, no notify
  CHECK(w.stored.size() == events_before);  // nothing of theirs stored
  CHECK(w.metrics.render().find(
            R"(vigie_slack_requests_refused_total{reason="team",transport="http"} 2)") !=
        std::string::npos);

  CHECK(post_click("T0VIGIE", "1767226400.000300") == 200);
  w.settle();
  CHECK((*w.store->find_alert(alert_id))->state == "acknowledged");
}
