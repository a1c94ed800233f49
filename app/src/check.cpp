// `vigie check`: loads everything a daemon would load, reports every problem at once, and
// reads the secrets the config names (reporting an unset variable or unreadable file as a
// warning) so a missing credential shows up before deploy. Secrets never reach the output.
#include "check.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <ostream>

#include "vigie/app/catalogs.h"
#include "vigie/config/config.h"
#include "vigie/config/messages.h"
#include "vigie/core/log.h"
#include "vigie/rules/rule_set.h"

namespace vigie::app {
namespace {

void check_secrets(const config::Config& cfg, SecretRegistry& secrets, config::Diagnostics& diags) {
  auto check = [&](const std::optional<config::SecretRef>& ref, std::string_view name) {
    if (ref) config::resolve_secret(*ref, name, secrets, diags, config::Severity::warning);
  };
  check(cfg.slack.token, "token");
  check(cfg.slack.signing_secret, "signing_secret");
  if (cfg.slack.mode == "socket") check(cfg.slack.app_token, "app_token");
  for (const auto* group : {&cfg.collectors, &cfg.providers, &cfg.webhooks}) {
    for (const auto& section : *group) {
      for (std::string_view name : {"token", "api_key", "hmac_secret", "shared_secret", "auth"}) {
        check(section.options.secret(name), name);
      }
    }
  }
}

bool io_failure(const config::Diagnostics& diags) {
  for (const auto& d : diags.items()) {
    if (d.code == config::kFileUnreadable.code && d.pos.line == 0) return true;
  }
  return false;
}

}  // namespace

int run_check(const CheckOptions& options, std::ostream& out, std::ostream& err) {
  auto secrets = std::make_shared<SecretRegistry>();
  const KindCatalogs catalogs = builtin_catalogs();
  config::Diagnostics diags;
  auto cfg = config::load_config(options.config_path, catalogs.for_config(), diags);
  if (cfg) check_secrets(*cfg, *secrets, diags);

  nlohmann::json files = nlohmann::json::array();
  rules::RuleSetPtr rule_set;
  std::vector<rules::FileSummary> summaries;
  if (cfg) {
    files.push_back({{"file", cfg->path}});
    rules::RuleLoadContext context;
    context.action_kinds = &catalogs.actions;
    for (const auto& [role, _] : cfg->access.roles) context.roles.insert(role);
    rule_set = rules::load_rule_set(cfg->rule_files, context, diags);
    if (rule_set) summaries = rule_set->files();
  }
  for (const auto& s : summaries) {
    files.push_back({{"file", s.file},
                     {"rules", s.rules},
                     {"actions", s.actions},
                     {"commands", s.commands},
                     {"macros", s.macros},
                     {"lists", s.lists}});
  }

  const bool failed =
      diags.has_errors() || (options.werror && diags.warning_count() > 0) || !cfg;
  if (options.json) {
    nlohmann::json doc = diags.to_json();
    doc["ok"] = !failed;
    doc["files"] = files;
    out << secrets->redact(doc.dump(2)) << '\n';
  } else {
    err << secrets->redact(diags.render_text());
    if (cfg && !failed) {
      out << cfg->path << ": ok\n";
      for (const auto& f : summaries) {
        out << f.file << ": " << f.rules << (f.rules == 1 ? " rule, " : " rules, ") << f.actions
            << (f.actions == 1 ? " action, " : " actions, ") << f.commands
            << (f.commands == 1 ? " command" : " commands") << ": ok\n";
      }
    }
    if (failed || diags.warning_count() > 0) {
      err << diags.error_count() << (diags.error_count() == 1 ? " error, " : " errors, ")
          << diags.warning_count() << (diags.warning_count() == 1 ? " warning" : " warnings")
          << '\n';
    }
  }
  if (io_failure(diags)) return 2;
  return failed ? 1 : 0;
}

}  // namespace vigie::app
