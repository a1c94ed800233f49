// Rule loading: the shipped examples load; a broken rule directory reports every mistake in one
// run at its exact line and column; references, windows, templates, commands and lint.
#include <catch2/catch.hpp>

#include <filesystem>

#include "vigie/actions/kinds.h"
#include "vigie/config/messages.h"
#include "vigie/rules/rule_messages.h"
#include "vigie/rules/rule_set.h"

using namespace vigie;
using namespace vigie::rules;
using config::fmt_message;
using namespace std::chrono_literals;

namespace {

struct Context {
  config::KindCatalog kinds;
  RuleLoadContext ctx;
  Context() {
    actions::register_builtin_actions(kinds);
    ctx.action_kinds = &kinds;
    ctx.roles = {"oncall", "admins"};
  }
};

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".toml") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const config::Diagnostic* at(const config::Diagnostics& d, const std::string& file_suffix, int line, int col) {
  for (const auto& item : d.items()) {
    if (item.pos.line == line && item.pos.column == col && item.pos.file.size() >= file_suffix.size() &&
        item.pos.file.compare(item.pos.file.size() - file_suffix.size(), file_suffix.size(), file_suffix) == 0) {
      return &item;
    }
  }
  return nullptr;
}

RuleSetPtr load_text(const std::string& text, config::Diagnostics& d) {
  Context c;
  return load_rule_texts({{"t.toml", text}}, c.ctx, d);
}

}  // namespace

TEST_CASE("the shipped example rules load without errors") {
  Context c;
  config::Diagnostics d;
  auto set = load_rule_set(files_in(std::string(VIGIE_SOURCE_DIR) + "/examples/rules"), c.ctx, d);
  INFO(d.render_text());
  REQUIRE(set);
  CHECK(d.error_count() == 0);
  CHECK(set->rules().size() >= 8);
  const Rule* burst = set->find_rule("sentry-error-burst");
  REQUIRE(burst);
  CHECK(burst->window.kind == RuleWindow::Kind::count);
  CHECK(burst->window.at_least == 5);
  CHECK(burst->window.within == 10min);
  CHECK(burst->group_by == std::vector<std::string>{"project"});
  CHECK(burst->escalate->after == 15min);
  CHECK(burst->repeat == 4h);
  CHECK(burst->offer == std::vector<std::string>{"restart-shop-api"});
  const ActionDef* restart = set->find_action("restart-app");
  REQUIRE(restart);
  CHECK(restart->params == std::vector<std::string>{"app"});
  CHECK(restart->approvals == 1);
  CHECK(restart->rate_limit->max == 3);
  CHECK(d.warning_count() == 0);  // every shipped action is offered or has a command
  REQUIRE(set->commands().size() == 11);
  CHECK(set->commands()[0].pattern.head() == "restart");
  CHECK(set->longest_window() >= 25h);
}

TEST_CASE("a broken rule directory reports every mistake at once, each at its position") {
  Context c;
  config::Diagnostics d;
  auto set = load_rule_set(files_in(std::string(VIGIE_FIXTURES) + "/rules/broken"), c.ctx, d);
  CHECK_FALSE(set);
  INFO(d.render_text());
  struct Expect {
    std::string file;
    int line, col;
    std::string code, message;
  };
  const std::vector<Expect> expected{
      {"c.toml", 3, 20, "toml-syntax", ""},  // bad TOML: the file stops there
      {"a.toml", 4, 42, kCondUnknownOperator.code.data(), fmt_message(kCondUnknownOperator, "~=")},
      {"a.toml", 10, 1, config::kUnknownKey.code.data(), fmt_message(config::kUnknownKey, "sevrity", "[[rule]] 'typo-key'")},
      {"a.toml", 15, 7, config::kBadDuration.code.data(), fmt_message(config::kBadDuration, "for", "5 minutes")},
      {"a.toml", 19, 9, kCondUnbalancedOpen.code.data(), fmt_message(kCondUnbalancedOpen)},
      {"a.toml", 23, 25, kCondBadRegex.code.data(), ""},
      {"a.toml", 29, 10, kUnknownAction.code.data(), fmt_message(kUnknownAction, "restart-shop", "offer")},
      {"a.toml", 35, 24, kTemplateUnknownVar.code.data(), fmt_message(kTemplateUnknownVar, "labels.projet", "errors in {{labels.projet}}")},
      {"a.toml", 40, 12, config::kWrongType.code.data(), fmt_message(config::kWrongType, "group_by", "an array of strings", "string")},
      {"a.toml", 42, 1, config::kMissingKey.code.data(), fmt_message(config::kMissingKey, "when", "[[rule]] 'no-when'")},
      {"b.toml", 5, 10, kUnknownRole.code.data(), fmt_message(kUnknownRole, "oncal")},
      {"b.toml", 8, 8, kDuplicate.code.data(), fmt_message(kDuplicate, "rule", "burst")},
      {"b.toml", 14, 8, kUnknownActionType.code.data(), fmt_message(kUnknownActionType, "digitalocean.reboots")},
  };
  for (const auto& e : expected) {
    INFO(e.file << ":" << e.line << ":" << e.col << " " << e.message);
    const auto* got = at(d, e.file, e.line, e.col);
    REQUIRE(got != nullptr);
    CHECK(got->code == e.code);
    if (!e.message.empty()) CHECK(got->message == e.message);
  }
  CHECK(d.error_count() == expected.size());
  // Hints: did-you-mean on the key, the role, the action and the kind.
  CHECK(at(d, "a.toml", 10, 1)->notes.front() == fmt_message(config::kNoteDidYouMean, "severity"));
  CHECK(at(d, "b.toml", 5, 10)->notes.front() == fmt_message(config::kNoteDidYouMean, "oncall"));
  CHECK(at(d, "a.toml", 29, 10)->notes.front() == fmt_message(config::kNoteDidYouMean, "restart-shop-api"));
  CHECK(at(d, "b.toml", 14, 8)->notes.front() == fmt_message(config::kNoteDidYouMean, "digitalocean.reboot"));
  CHECK(at(d, "b.toml", 8, 8)->notes.front().find("a.toml:3:8") != std::string::npos);
  // The text output has the snippet and the caret under the exact column inside the string.
  const std::string text = d.render_text();
  CHECK(text.find("a.toml:4:42: error: unknown operator '~=' [expr-operator]\n"
                  "  when = 'kind == \"sentry.issue\" and level ~= \"error\"'\n" +
                  std::string(2 + 41, ' ') + "^\n") != std::string::npos);
}

TEST_CASE("window clauses: one at most, with their own keys checked") {
  config::Diagnostics d;
  CHECK_FALSE(load_text("[[rule]]\nname = \"r\"\nwhen = 'kind == \"x\"'\nfor = \"5m\"\ncount = { at_least = 3, within = \"1m\" }\n", d));
  CHECK(d.items()[0].message == fmt_message(kWindowConflict, "r", "count, for"));
  config::Diagnostics d2;
  CHECK_FALSE(load_text("[[rule]]\nname = \"r\"\nwhen = 'kind == \"x\"'\ncount = { at_lest = 3, within = \"1m\" }\n", d2));
  CHECK(d2.items()[0].message == fmt_message(config::kUnknownKey, "at_lest", "[[rule]] 'r' count"));
  config::Diagnostics d3;
  CHECK_FALSE(load_text("[[rule]]\nname = \"r\"\nwhen = 'kind == \"x\"'\nmax_gap = \"1m\"\n", d3));
  CHECK(d3.items()[0].message == std::string(kMaxGapWithoutFor.text));
  config::Diagnostics d4;
  auto set = load_text("[[rule]]\nname = \"r\"\nwhen = 'kind == \"x\"'\nfor = \"5m\"\n", d4);
  REQUIRE(set);
  CHECK(set->rules()[0].window.max_gap == 5min);  // defaults to the for duration
}

TEST_CASE("an action's parameters must be provided by the rules and commands that use it") {
  config::Diagnostics d;
  CHECK_FALSE(load_text(R"(
[[action]]
name = "restart"
type = "heroku.restart"
app = "{{app}}"
allow = ["oncall"]

[[rule]]
name = "r"
when = 'kind == "x"'
group_by = ["project"]
offer = ["restart"]

[[command]]
pattern = "bounce {name:word}"
action = "restart"
)", d));
  REQUIRE(d.error_count() == 2);
  CHECK(d.items()[0].message == fmt_message(kMissingParam, "restart", "app", "rule 'r'"));
  CHECK(d.items()[1].message == fmt_message(kMissingParam, "restart", "app", "command 'bounce {name:word}'"));
}

namespace {

// The load failed with exactly these action-option refusals, in order: (line, message).
void check_refused(const config::Diagnostics& d,
                   const std::vector<std::pair<int, std::string>>& expected) {
  REQUIRE(d.error_count() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(d.items()[i].message);
    CHECK(d.items()[i].code == kBadActionOption.code);
    CHECK(d.items()[i].pos.line == expected[i].first);
    CHECK(d.items()[i].message == expected[i].second);
  }
}

// The load gave exactly one diagnostic: this warning at this line.
void check_one_warning(const config::Diagnostics& d, std::string_view code, int line,
                       const std::string& message) {
  REQUIRE(d.items().size() == 1);
  CHECK(d.items()[0].severity == config::Severity::warning);
  CHECK(d.items()[0].code == code);
  CHECK(d.items()[0].pos.line == line);
  CHECK(d.items()[0].message == message);
}

}  // namespace

TEST_CASE(
    "vigie check reports what the exec kind would refuse at run time, at the option, and leaves "
    "{{params}} to run time") {
  config::Diagnostics d;
  CHECK_FALSE(load_text(R"(
[[action]]
name = "clean"
type = "exec"
argv = ["rm", "-rf", "/tmp/cache"]
workdir = "tmp"
env = ["HOME", "NOT-A-NAME"]
allow = ["oncall"]

[[action]]
name = "pick"
type = "exec"
argv = ["{{program}}"]
workdir = "/srv/{{app}}"
params = { program = "word", app = "word" }
allow = ["oncall"]

[[command]]
pattern = "clean"
action = "clean"

[[command]]
pattern = "pick {program:word} {app:word}"
action = "pick"
)",
                        d));
  check_refused(
      d, {{5, "the program (argv[0]) must be an absolute path, not 'rm': no PATH lookup is done"},
          {6, "'workdir' must be an absolute path, not 'tmp'"},
          {7, "'env' lists 'NOT-A-NAME', which is not a variable name"}});
}

TEST_CASE(
    "vigie check reports what the http kind would refuse at run time: scheme, JSON body, statuses, "
    "secret headers") {
  config::Diagnostics d;
  CHECK_FALSE(load_text(R"(
[[action]]
name = "hook"
type = "http"
url = "ftp://deploy.example/{{app}}"
body = '{"app": '
expect_status = ["200", "2xx"]
secret_headers = { "X-Key" = "VAR" }
allow = ["oncall"]

[[action]]
name = "fine"
type = "http"
url = "{{base}}/restart"
body = '{"app": "{{app}}"}'
headers = { "X-App" = "{{app}}" }
allow = ["oncall"]

[[command]]
pattern = "hook {app:word}"
action = "hook"

[[command]]
pattern = "fine {base:word} {app:word}"
action = "fine"
)",
                        d));
  check_refused(d, {{5,
                     "'url' must start with http:// or https:// (or with a {{param}} holding it): "
                     "'ftp://deploy.example/{{app}}'"},
                    {6, "'body' is not JSON"},
                    {7, "'expect_status' holds '2xx', which is not an HTTP status"},
                    {8, "secret header 'X-Key' must be \"env:VAR\" or \"file:/path\""}});
}

TEST_CASE("command patterns and references are checked") {
  config::Diagnostics d;
  CHECK_FALSE(load_text(R"(
[[action]]
name = "a"
type = "docker.restart"
container = "web"

[[command]]
pattern = "restart {app:wrd}"
action = "a"

[[command]]
pattern = "x"
action = "b"
)", d));
  REQUIRE(d.error_count() == 2);
  CHECK(d.items()[0].message.find("unknown action 'b'") != std::string::npos);
  CHECK(d.items()[1].code == kBadPattern.code);
  CHECK(d.items()[1].pos.line == 8);
  CHECK(d.items()[1].pos.column == 25);  // at "wrd" inside the string
}

TEST_CASE(
    "lint warning: resolve_after on Alertmanager alerts, whose re-sends never reach the rule") {
  config::Diagnostics d;
  auto set = load_text(R"(
[[rule]]
name = "disk"
when = 'kind == "alertmanager.alert" and alertname == "DiskFull"'
group_by = ["instance"]
resolve_after = "10m"

[[rule]]
name = "disk-right"
when = 'kind == "alertmanager.alert" and alertname == "DiskFull" and status == "firing"'
group_by = ["instance"]
resolve_when = 'kind == "alertmanager.alert" and status == "resolved"'

[[rule]]
name = "sentry-stale"
when = 'kind == "sentry.issue"'
group_by = ["project"]
resolve_after = "30m"
)",
                       d);
  REQUIRE(set);
  check_one_warning(d, kResolveAfterResent.code, 6, fmt_message(kResolveAfterResent, "disk"));
}

TEST_CASE("lint warning: an action kind this version cannot run is flagged at its type") {
  config::Diagnostics d;
  auto set = load_text(R"(
[[action]]
name = "say"
type = "slack.post"
channel = "C0OPS"
text = "restarting {{app}}"
allow = ["oncall"]

[[command]]
pattern = "say {app:word}"
action = "say"
)",
                       d);
  REQUIRE(set);
  check_one_warning(d, kKindNotRunnable.code, 4, fmt_message(kKindNotRunnable, "slack.post"));
}

TEST_CASE("lint warnings: unused action, macro and list, count of one, contradictory equalities") {
  config::Diagnostics d;
  auto set = load_text(R"(
[[macro]]
name = "unused_macro"
when = 'kind == "x"'

[[list]]
name = "unused_list"
items = ["a"]

[[action]]
name = "lonely"
type = "docker.restart"
container = "web"

[[rule]]
name = "one"
when = 'kind == "a"'
count = { at_least = 1, within = "1m" }

[[rule]]
name = "never"
when = 'kind == "a" and kind == "b"'
)", d);
  REQUIRE(set);  // warnings do not stop a load
  CHECK(d.error_count() == 0);
  std::vector<std::string> codes;
  for (const auto& i : d.items()) codes.push_back(i.code);
  for (auto code : {kUnusedAction.code, kUnusedMacro.code, kUnusedList.code, kCountOfOne.code, kNeverMatches.code}) {
    INFO(code);
    CHECK(std::find(codes.begin(), codes.end(), code) != codes.end());
  }
}

TEST_CASE("the rule index of a loaded set finds rules by kind") {
  config::Diagnostics d;
  auto set = load_text(R"(
[[rule]]
name = "a"
when = 'kind == "sentry.issue" and project == "x"'
[[rule]]
name = "b"
when = 'kind == "papertrail.log"'
[[rule]]
name = "c"
when = 'level == "error" or level == "fatal"'
)", d);
  REQUIRE(set);
  bus::Event e;
  e.kind = "papertrail.log";
  std::vector<std::uint32_t> out;
  set->index().candidates(e, out);
  CHECK(out == std::vector<std::uint32_t>{1, 2});
}

TEST_CASE("RuleSetHolder keeps the last good set when a reload has errors") {
  RuleSetHolder holder;
  config::Diagnostics ok_diags;
  auto good = load_text("[[rule]]\nname = \"r\"\nwhen = 'kind == \"x\"'\n", ok_diags);
  REQUIRE(holder.swap(good));
  config::Diagnostics bad_diags;
  auto bad = load_text("[[rule]]\nname = \"r\"\nwhen = 'kind == '\n", bad_diags);
  CHECK_FALSE(bad);
  CHECK_FALSE(holder.swap(bad));
  CHECK(holder.current() == good);
}
