// vigie.toml loading: the shipped example is valid; a broken file reports every mistake at once,
// each at its exact position with its named message.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "vigie/actions/kinds.h"
#include "vigie/collectors/kinds.h"
#include "vigie/config/config.h"
#include "vigie/config/messages.h"

using namespace vigie;
using namespace vigie::config;

namespace {
struct Kinds {
  KindCatalog collectors, providers;
  Kinds() {
    vigie::collectors::register_builtin_collectors(collectors);
    vigie::actions::register_builtin_providers(providers);
  }
  Catalogs catalogs() const { return {&collectors, &providers}; }
};

// Writes `text` as vigie.toml in a fresh temp folder and loads it.
struct TempConfig {
  std::filesystem::path dir;
  explicit TempConfig(std::string_view text) {
    dir = std::filesystem::temp_directory_path() /
          ("vigie-config-test-" + std::to_string(std::hash<std::string_view>{}(text)));
    std::filesystem::create_directories(dir / "rules");
    std::ofstream(dir / "vigie.toml") << text;
  }
  ~TempConfig() { std::filesystem::remove_all(dir); }
  std::string path() const { return (dir / "vigie.toml").string(); }
};

const Diagnostic* find_at(const Diagnostics& d, int line, int column) {
  for (const auto& item : d.items()) {
    if (item.pos.line == line && item.pos.column == column) return &item;
  }
  return nullptr;
}
}  // namespace

TEST_CASE("the shipped example vigie.toml is valid") {
  Kinds kinds;
  Diagnostics d;
  auto cfg = load_config(std::string(VIGIE_SOURCE_DIR) + "/examples/vigie.toml", kinds.catalogs(), d);
  INFO(d.render_text());
  REQUIRE(cfg);
  CHECK(d.error_count() == 0);
  CHECK(cfg->server.listen == "127.0.0.1:8080");
  CHECK(cfg->store.retention == std::chrono::hours(24 * 14));
  CHECK(cfg->slack.enabled);
  CHECK(cfg->slack.token->env == "SLACK_BOT_TOKEN");
  CHECK(cfg->access.roles.at("oncall") == std::vector<std::string>{"U024BE7LH", "U0G9QF9C6"});
  REQUIRE(cfg->collectors.size() == 3);
  CHECK(cfg->collectors[0].name == "sentry-main");
  CHECK(cfg->collectors[0].type == "sentry");
  CHECK(cfg->collectors[0].options.strings("projects") == std::vector<std::string>{"shop-api"});
  CHECK(cfg->collectors[1].options.integer("account_id") == 1234567);
  REQUIRE(cfg->providers.size() == 6);
  CHECK(cfg->providers[2].type == "rackspace");
  CHECK(cfg->providers[4].type == "sentry");
  REQUIRE(cfg->webhooks.size() == 1);
  CHECK(cfg->webhooks[0].options.string("kind") == "deploy.finished");
  CHECK(std::filesystem::path(cfg->store.path).filename() == "vigie.db");
  CHECK(std::filesystem::path(cfg->store.path).is_absolute());
}

TEST_CASE("a broken vigie.toml reports every mistake at once, each at its position") {
  Kinds kinds;
  Diagnostics d;
  const std::string file = std::string(VIGIE_FIXTURES) + "/config/broken.toml";
  auto cfg = load_config(file, kinds.catalogs(), d);
  CHECK_FALSE(cfg);
  INFO(d.render_text());

  struct Expect {
    int line, column;
    const Message& message;
    std::string text;
  };
  const std::vector<Expect> expected{
      {2, 9, kWrongType, fmt_message(kWrongType, "rules", "an array of glob strings", "string")},
      {5, 10, kBadAddress, fmt_message(kBadAddress, "listen", "localhost")},
      {6, 1, kUnknownKey, fmt_message(kUnknownKey, "lisen", "[server]")},
      {9, 13, kBadDuration, fmt_message(kBadDuration, "retention", "14 days")},
      {12, 8, kBadEnum, fmt_message(kBadEnum, "mode", "\"inproc\", \"tcp\"", "tcpp")},
      {15, 1, kInlineSecret, fmt_message(kInlineSecret, "token", "token", "token")},
      {19, 24, kBadRoleMember, fmt_message(kBadRoleMember, "oncall", "bob")},
      {22, 8, kUnknownKind, fmt_message(kUnknownKind, "collector", "sentri")},
      {26, 12, kWrongType,
       fmt_message(kWrongType, "interval", "a duration string such as \"30s\"", "integer")},
      {29, 1, kMissingKey, fmt_message(kMissingKey, "region", "[providers.rackspace]")},
      {33, 1, kMissingKey, fmt_message(kMissingKey, "kind", "[webhooks.deploys]")},
      {36, 2, kUnknownSection, fmt_message(kUnknownSection, "alerting")},
  };
  for (const auto& e : expected) {
    INFO("expected at " << e.line << ":" << e.column << ": " << e.text);
    const Diagnostic* got = find_at(d, e.line, e.column);
    REQUIRE(got != nullptr);
    CHECK(got->code == e.message.code);
    CHECK(got->message == e.text);
    CHECK(got->pos.file == file);
  }
  CHECK(d.error_count() == expected.size());

  // Hints ride along as notes.
  CHECK(find_at(d, 6, 1)->notes.front() == fmt_message(kNoteDidYouMean, "listen"));
  CHECK(find_at(d, 22, 8)->notes.front() == fmt_message(kNoteDidYouMean, "sentry"));
}

TEST_CASE("tcp bus mode needs tcp endpoints") {
  Kinds kinds;
  TempConfig t("[bus]\nmode = \"tcp\"\ningest = \"tcp://127.0.0.1:7701\"\njobs = \"ipc:///x\"\n");
  Diagnostics d;
  CHECK_FALSE(load_config(t.path(), kinds.catalogs(), d));
  REQUIRE(d.items().size() == 2);  // jobs malformed, events missing
  CHECK(d.items()[0].message == fmt_message(kBadBusEndpoint, "jobs", "ipc:///x"));
  CHECK(d.items()[0].pos.line == 4);
  CHECK(d.items()[1].message == fmt_message(kBadBusEndpoint, "events", ""));
}

TEST_CASE("tcp bus bind addresses are optional and checked when given") {
  Kinds kinds;
  TempConfig good(
      "[bus]\nmode = \"tcp\"\ningest = \"tcp://engine.lan:7701\"\njobs = \"tcp://engine.lan:7702\"\n"
      "events = \"tcp://engine.lan:7703\"\ningest_bind = \"tcp://0.0.0.0:7701\"\nworker_timeout = \"3s\"\n");
  Diagnostics d;
  auto cfg = load_config(good.path(), kinds.catalogs(), d);
  REQUIRE(cfg);
  CHECK(cfg->bus.ingest_bind == "tcp://0.0.0.0:7701");
  CHECK(cfg->bus.jobs_bind.empty());  // the engine binds `jobs` itself
  CHECK(cfg->bus.worker_timeout == Duration{3'000});

  TempConfig bad(
      "[bus]\nmode = \"tcp\"\ningest = \"tcp://a:1\"\njobs = \"tcp://a:2\"\nevents = \"tcp://a:3\"\n"
      "jobs_bind = \"inproc://x\"\n");
  Diagnostics d2;
  CHECK_FALSE(load_config(bad.path(), kinds.catalogs(), d2));
  REQUIRE(d2.items().size() == 1);
  CHECK(d2.items()[0].message == fmt_message(kBadBusEndpoint, "jobs_bind", "inproc://x"));
  CHECK(d2.items()[0].pos.line == 6);
}

TEST_CASE("slack mode decides which secrets are required") {
  Kinds kinds;
  TempConfig t("[slack]\nmode = \"socket\"\ntoken_env = \"T\"\n");
  Diagnostics d;
  CHECK_FALSE(load_config(t.path(), kinds.catalogs(), d));
  REQUIRE(d.items().size() == 1);
  CHECK(d.items()[0].code == kSecretMissing.code);
  CHECK(d.items()[0].message.find("app_token") != std::string::npos);
}

TEST_CASE("access: read roles must exist, group handles are members") {
  Kinds kinds;
  TempConfig t("[access]\nread = [\"oncal\"]\n[access.roles]\noncall = [\"@ops-team\", \"W0123ABC\"]\n");
  Diagnostics d;
  CHECK_FALSE(load_config(t.path(), kinds.catalogs(), d));
  REQUIRE(d.items().size() == 1);
  CHECK(d.items()[0].message == fmt_message(kUnknownRole, "oncal"));
  CHECK(d.items()[0].notes.front() == fmt_message(kNoteDidYouMean, "oncall"));
}

TEST_CASE("access: a channel id with # is a member, a bare channel name is not") {
  Kinds kinds;
  {
    TempConfig t("[access.roles]\ndevs = [\"#C0DEVS123\", \"U0ALICE\"]\n");
    Diagnostics d;
    auto cfg = load_config(t.path(), kinds.catalogs(), d);
    INFO(d.render_text());
    REQUIRE(cfg);
    CHECK(cfg->access.roles.at("devs") == std::vector<std::string>{"#C0DEVS123", "U0ALICE"});
  }
  TempConfig t("[access.roles]\ndevs = [\"#general\"]\n");
  Diagnostics d;
  CHECK_FALSE(load_config(t.path(), kinds.catalogs(), d));
  REQUIRE(d.items().size() == 1);
  CHECK(d.items()[0].message == fmt_message(kBadRoleMember, "devs", "#general"));
}

TEST_CASE("rule globs expand relative to vigie.toml, sorted, an empty match is a warning") {
  Kinds kinds;
  TempConfig t("rules = [\"rules/*.toml\", \"more/*.toml\"]\n");
  std::ofstream(t.dir / "rules" / "b.toml") << "";
  std::ofstream(t.dir / "rules" / "a.toml") << "";
  Diagnostics d;
  auto cfg = load_config(t.path(), kinds.catalogs(), d);
  REQUIRE(cfg);
  REQUIRE(cfg->rule_files.size() == 2);
  CHECK(std::filesystem::path(cfg->rule_files[0]).filename() == "a.toml");
  CHECK(std::filesystem::path(cfg->rule_files[1]).filename() == "b.toml");
  REQUIRE(d.warning_count() == 1);
  CHECK(d.items()[0].message == fmt_message(kNoRuleFiles, "more/*.toml"));
}

TEST_CASE("an empty vigie.toml is valid and takes the defaults") {
  Kinds kinds;
  TempConfig t("");
  Diagnostics d;
  auto cfg = load_config(t.path(), kinds.catalogs(), d);
  REQUIRE(cfg);
  CHECK(cfg->server.listen == "127.0.0.1:8080");
  CHECK(cfg->bus.mode == "inproc");
  CHECK_FALSE(cfg->slack.enabled);
  CHECK(cfg->actions_enabled);
}
