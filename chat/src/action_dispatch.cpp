// Parameters, rendering and guardrails of an action before it is dispatched.
#include "vigie/chat/action_dispatch.h"

#include <algorithm>

#include "vigie/actions/action.h"
#include "vigie/config/toml_tree.h"
#include "vigie/net/url.h"

namespace vigie::chat {

using nlohmann::json;

namespace {

std::string value_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

json toml_to_json(const config::TomlNode& n) {
  if (n.is_string()) return n.string();
  if (n.is_integer()) return n.integer();
  if (n.is_number()) return n.number();
  if (n.is_bool()) return n.boolean();
  if (n.is_array()) {
    json a = json::array();
    for (const auto& i : n.items()) a.push_back(toml_to_json(*i));
    return a;
  }
  if (n.is_table()) {
    json o = json::object();
    for (const auto& e : n.entries()) o[e.key] = toml_to_json(*e.value);
    return o;
  }
  return n.string();
}

json option_json(const config::OptionValue& v) {
  return std::visit(
      [](const auto& x) -> json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Duration>) {
          return format_duration(x);
        } else if constexpr (std::is_same_v<T, config::SecretRef>) {
          json s = json::object();
          if (!x.env.empty()) s["env"] = x.env;
          if (!x.file.empty()) s["file"] = x.file;
          return s;
        } else if constexpr (std::is_same_v<T, std::shared_ptr<const config::TomlNode>>) {
          return x ? toml_to_json(*x) : json::object();
        } else {
          return json(x);
        }
      },
      v);
}

// "\"a\\nb\"" without the quotes: a value placed inside a JSON string of the body template.
std::string json_escape(const std::string& s) {
  const std::string quoted = json(s).dump();
  return quoted.substr(1, quoted.size() - 2);
}

std::string ago(Duration d) {
  return format_duration(std::chrono::duration_cast<std::chrono::seconds>(std::max(d, Duration{0})));
}

}  // namespace

tl::expected<void, std::string> check_params(const rules::ActionDef& def, const json& params) {
  for (const auto& p : def.params) {
    auto it = params.find(p);
    if (it == params.end()) return tl::unexpected("`" + def.name + "` needs `" + p + "=…`.");
    const std::string v = value_text(*it);
    if (auto why = def.param_spec(p).reject(v)) {
      return tl::unexpected("`" + p + "` " + *why + ", not `" + v + "`.");
    }
  }
  return {};
}

std::string action_target(const json& params) {
  std::string out;
  for (auto it = params.begin(); it != params.end(); ++it) {  // nlohmann objects iterate sorted
    out += (out.empty() ? "" : " ") + it.key() + "=" + value_text(*it);
  }
  return out;
}

tl::expected<json, std::string> render_options(const rules::ActionDef& def, const json& params) {
  const config::OptionTable* table = actions::action_option_table(def.type);
  if (!table) return tl::unexpected("unknown action type '" + def.type + "'");
  json out = json::object();
  for (const auto& spec : table->options) {
    if (const auto* v = def.options.find(spec.name)) out[std::string(spec.name)] = option_json(*v);
  }
  json raw = json::object(), url = json::object(), body = json::object();
  for (auto it = params.begin(); it != params.end(); ++it) {
    const std::string v = value_text(*it);
    raw[it.key()] = v;
    url[it.key()] = net::url_encode(v);
    body[it.key()] = json_escape(v);
  }
  for (const auto& [key, tmpl] : def.templates) {
    // "argv[1]", "headers.X-App", "url"
    const auto bracket = key.find('[');
    const auto dot = key.find('.');
    const std::string option = key.substr(0, std::min(bracket, dot));
    const json& ctx = option == "url" || option.ends_with("_url") ? url : option == "body" ? body : raw;
    const std::string text = tmpl.render(ctx);
    if (bracket != std::string::npos) {
      const auto index = std::stoul(key.substr(bracket + 1));
      if (!out[option].is_array() || index >= out[option].size()) return tl::unexpected("bad template key " + key);
      out[option][index] = text;
    } else if (dot != std::string::npos) {
      out[option][key.substr(dot + 1)] = text;
    } else {
      out[option] = text;
    }
  }
  return out;
}

std::optional<std::string> guardrail_refusal(store::Store& store, const rules::ActionDef& def,
                                             const std::string& target, TimePoint now) {
  Duration look_back{0};
  if (def.cooldown) look_back = std::max(look_back, *def.cooldown);
  if (def.rate_limit) look_back = std::max(look_back, def.rate_limit->within);
  auto runs = store.action_runs(def.name, target, now - look_back);
  if (!runs) return "I could not read the past runs of `" + def.name + "` (" + runs.error().message + "), so it does not run.";
  const std::string what = "`" + def.name + "`" + (target.empty() ? "" : " " + target);
  for (const auto& r : *runs) {
    if (r.state == "running") {
      return what + " is already running (started " + ago(now - r.started) + " ago by <@" + r.requested_by +
             ">): one run at a time per target.";
    }
  }
  if (def.cooldown && !runs->empty()) {
    const auto& last = runs->front();
    if (now - last.started < *def.cooldown) {
      return what + " ran " + ago(now - last.started) + " ago by <@" + last.requested_by + "> (" +
             (last.state == "ok" ? "it succeeded" : "it failed") + "); cooldown " + format_duration(*def.cooldown) +
             ", next at " + format_rfc3339(last.started + *def.cooldown) + ".";
    }
  }
  if (def.rate_limit && def.rate_limit->max > 0) {
    std::vector<TimePoint> within;
    for (const auto& r : *runs) {
      if (now - r.started < def.rate_limit->within) within.push_back(r.started);
    }
    if (static_cast<std::int64_t>(within.size()) >= def.rate_limit->max) {
      // Newest first: the run whose leaving the window frees a slot is the max-th newest.
      const TimePoint frees = within[static_cast<std::size_t>(def.rate_limit->max - 1)] + def.rate_limit->within;
      return what + " ran " + std::to_string(within.size()) + " times in the last " +
             format_duration(def.rate_limit->within) + " (rate limit " + std::to_string(def.rate_limit->max) + " per " +
             format_duration(def.rate_limit->within) + "); next at " + format_rfc3339(frees) + ".";
    }
  }
  return std::nullopt;
}

}  // namespace vigie::chat
