// The action contract's shared pieces: options as they travel, the request read from a job
// payload, providers, secrets and output caps.
#include "vigie/actions/action.h"

#include <algorithm>

namespace vigie::actions {

using nlohmann::json;

namespace {
tl::unexpected<std::string> err(std::string message) { return tl::unexpected(std::move(message)); }
}  // namespace

ActionOptions::ActionOptions(json values) : values_(std::move(values)) {
  if (!values_.is_object()) values_ = json::object();
}

bool ActionOptions::has(std::string_view name) const { return values_.contains(std::string(name)); }

std::string ActionOptions::string(std::string_view name, std::string fallback) const {
  auto it = values_.find(std::string(name));
  return it != values_.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::int64_t ActionOptions::integer(std::string_view name, std::int64_t fallback) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return fallback;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_string()) {
    try {
      std::size_t used = 0;
      const auto v = std::stoll(it->get<std::string>(), &used);
      if (used == it->get<std::string>().size()) return v;
    } catch (const std::exception&) {
    }
  }
  return fallback;
}

bool ActionOptions::boolean(std::string_view name, bool fallback) const {
  auto it = values_.find(std::string(name));
  return it != values_.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

Duration ActionOptions::duration(std::string_view name, Duration fallback) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return fallback;
  if (it->is_number_integer()) return Duration{it->get<std::int64_t>()};
  if (it->is_string()) {
    if (auto d = parse_duration(it->get<std::string>())) return *d;
  }
  return fallback;
}

std::vector<std::string> ActionOptions::strings(std::string_view name) const {
  std::vector<std::string> out;
  auto it = values_.find(std::string(name));
  if (it == values_.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> ActionOptions::table(std::string_view name) const {
  std::map<std::string, std::string> out;
  auto it = values_.find(std::string(name));
  if (it == values_.end() || !it->is_object()) return out;
  for (auto v = it->begin(); v != it->end(); ++v) {
    if (v->is_string()) out[v.key()] = v->get<std::string>();
  }
  return out;
}

std::optional<config::SecretRef> ActionOptions::secret(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end() || !it->is_object()) return std::nullopt;
  config::SecretRef ref;
  ref.env = it->value("env", "");
  ref.file = it->value("file", "");
  if (ref.env.empty() && ref.file.empty()) return std::nullopt;
  return ref;
}

tl::expected<void, std::string> ActionOptions::check(const config::OptionTable& table) const {
  using config::OptionType;
  for (auto it = values_.begin(); it != values_.end(); ++it) {
    const auto spec = std::find_if(table.options.begin(), table.options.end(),
                                   [&](const config::OptionSpec& s) { return s.name == it.key(); });
    if (spec == table.options.end()) {
      return err("option '" + it.key() + "' is not an option of " + std::string(table.name));
    }
    const json& v = *it;
    bool ok = true;
    switch (spec->type) {
      case OptionType::string:
      case OptionType::url:
      case OptionType::address:
      case OptionType::enumeration: ok = v.is_string(); break;
      case OptionType::integer: ok = v.is_number_integer() || v.is_string(); break;
      case OptionType::floating: ok = v.is_number(); break;
      case OptionType::boolean: ok = v.is_boolean(); break;
      case OptionType::duration: ok = (v.is_string() && parse_duration(v.get<std::string>())) || v.is_number_integer(); break;
      case OptionType::string_list:
        ok = v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string(); });
        break;
      case OptionType::secret: ok = v.is_object() && (v.contains("env") || v.contains("file")); break;
      case OptionType::table: ok = v.is_object(); break;
      case OptionType::table_list: ok = v.is_array(); break;
    }
    if (!ok) {
      return err("option '" + it.key() + "' of " + std::string(table.name) + " should be a " +
                            std::string(config::option_type_name(spec->type)));
    }
  }
  for (const auto& s : table.options) {
    if (s.required && s.default_value.empty() && !values_.contains(std::string(s.name))) {
      return err("option '" + std::string(s.name) + "' of " + std::string(table.name) + " is missing");
    }
  }
  return {};
}

tl::expected<ActionRequest, std::string> ActionRequest::from_payload(const std::string& job_id, const json& p) {
  if (!p.is_object()) return err("the job's payload is not an object");
  ActionRequest r;
  r.job_id = job_id;
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = p.find(key);
    if (it == p.end() || !it->is_string() || it->get<std::string>().empty()) return std::nullopt;
    return it->get<std::string>();
  };
  auto name = text("action");
  auto type = text("type");
  if (!name) return err("the job's payload has no 'action'");
  if (!type) return err("the job's payload has no 'type'");
  r.name = *name;
  r.type = *type;
  auto options = p.find("options");
  if (options == p.end() || !options->is_object()) {
    return err("the job's payload has no 'options' (sent by an engine older than this worker?)");
  }
  r.options = ActionOptions(*options);
  r.params = p.value("params", json::object());
  if (!r.params.is_object()) return err("the job's 'params' is not an object");
  auto timeout = p.find("timeout_ms");
  if (timeout != p.end()) {
    if (!timeout->is_number_integer() || timeout->get<std::int64_t>() <= 0) {
      return err("the job's 'timeout_ms' is not a positive number");
    }
    r.timeout = Duration{timeout->get<std::int64_t>()};
  }
  auto dry = p.find("dry_run");
  if (dry != p.end() && dry->is_boolean()) r.dry_run = dry->get<bool>();
  return r;
}

namespace {
tl::expected<std::string, std::string> read_secret(const config::SecretRef& ref, std::string_view option,
                                                   SecretRegistry& secrets) {
  config::Diagnostics diags;
  auto v = config::resolve_secret(ref, option, secrets, diags);
  if (v) return *v;
  // The diagnostics name the variable or the file, never a value.
  std::string why;
  for (const auto& d : diags.items()) why += (why.empty() ? "" : "; ") + d.message;
  return tl::unexpected(why.empty() ? "secret '" + std::string(option) + "' has no source" : why);
}
}  // namespace

tl::expected<std::string, std::string> ProviderContext::secret(const config::SecretRef& ref,
                                                               std::string_view option) const {
  return read_secret(ref, option, secrets);
}

tl::expected<std::string, std::string> ActionContext::secret(const config::SecretRef& ref,
                                                             std::string_view option) const {
  return read_secret(ref, option, secrets);
}

void Providers::add(std::string name, std::string type, std::shared_ptr<Provider> provider) {
  entries_[std::move(name)] = Entry{std::move(type), std::move(provider)};
}

Provider* Providers::find(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second.provider.get();
}

std::string Providers::type_of(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? std::string() : it->second.type;
}

tl::expected<Providers, std::string> build_providers(const std::vector<ProviderSpec>& specs, ProviderContext& ctx) {
  Providers out;
  for (const auto& s : specs) {
    auto factory = provider_factory(s.type);
    if (!factory) continue;  // a kind this build cannot use: its actions fail saying so
    auto p = factory(s, ctx);
    if (!p) return err("[providers." + s.name + "]: " + p.error());
    out.add(s.name, s.type, std::move(*p));
  }
  return out;
}

Duration RunContext::remaining() const {
  const auto left = std::chrono::duration_cast<Duration>(deadline - clock.steady_now());
  return std::max(left, Duration{0});
}

std::string cap_output(const std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t cut = max_bytes;
  // Back up to the start of a UTF-8 sequence so the text stays valid.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "\n… (" + std::to_string(text.size() - cut) + " more bytes)";
}

}  // namespace vigie::actions
