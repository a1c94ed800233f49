// `vigie test`: rule unit tests run through the real engine on a FakeClock and an in-memory store.
#include "vigie/rules/rule_test.h"

#include <glob.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <set>
#include <sstream>

#include "vigie/config/messages.h"
#include "vigie/config/toml_tree.h"
#include "vigie/rules/engine.h"

namespace vigie::rules {
namespace {

using config::OptionSpec;
using config::OptionType;
using config::TomlNode;

constexpr std::array<OptionSpec, 2> kFile{{
    {"rule_files", OptionType::string_list, "", true, "Globs of the rule files under test, relative to this file"},
    {"test", OptionType::table_list, "", true, "The tests: [[test]]"},
}};
constexpr std::array<OptionSpec, 4> kTest{{
    {"name", OptionType::string, "", true, "What the test shows"},
    {"event", OptionType::table_list, "", false, "Input events: [[test.event]]"},
    {"silence", OptionType::table_list, "", false, "Silences created during the test: [[test.silence]]"},
    {"expect", OptionType::table_list, "", true, "Expectations: [[test.expect]]"},
}};
constexpr std::array<OptionSpec, 7> kEvent{{
    {"at", OptionType::duration, "0s", false, "Offset from the test start"},
    {"kind", OptionType::string, "", true, "Event kind"},
    {"attrs", OptionType::table, "", false, "Attributes"},
    {"repeat", OptionType::integer, "1", false, "How many such events", {}, 1, 100000},
    {"every", OptionType::duration, "0s", false, "Time between repeated events"},
    {"id", OptionType::string, "", false, "Event id (default: unique per event)"},
    {"source", OptionType::string, "", false, "Event source (default: the kind's prefix)"},
}};
constexpr std::array<OptionSpec, 6> kSilence{{
    {"at", OptionType::duration, "0s", false, "When it is created"},
    {"matchers", OptionType::string_list, "", true, "Matchers: rule=\"x\", label!=\"y\", label=~\"re\""},
    {"duration", OptionType::duration, "", true, "How long it lasts"},
    {"author", OptionType::string, "test", false, "Who created it"},
    {"comment", OptionType::string, "", false, "Why"},
    {"expire_on_resolve", OptionType::boolean, "false", false, "End it when its alert resolves"},
}};
constexpr std::array<OptionSpec, 4> kExpect{{
    {"at", OptionType::duration, "0s", false, "Offset from the test start"},
    {"alerts", OptionType::table_list, "", false, "The exact set of unresolved alerts: { rule, state, labels }"},
    {"notifications", OptionType::integer, "", false, "Notify jobs emitted so far", {}, 0, 1000000},
    {"actions", OptionType::string_list, "", false, "Action jobs emitted so far, by action name"},
}};
constexpr config::OptionTable kFileTable{"rule test file", "", kFile};
constexpr config::OptionTable kTestTable{"test", "", kTest};
constexpr config::OptionTable kEventTable{"test.event", "", kEvent};
constexpr config::OptionTable kSilenceTable{"test.silence", "", kSilence};
constexpr config::OptionTable kExpectTable{"test.expect", "", kExpect};

// Tests start on a fixed date so results never depend on when they run.
const TimePoint kTestStart = from_unix_ms(1'767'225'600'000);  // 2026-01-01T00:00:00Z

struct Step {
  Duration at{};
  int order = 0;  // events before silences before expectations at one instant
  std::size_t seq = 0;
  const TomlNode* node = nullptr;
  config::OptionValues values;
  int repeat_index = 0;
};

struct ExpectedAlert {
  std::string rule;
  std::string state;  // empty: any unresolved state
  std::optional<nlohmann::json> labels;
};

nlohmann::json to_json(const TomlNode& n) {
  switch (n.type()) {
    case TomlNode::Type::string:
    case TomlNode::Type::datetime: return n.string();
    case TomlNode::Type::integer: return n.integer();
    case TomlNode::Type::floating: return n.number();
    case TomlNode::Type::boolean: return n.boolean();
    case TomlNode::Type::array: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& i : n.items()) a.push_back(to_json(*i));
      return a;
    }
    case TomlNode::Type::table: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& e : n.entries()) o[e.key] = to_json(*e.value);
      return o;
    }
  }
  return nullptr;
}

std::string describe(const store::Alert& a) {
  return a.rule + " " + a.state + " " + a.labels.dump();
}

std::string describe(const ExpectedAlert& e) {
  return e.rule + " " + (e.state.empty() ? "(any state)" : e.state) + " " +
         (e.labels ? e.labels->dump() : std::string("(any labels)"));
}

bool matches(const ExpectedAlert& e, const store::Alert& a) {
  return e.rule == a.rule && (e.state.empty() || e.state == a.state) && (!e.labels || *e.labels == a.labels);
}

std::vector<std::string> expand_globs(const std::string& base, const std::vector<std::string>& globs,
                                      const config::SourcePos& pos, config::Diagnostics& diags) {
  std::set<std::string> files;
  for (const auto& g : globs) {
    std::filesystem::path p(g);
    if (p.is_relative()) p = std::filesystem::path(base) / p;
    glob_t out{};
    if (::glob(p.lexically_normal().string().c_str(), 0, nullptr, &out) == 0) {
      for (std::size_t i = 0; i < out.gl_pathc; ++i) files.insert(out.gl_pathv[i]);
    } else {
      diags.error(pos, config::kNoRuleFiles.code, config::fmt_message(config::kNoRuleFiles, g));
    }
    globfree(&out);
  }
  return {files.begin(), files.end()};
}

void run_one(const std::string& name, const TomlNode& test, const RuleSetPtr& rules,
             RuleTestFileResult& result, config::Diagnostics& diags) {
  const std::size_t errors_before = diags.error_count();
  auto v = config::validate_options(test, kTestTable, "[[test]] '" + name + "'", diags);
  std::vector<Step> steps;
  std::size_t seq = 0;
  auto collect = [&](const char* key, const config::OptionTable& table, int order) {
    auto list = v.node(key);
    if (!list) return;
    for (const auto& item : list->items()) {
      auto values = config::validate_options(*item, table, std::string("[[test.") + key + "]]", diags);
      const int repeat = order == 0 ? static_cast<int>(values.integer("repeat", 1)) : 1;
      for (int r = 0; r < repeat; ++r) {
        Step s;
        s.at = values.duration("at") + (order == 0 ? values.duration("every") * r : Duration{0});
        s.order = order;
        s.seq = seq++;
        s.node = item.get();
        s.values = values;
        s.repeat_index = r;
        steps.push_back(std::move(s));
      }
    }
  };
  collect("event", kEventTable, 0);
  collect("silence", kSilenceTable, 1);
  collect("expect", kExpectTable, 2);
  if (diags.error_count() > errors_before) return;
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
    return std::tie(a.at, a.order, a.seq) < std::tie(b.at, b.order, b.seq);
  });

  ++result.tests;
  std::ostringstream quiet;
  Logging logging(LogLevel::off, std::make_shared<SecretRegistry>(), quiet);
  FakeClock clock(kTestStart);
  auto store = store::Store::open(":memory:");
  if (!store) {
    result.failures.push_back({name, test.pos(), "cannot open an in-memory store: " + store.error().message});
    return;
  }
  Engine engine(**store, clock, logging.logger("test"), EngineOptions{"#test"});
  std::vector<store::Job> jobs;
  auto take = [&](EngineOutput out) {
    for (auto& j : out.jobs) jobs.push_back(std::move(j));
  };
  engine.set_output_sink(take);
  engine.set_rules(rules);
  Duration now{0};
  std::size_t event_no = 0;
  bool failed = false;
  for (const auto& s : steps) {
    if (s.at > now) {
      clock.advance(s.at - now);
      now = s.at;
    }
    if (s.order == 0) {
      bus::Event e;
      e.kind = s.values.string("kind");
      e.id = s.values.string("id");
      if (e.id.empty()) e.id = "test-" + std::to_string(++event_no);
      else if (s.repeat_index > 0) e.id += "-" + std::to_string(s.repeat_index);
      e.source = s.values.string("source");
      if (e.source.empty()) e.source = e.kind.substr(0, e.kind.find('.'));
      e.time = e.received_at = clock.system_now();
      if (auto attrs = s.values.node("attrs")) e.attrs = to_json(*attrs);
      take(engine.ingest({e}));
    } else if (s.order == 1) {
      store::Silence sil;
      sil.id = "test-silence-" + std::to_string(s.seq);
      for (const auto& m : s.values.strings("matchers")) sil.matchers.push_back(m);
      sil.starts = clock.system_now();
      sil.ends = sil.starts + s.values.duration("duration");
      sil.author = s.values.string("author", "test");
      sil.comment = s.values.string("comment");
      sil.expire_on_resolve = s.values.boolean("expire_on_resolve");
      auto out = engine.add_silence(sil);
      if (!out.ok) {
        diags.error(s.node->pos(), "bad-silence", out.error);
        failed = true;
        break;
      }
      take(std::move(out));
    } else {
      const std::string at = "at " + format_duration(s.at);
      std::vector<std::string> problems;
      if (auto expected = s.values.node("alerts")) {
        std::vector<ExpectedAlert> want;
        for (const auto& item : expected->items()) {
          ExpectedAlert e;
          if (const TomlNode* r = item->get("rule"); r && r->is_string()) e.rule = r->string();
          if (const TomlNode* st = item->get("state"); st && st->is_string()) e.state = st->string();
          if (const TomlNode* l = item->get("labels"); l && l->is_table()) e.labels = to_json(*l);
          for (const auto& entry : item->entries()) {
            if (entry.key != "rule" && entry.key != "state" && entry.key != "labels") {
              diags.error(entry.key_pos, config::kUnknownKey.code,
                          config::fmt_message(config::kUnknownKey, entry.key, "an expected alert"),
                          {config::fmt_message(config::kNoteValidKeys, "rule, state, labels")});
            }
          }
          want.push_back(std::move(e));
        }
        auto open = (*store)->open_alerts();
        std::vector<store::Alert> got = open ? *open : std::vector<store::Alert>{};
        std::vector<bool> used(got.size(), false);
        std::vector<std::string> missing;
        for (const auto& w : want) {
          bool found = false;
          for (std::size_t i = 0; i < got.size() && !found; ++i) {
            if (!used[i] && matches(w, got[i])) used[i] = found = true;
          }
          if (!found) missing.push_back(describe(w));
        }
        std::vector<std::string> extra;
        for (std::size_t i = 0; i < got.size(); ++i) {
          if (!used[i]) extra.push_back(describe(got[i]));
        }
        for (const auto& m : missing) problems.push_back("expected alert " + m + ", not found");
        for (const auto& x : extra) problems.push_back("unexpected alert " + x);
      }
      if (s.values.has("notifications")) {
        const auto want = s.values.integer("notifications");
        const auto got = std::count_if(jobs.begin(), jobs.end(), [](const store::Job& j) { return j.kind == "notify"; });
        if (got != want) {
          problems.push_back("expected " + std::to_string(want) + " notification(s), got " + std::to_string(got));
        }
      }
      if (s.values.has("actions")) {
        std::vector<std::string> got;
        for (const auto& j : jobs) {
          if (j.kind == "action") got.push_back(j.payload.value("action", ""));
        }
        const auto want = s.values.strings("actions");
        if (got != want) {
          auto list = [](const std::vector<std::string>& v) {
            std::string out = "[";
            for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
            return out + "]";
          };
          problems.push_back("expected actions " + list(want) + ", got " + list(got));
        }
      }
      for (const auto& p : problems) {
        result.failures.push_back({name, s.node->pos(), at + ": " + p});
        failed = true;
      }
    }
  }
  if (!failed) ++result.passed;
}

}  // namespace

RuleTestFileResult run_rule_test_text(const std::string& file, const std::string& text,
                                      const RuleLoadContext& context, config::Diagnostics& diags) {
  RuleTestFileResult result;
  result.file = file;
  const std::size_t errors_before = diags.error_count();
  auto root = config::parse_toml(text, file, diags);
  if (!root) return result;
  auto v = config::validate_options(*root, kFileTable, "the test file", diags);
  if (diags.error_count() > errors_before) return result;
  const std::string base = std::filesystem::path(file).parent_path().string();
  const auto rule_files = expand_globs(base, v.strings("rule_files"), v.pos("rule_files"), diags);
  auto rules = load_rule_set(rule_files, context, diags);
  if (!rules || diags.error_count() > errors_before) return result;
  result.loaded = true;
  for (const auto& t : v.node("test")->items()) {
    const TomlNode* n = t->get("name");
    const std::string name = n && n->is_string() ? n->string() : "(unnamed)";
    run_one(name, *t, rules, result, diags);
  }
  if (diags.error_count() > errors_before) result.loaded = false;
  return result;
}

RuleTestFileResult run_rule_test_file(const std::string& file, const RuleLoadContext& context,
                                      config::Diagnostics& diags) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    diags.error({file, 0, 0}, config::kFileUnreadable.code, config::fmt_message(config::kFileUnreadable, file));
    RuleTestFileResult r;
    r.file = file;
    return r;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return run_rule_test_text(file, buf.str(), context, diags);
}

nlohmann::json rule_test_result_json(const std::vector<RuleTestFileResult>& results) {
  nlohmann::json files = nlohmann::json::array();
  std::size_t tests = 0, passed = 0;
  for (const auto& r : results) {
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& f : r.failures) {
      failures.push_back({{"test", f.test}, {"file", f.pos.file}, {"line", f.pos.line}, {"message", f.message}});
    }
    files.push_back({{"file", r.file}, {"loaded", r.loaded}, {"tests", r.tests}, {"passed", r.passed}, {"failures", failures}});
    tests += r.tests;
    passed += r.passed;
  }
  return {{"tests", tests}, {"passed", passed}, {"failed", tests - passed}, {"files", files}};
}

const config::OptionTable& rule_test_options() { return kTestTable; }
const config::OptionTable& rule_test_event_options() { return kEventTable; }
const config::OptionTable& rule_test_silence_options() { return kSilenceTable; }
const config::OptionTable& rule_test_expect_options() { return kExpectTable; }

}  // namespace vigie::rules
