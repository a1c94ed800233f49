// `vigie kinds`.
#include "kinds_cmd.h"

#include <nlohmann/json.hpp>

#include "vigie/app/catalogs.h"

namespace vigie::app {
namespace {

nlohmann::json option_json(const config::OptionSpec& o) {
  nlohmann::json j = {{"name", std::string(o.name)},
                      {"type", std::string(config::option_type_name(o.type))},
                      {"required", o.required},
                      {"description", std::string(o.description)}};
  if (!o.default_value.empty()) j["default"] = std::string(o.default_value);
  if (!o.choices.empty()) {
    j["choices"] = nlohmann::json::array();
    for (auto c : o.choices) j["choices"].push_back(std::string(c));
  }
  // Secrets are given as <name>_env or <name>_file: say so, since that is what users type.
  if (o.type == config::OptionType::secret) {
    j["keys"] = {std::string(o.name) + "_env", std::string(o.name) + "_file"};
  }
  return j;
}

nlohmann::json catalog_json(const config::KindCatalog& catalog) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& k : catalog.all()) {
    nlohmann::json j = {{"type", std::string(k.type)}, {"description", std::string(k.description)}};
    // A kind may be known to the config, and so validated, before it can run.
    j["runnable"] = k.runnable;
    j["options"] = nlohmann::json::array();
    for (const auto& o : k.options->options) j["options"].push_back(option_json(o));
    out.push_back(std::move(j));
  }
  return out;
}

void print_catalog(std::ostream& out, const std::string& title, const nlohmann::json& kinds) {
  out << title << ":\n";
  for (const auto& k : kinds) {
    out << "  " << k["type"].get<std::string>() << " — " << k["description"].get<std::string>();
    if (k.contains("runnable") && !k["runnable"].get<bool>()) out << " (validated only: cannot run in this version)";
    out << "\n";
    for (const auto& o : k["options"]) {
      std::string name = o["name"].get<std::string>();
      if (o.contains("keys")) name = o["keys"][0].get<std::string>() + " / " + o["keys"][1].get<std::string>();
      out << "    " << name << " (" << o["type"].get<std::string>();
      if (o["required"].get<bool>()) out << ", required";
      if (o.contains("default")) out << ", default " << o["default"].get<std::string>();
      if (o.contains("choices")) {
        out << ", one of";
        for (const auto& c : o["choices"]) out << " " << c.get<std::string>();
      }
      out << ") " << o["description"].get<std::string>() << "\n";
    }
  }
}

}  // namespace

int run_kinds(const KindsOptions& options, std::ostream& out, std::ostream&) {
  const auto catalogs = builtin_catalogs();
  const nlohmann::json all = {{"collectors", catalog_json(catalogs.collectors)},
                              {"actions", catalog_json(catalogs.actions)},
                              {"providers", catalog_json(catalogs.providers)}};
  if (options.json) {
    out << all.dump(2) << "\n";
    return 0;
  }
  print_catalog(out, "collectors ([collectors.<name>] type = ...)", all["collectors"]);
  print_catalog(out, "actions ([[action]] type = ...)", all["actions"]);
  print_catalog(out, "providers ([providers.<name>])", all["providers"]);
  return 0;
}

}  // namespace vigie::app
