// vigie.toml loading: sections, kinds, access roles and rule globs, all validated at once.
#include "vigie/config/config.h"

#include <glob.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <set>

#include "vigie/config/messages.h"
#include "vigie/core/text.h"

namespace vigie::config {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 2> kSlackModes{"http", "socket"};
constexpr std::array<std::string_view, 2> kBusModes{"inproc", "tcp"};
constexpr std::array<std::string_view, 3> kThreadModes{"all", "transitions", "none"};

constexpr std::array<OptionSpec, 3> kServerOptions{{
    {"listen", OptionType::address, "127.0.0.1:8080", false,
     "Address of the one HTTP listener: Slack endpoints, webhooks, /metrics, /healthz"},
    {"ui", OptionType::boolean, "false", false, "Serve the read-only web view at /"},
    {"max_body_bytes", OptionType::integer, "1048576", false,
     "Largest request body accepted; larger ones get 413", {}, 1024, 64 << 20},
}};
constexpr OptionTable kServerTable{"server", "HTTP listener", kServerOptions};

constexpr std::array<OptionSpec, 3> kStoreOptions{{
    {"path", OptionType::string, "vigie.db", false,
     "SQLite database file, relative to vigie.toml"},
    {"retention", OptionType::duration, "14d", false,
     "How long stored events, finished jobs, ended silences and settled chat requests are kept"},
    {"audit_retention", OptionType::duration, "90d", false,
     "How long audit rows (who ran, approved or was denied what) are kept"},
}};
constexpr OptionTable kStoreTable{"store", "Event and alert store", kStoreOptions};

constexpr std::array<OptionSpec, 8> kBusOptions{{
    {"mode", OptionType::enumeration, "inproc", false,
     "inproc: every role in one process; tcp: roles in separate processes", kBusModes},
    {"ingest", OptionType::string, "", false,
     "tcp mode: endpoint of the acked event ingest, as collectors connect to it (tcp://host:port)"},
    {"jobs", OptionType::string, "", false, "tcp mode: endpoint workers connect to for jobs"},
    {"events", OptionType::string, "", false, "tcp mode: endpoint observers connect to for the event fan-out"},
    {"ingest_bind", OptionType::string, "", false,
     "tcp mode: address the engine binds for ingest (tcp://0.0.0.0:port for other hosts); default: ingest"},
    {"jobs_bind", OptionType::string, "", false, "tcp mode: address the engine binds for jobs; default: jobs"},
    {"events_bind", OptionType::string, "", false, "tcp mode: address the engine binds for the fan-out; default: events"},
    {"worker_timeout", OptionType::duration, "15s", false,
     "A worker silent this long is presumed dead and its job is dispatched again"},
}};
constexpr OptionTable kBusTable{"bus", "Message bus between roles", kBusOptions};

constexpr std::array<OptionSpec, 8> kSlackOptions{{
    {"mode", OptionType::enumeration, "http", false,
     "http: Slack calls Vigie's /slack/* endpoints; socket: Socket Mode, no public URL",
     kSlackModes},
    {"base_url", OptionType::url, "https://slack.com/api", false, "Slack Web API base URL"},
    {"token", OptionType::secret, "", true, "Bot token (xoxb-...)"},
    {"signing_secret", OptionType::secret, "", false,
     "Signing secret that authenticates Slack's requests (http mode)"},
    {"app_token", OptionType::secret, "", false, "App-level token (xapp-...), socket mode"},
    {"team_id", OptionType::string, "", false,
     "Slack workspace id (T0123ABCD): requests and clicks from any other workspace, or naming "
     "none, are refused (both modes); unset, any workspace's are taken"},
    {"default_channel", OptionType::string, "", false,
     "Channel for rules without notify, and for Vigie's own notices"},
    {"thread", OptionType::enumeration, "all", false,
     "Default thread chatter in alert threads: all, transitions or none", kThreadModes},
}};
constexpr OptionTable kSlackTable{"slack", "Slack connection", kSlackOptions};

constexpr std::array<OptionSpec, 7> kWebhookOptions{{
    {"kind", OptionType::string, "", true, "Event kind given to every event of this webhook"},
    {"id", OptionType::string, "", false,
     "Field of the body giving the event id (dedup); without it, a hash of the body"},
    {"time", OptionType::string, "", false,
     "Field giving the event time (RFC 3339 or epoch seconds); without it, the arrival time"},
    {"source", OptionType::string, "webhook", false, "Event source"},
    {"hmac_secret", OptionType::secret, "", false,
     "Secret for an HMAC-SHA256 signature of the body"},
    {"hmac_header", OptionType::string, "X-Signature-256", false,
     "Header carrying the hex HMAC (an optional 'sha256=' prefix is accepted)"},
    {"shared_secret", OptionType::secret, "", false,
     "Secret that must equal the X-Webhook-Token header"},
}};
constexpr OptionTable kWebhookTable{"webhooks.<name>", "Generic JSON webhook", kWebhookOptions};

constexpr std::array<OptionSpec, 1> kActionsOptions{{
    {"enabled", OptionType::boolean, "true", false,
     "Global kill switch: false refuses every remediation action; re-read at every reload (SIGHUP, "
     "POST /-/reload)"},
}};
constexpr OptionTable kActionsTable{"actions", "Remediation actions", kActionsOptions};

constexpr std::array<std::string_view, 4> kLogLevels{"debug", "info", "warn", "error"};
constexpr std::array<OptionSpec, 1> kLogOptions{
    {{"level", OptionType::enumeration, "info", false, "Log level", kLogLevels}}};
constexpr OptionTable kLogTable{"log", "Logging", kLogOptions};

constexpr std::array<std::string_view, 11> kTopLevelKeys{
    "rules", "server", "store", "bus", "slack", "access", "actions",
    "collectors", "providers", "webhooks", "log"};
constexpr std::array<std::string_view, 2> kAccessKeys{"roles", "read"};
constexpr std::array<std::string_view, 1> kIgnoreType{"type"};

std::string resolve_path(const std::string& base, const std::string& p) {
  fs::path path(p);
  if (path.is_relative() && !base.empty()) path = fs::path(base) / path;
  return path.lexically_normal().string();
}

bool is_tcp_endpoint(std::string_view s) {
  return s.substr(0, 6) == "tcp://" && s.size() > 6 && s.find(':', 6) != std::string_view::npos;
}

bool is_role_member(std::string_view m) {
  if (m.size() >= 2 && m[0] == '@') return true;
  // "#C0123ABCD": everyone speaking in that channel holds the role.
  if (m.size() >= 3 && m[0] == '#' && (m[1] == 'C' || m[1] == 'G' || m[1] == 'D')) {
    return std::all_of(m.begin() + 2, m.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
  }
  if (m.size() < 3 || (m[0] != 'U' && m[0] != 'W')) return false;
  return std::all_of(m.begin() + 1, m.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

void report_unknown(const TomlEntry& e, std::string_view where,
                    std::span<const std::string_view> valid, Diagnostics& diags,
                    const Message& message = kUnknownKey) {
  std::vector<std::string> notes;
  const std::string guess = closest_match(e.key, valid);
  if (!guess.empty()) notes.push_back(fmt_message(kNoteDidYouMean, guess));
  notes.push_back(fmt_message(kNoteValidKeys, join(valid)));
  if (&message == &kUnknownSection) {
    diags.error(e.key_pos, message.code, fmt_message(message, e.key), std::move(notes));
  } else {
    diags.error(e.key_pos, message.code, fmt_message(message, e.key, where), std::move(notes));
  }
}

const TomlNode* expect_table(const TomlEntry& e, Diagnostics& diags) {
  if (e.value->is_table()) return e.value.get();
  diags.error(e.value->pos(), kWrongType.code,
              fmt_message(kWrongType, "[" + e.key + "]", "a table",
                          std::string(TomlNode::type_name(e.value->type()))));
  return nullptr;
}

// [collectors.<name>] and [providers.<name>]: the kind comes from `type`, or for providers from
// the section name when it names a kind ([providers.heroku]).
void load_kind_sections(const TomlEntry& e, std::string_view group, const KindCatalog* catalog,
                        bool type_from_name, const std::string& base_dir,
                        std::vector<KindSection>& out, Diagnostics& diags) {
  const TomlNode* t = expect_table(e, diags);
  if (t == nullptr) return;
  for (const auto& section : t->entries()) {
    const std::string where = "[" + e.key + "." + section.key + "]";
    const TomlNode* body = expect_table(section, diags);
    if (body == nullptr) continue;
    KindSection ks;
    ks.name = section.key;
    ks.pos = body->pos();
    const TomlNode* type = body->get("type");
    if (type != nullptr && !type->is_string()) {
      diags.error(type->pos(), kWrongType.code,
                  fmt_message(kWrongType, "type", "a string",
                              std::string(TomlNode::type_name(type->type()))));
      continue;
    }
    if (type != nullptr) {
      ks.type = type->string();
    } else if (type_from_name) {
      ks.type = section.key;
    } else {
      diags.error(body->pos(), kMissingType.code, fmt_message(kMissingType, where));
      continue;
    }
    const KindInfo* kind = catalog ? catalog->find(ks.type) : nullptr;
    if (kind == nullptr) {
      std::vector<std::string> notes;
      const auto types = catalog ? catalog->types() : std::vector<std::string_view>{};
      const std::string guess = closest_match(ks.type, types);
      if (!guess.empty()) notes.push_back(fmt_message(kNoteDidYouMean, guess));
      notes.push_back(fmt_message(kNoteValidKinds, join(types)));
      diags.error(type ? type->pos() : body->pos(), kUnknownKind.code,
                  fmt_message(kUnknownKind, group, ks.type), std::move(notes));
      continue;
    }
    ks.options = validate_options(*body, *kind->options, where, diags, kIgnoreType, base_dir);
    out.push_back(std::move(ks));
  }
}

void load_access(const TomlEntry& e, AccessConfig& access, Diagnostics& diags) {
  const TomlNode* t = expect_table(e, diags);
  if (t == nullptr) return;
  const TomlNode* read = nullptr;
  for (const auto& entry : t->entries()) {
    if (entry.key == "roles") {
      const TomlNode* roles = expect_table(entry, diags);
      if (roles == nullptr) continue;
      for (const auto& role : roles->entries()) {
        if (!role.value->is_array()) {
          diags.error(role.value->pos(), kWrongType.code,
                      fmt_message(kWrongType, role.key, "an array of Slack user ids",
                                  std::string(TomlNode::type_name(role.value->type()))));
          continue;
        }
        auto& members = access.roles[role.key];
        access.role_pos[role.key] = role.key_pos;
        for (const auto& m : role.value->items()) {
          if (!m->is_string() || !is_role_member(m->string())) {
            diags.error(m->pos(), kBadRoleMember.code,
                        fmt_message(kBadRoleMember, role.key,
                                    m->is_string() ? m->string() : std::string("(not a string)")));
            continue;
          }
          members.push_back(m->string());
        }
      }
    } else if (entry.key == "read") {
      read = entry.value.get();
    } else {
      report_unknown(entry, "[access]", kAccessKeys, diags);
    }
  }
  if (read != nullptr) {
    if (!read->is_array()) {
      diags.error(read->pos(), kWrongType.code,
                  fmt_message(kWrongType, "read", "an array of role names",
                              std::string(TomlNode::type_name(read->type()))));
      return;
    }
    for (const auto& r : read->items()) {
      if (!r->is_string()) continue;
      if (access.roles.count(r->string()) == 0) {
        std::vector<std::string> names;
        for (const auto& [name, _] : access.roles) names.push_back(name);
        std::vector<std::string> notes;
        const std::string guess = closest_match(r->string(), names);
        if (!guess.empty()) notes.push_back(fmt_message(kNoteDidYouMean, guess));
        diags.error(r->pos(), kUnknownRole.code, fmt_message(kUnknownRole, r->string()),
                    std::move(notes));
        continue;
      }
      access.read.push_back(r->string());
    }
  }
}

void expand_rule_globs(Config& cfg, const TomlNode& rules, Diagnostics& diags) {
  std::set<std::string> files;
  for (const auto& item : rules.items()) {
    if (!item->is_string()) {
      diags.error(item->pos(), kWrongType.code,
                  fmt_message(kWrongType, "rules item", "a glob string",
                              std::string(TomlNode::type_name(item->type()))));
      continue;
    }
    const std::string& pattern = item->string();
    if (pattern.empty()) {
      diags.error(item->pos(), kBadGlob.code, fmt_message(kBadGlob, pattern));
      continue;
    }
    cfg.rule_globs.push_back(pattern);
    const std::string full = resolve_path(cfg.base_dir, pattern);
    glob_t g{};
    const int rc = ::glob(full.c_str(), 0, nullptr, &g);
    if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
      diags.warning(item->pos(), kNoRuleFiles.code, fmt_message(kNoRuleFiles, pattern));
    } else if (rc == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) files.insert(g.gl_pathv[i]);
    }
    globfree(&g);
  }
  cfg.rule_files.assign(files.begin(), files.end());
}

}  // namespace

const OptionTable& server_options() { return kServerTable; }
const OptionTable& store_options() { return kStoreTable; }
const OptionTable& bus_options() { return kBusTable; }
const OptionTable& slack_options() { return kSlackTable; }
const OptionTable& webhook_options() { return kWebhookTable; }
const OptionTable& actions_options() { return kActionsTable; }
const OptionTable& log_options() { return kLogTable; }

std::optional<Config> load_config(const std::string& path, const Catalogs& catalogs,
                                  Diagnostics& diags) {
  const std::size_t errors_before = diags.error_count();
  auto root = parse_toml_file(path, diags);
  if (!root) return std::nullopt;

  Config cfg;
  cfg.path = path;
  cfg.base_dir = fs::path(path).parent_path().string();
  const TomlNode empty_table;
  auto section = [&](std::string_view key) -> const TomlNode* {
    const TomlEntry* e = root->find(key);
    return e ? expect_table(*e, diags) : nullptr;
  };

  for (const auto& e : root->entries()) {
    if (std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), e.key) == kTopLevelKeys.end()) {
      report_unknown(e, "", kTopLevelKeys, diags, kUnknownSection);
    }
  }

  if (const TomlEntry* rules = root->find("rules")) {
    if (!rules->value->is_array()) {
      diags.error(rules->value->pos(), kWrongType.code,
                  fmt_message(kWrongType, "rules", "an array of glob strings",
                              std::string(TomlNode::type_name(rules->value->type()))));
    } else {
      expand_rule_globs(cfg, *rules->value, diags);
    }
  }

  {
    const TomlNode* t = section("server");
    auto v = validate_options(t ? *t : empty_table, kServerTable, "[server]", diags);
    cfg.server.listen = v.string("listen");
    cfg.server.ui = v.boolean("ui");
    cfg.server.max_body_bytes = v.integer("max_body_bytes");
  }
  {
    const TomlNode* t = section("store");
    auto v = validate_options(t ? *t : empty_table, kStoreTable, "[store]", diags);
    cfg.store.path = v.string("path") == ":memory:" ? ":memory:"
                                                     : resolve_path(cfg.base_dir, v.string("path"));
    cfg.store.retention = v.duration("retention");
    cfg.store.audit_retention = v.duration("audit_retention");
  }
  {
    const TomlNode* t = section("bus");
    auto v = validate_options(t ? *t : empty_table, kBusTable, "[bus]", diags);
    cfg.bus.mode = v.string("mode");
    cfg.bus.ingest = v.string("ingest");
    cfg.bus.jobs = v.string("jobs");
    cfg.bus.events = v.string("events");
    cfg.bus.ingest_bind = v.string("ingest_bind");
    cfg.bus.jobs_bind = v.string("jobs_bind");
    cfg.bus.events_bind = v.string("events_bind");
    cfg.bus.worker_timeout = v.duration("worker_timeout");
    if (cfg.bus.mode == "tcp") {
      for (auto [name, value] : {std::pair{"ingest", &cfg.bus.ingest},
                                 {"jobs", &cfg.bus.jobs},
                                 {"events", &cfg.bus.events},
                                 {"ingest_bind", &cfg.bus.ingest_bind},
                                 {"jobs_bind", &cfg.bus.jobs_bind},
                                 {"events_bind", &cfg.bus.events_bind}}) {
        const bool optional_bind = std::string_view(name).ends_with("_bind") && value->empty();
        if (!optional_bind && !is_tcp_endpoint(*value)) {
          diags.error(v.pos(name), kBadBusEndpoint.code,
                      fmt_message(kBadBusEndpoint, name, *value));
        }
      }
    }
  }
  if (const TomlNode* t = section("slack")) {
    auto v = validate_options(*t, kSlackTable, "[slack]", diags, {}, cfg.base_dir);
    cfg.slack.enabled = true;
    cfg.slack.mode = v.string("mode");
    cfg.slack.base_url = v.string("base_url");
    cfg.slack.default_channel = v.string("default_channel");
    cfg.slack.team_id = v.string("team_id");
    cfg.slack_thread = v.string("thread");
    cfg.slack.token = v.secret("token");
    cfg.slack.signing_secret = v.secret("signing_secret");
    cfg.slack.app_token = v.secret("app_token");
    if (cfg.slack.mode == "http" && !cfg.slack.signing_secret) {
      diags.error(t->pos(), kSecretMissing.code,
                  fmt_message(kSecretMissing, "signing_secret", "[slack] (mode = \"http\")",
                              "signing_secret", "signing_secret"));
    }
    if (cfg.slack.mode == "socket" && !cfg.slack.app_token) {
      diags.error(t->pos(), kSecretMissing.code,
                  fmt_message(kSecretMissing, "app_token", "[slack] (mode = \"socket\")",
                              "app_token", "app_token"));
    }
  }
  if (const TomlEntry* e = root->find("access")) load_access(*e, cfg.access, diags);
  {
    const TomlNode* t = section("actions");
    auto v = validate_options(t ? *t : empty_table, kActionsTable, "[actions]", diags);
    cfg.actions_enabled = v.boolean("enabled", true);
  }
  if (const TomlEntry* e = root->find("collectors")) {
    load_kind_sections(*e, "collector", catalogs.collectors, false, cfg.base_dir, cfg.collectors,
                       diags);
  }
  if (const TomlEntry* e = root->find("providers")) {
    load_kind_sections(*e, "provider", catalogs.providers, true, cfg.base_dir, cfg.providers,
                       diags);
  }
  if (const TomlEntry* e = root->find("webhooks")) {
    if (const TomlNode* t = expect_table(*e, diags)) {
      for (const auto& hook : t->entries()) {
        const TomlNode* body = expect_table(hook, diags);
        if (body == nullptr) continue;
        KindSection ks{hook.key, "webhook",
                       validate_options(*body, kWebhookTable, "[webhooks." + hook.key + "]", diags,
                                        {}, cfg.base_dir),
                       body->pos()};
        cfg.webhooks.push_back(std::move(ks));
      }
    }
  }
  if (const TomlNode* t = section("log")) {
    cfg.log_level = validate_options(*t, kLogTable, "[log]", diags).string("level");
  }

  if (diags.error_count() > errors_before) return std::nullopt;
  return cfg;
}

}  // namespace vigie::config
