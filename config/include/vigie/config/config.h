// vigie.toml: the daemon's configuration, loaded and validated in full (every problem reported
// at once) against the option tables of each section and of each collector and provider kind.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vigie/config/diagnostics.h"
#include "vigie/config/options.h"

namespace vigie::config {

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  bool ui = false;
  std::int64_t max_body_bytes = 1 << 20;
};

struct StoreConfig {
  std::string path;  // absolute, or relative to the working directory after resolution
  Duration retention{};
  Duration audit_retention{};  // audit rows are kept apart: who did what is asked about later
};

struct BusConfig {
  std::string mode = "inproc";
  std::string ingest, jobs, events;  // tcp endpoints others connect to, tcp mode only
  std::string ingest_bind, jobs_bind, events_bind;  // what the engine binds; empty: the above
  Duration worker_timeout{15'000};
};

struct SlackConfig {
  bool enabled = false;  // a [slack] section is present
  std::string mode = "http";
  std::string base_url;
  std::string default_channel;
  std::string team_id;  // the one workspace inbound requests are taken from; empty: any
  std::optional<SecretRef> token, signing_secret, app_token;
};

struct AccessConfig {
  std::map<std::string, std::vector<std::string>> roles;  // role -> Slack user ids / @groups
  std::map<std::string, SourcePos> role_pos;
  std::vector<std::string> read;  // roles allowed read-only commands; empty: everyone
};

// A named section whose keys depend on its kind: [collectors.<name>], [providers.<name>],
// [webhooks.<name>].
struct KindSection {
  std::string name;
  std::string type;
  OptionValues options;
  SourcePos pos;
};

struct Config {
  std::string path;      // the vigie.toml that was read
  std::string base_dir;  // its folder: relative paths in it are resolved against this
  std::vector<std::string> rule_globs;
  std::vector<std::string> rule_files;  // the globs expanded, sorted, without duplicates
  ServerConfig server;
  StoreConfig store;
  BusConfig bus;
  SlackConfig slack;
  AccessConfig access;
  std::string log_level = "info";  // [log] level
  std::string slack_thread = "all";  // [slack] thread
  bool actions_enabled = true;  // [actions] enabled: the global kill switch for remediation
  std::vector<KindSection> collectors;
  std::vector<KindSection> providers;
  std::vector<KindSection> webhooks;
};

struct Catalogs {
  const KindCatalog* collectors = nullptr;
  const KindCatalog* providers = nullptr;
};

// Loads and validates vigie.toml. Returns the config when it has no errors; every problem goes to
// `diags` either way. Secrets are not read here (see resolve_secret): `vigie check` must work
// where the daemon's environment is not set.
std::optional<Config> load_config(const std::string& path, const Catalogs& catalogs,
                                  Diagnostics& diags);

// The option tables of vigie.toml's fixed sections, for docs and `vigie kinds`.
const OptionTable& server_options();
const OptionTable& store_options();
const OptionTable& bus_options();
const OptionTable& slack_options();
const OptionTable& webhook_options();
const OptionTable& actions_options();
const OptionTable& log_options();

}  // namespace vigie::config
