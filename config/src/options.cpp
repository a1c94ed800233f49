// Validation of TOML tables against option tables; secret resolution; kind catalogs.
#include "vigie/config/options.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "vigie/config/messages.h"
#include "vigie/core/log.h"
#include "vigie/core/text.h"

namespace vigie::config {
namespace {

constexpr std::string_view kEnvSuffix = "_env";
constexpr std::string_view kFileSuffix = "_file";

std::string expected_type(const OptionSpec& spec) {
  switch (spec.type) {
    case OptionType::string: return "a string";
    case OptionType::integer: return "an integer";
    case OptionType::floating: return "a number";
    case OptionType::boolean: return "true or false";
    case OptionType::duration: return "a duration string such as \"30s\"";
    case OptionType::string_list: return "an array of strings";
    case OptionType::secret: return "a string";
    case OptionType::url: return "a URL string";
    case OptionType::address: return "a \"host:port\" string";
    case OptionType::enumeration: return "a string";
    case OptionType::table: return "a table";
    case OptionType::table_list: return "an array of tables";
  }
  return "a value";
}

std::string actual_type(const TomlNode& n) { return std::string(TomlNode::type_name(n.type())); }

bool valid_address(std::string_view s) {
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= s.size()) return false;
  const auto port = s.substr(colon + 1);
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return port.size() <= 5 && std::stoi(std::string(port)) <= 65535;
}

bool valid_url(std::string_view s) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (s.substr(0, scheme.size()) == scheme && s.size() > scheme.size()) return true;
  }
  return false;
}

std::string choices_text(std::span<const std::string_view> choices) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i) out += ", ";
    out += '"';
    out += choices[i];
    out += '"';
  }
  return out;
}

// Every key a user may write for the table: plain names, and <secret>_env / <secret>_file.
std::vector<std::string> valid_keys(const OptionTable& spec) {
  std::vector<std::string> keys;
  for (const auto& o : spec.options) {
    if (o.type == OptionType::secret) {
      keys.push_back(std::string(o.name) + std::string(kEnvSuffix));
      keys.push_back(std::string(o.name) + std::string(kFileSuffix));
    } else {
      keys.emplace_back(o.name);
    }
  }
  return keys;
}

void validate_value(const OptionSpec& spec, const TomlEntry& entry, OptionValues& out,
                    Diagnostics& diags) {
  const TomlNode& v = *entry.value;
  const SourcePos& pos = v.pos();
  const std::string name(spec.name);
  auto wrong_type = [&] {
    diags.error(pos, kWrongType.code,
                fmt_message(kWrongType, name, expected_type(spec), actual_type(v)));
  };
  switch (spec.type) {
    case OptionType::string:
      if (!v.is_string()) return wrong_type();
      out.set(name, v.string(), pos);
      return;
    case OptionType::integer:
      if (!v.is_integer()) return wrong_type();
      if (spec.min < spec.max && (v.integer() < spec.min || v.integer() > spec.max)) {
        diags.error(pos, kOutOfRange.code,
                    fmt_message(kOutOfRange, name,
                                "between " + std::to_string(spec.min) + " and " +
                                    std::to_string(spec.max),
                                std::to_string(v.integer())));
        return;
      }
      out.set(name, v.integer(), pos);
      return;
    case OptionType::floating:
      if (!v.is_number()) return wrong_type();
      out.set(name, v.number(), pos);
      return;
    case OptionType::boolean:
      if (!v.is_bool()) return wrong_type();
      out.set(name, v.boolean(), pos);
      return;
    case OptionType::duration: {
      if (!v.is_string()) return wrong_type();
      auto d = parse_duration(v.string());
      if (!d) {
        diags.error(pos, kBadDuration.code, fmt_message(kBadDuration, name, v.string()));
        return;
      }
      out.set(name, *d, pos);
      return;
    }
    case OptionType::string_list: {
      if (!v.is_array()) return wrong_type();
      std::vector<std::string> items;
      for (const auto& item : v.items()) {
        if (!item->is_string()) {
          diags.error(item->pos(), kWrongType.code,
                      fmt_message(kWrongType, name + " item", "a string", actual_type(*item)));
          continue;
        }
        items.push_back(item->string());
      }
      out.set(name, std::move(items), pos);
      return;
    }
    case OptionType::url:
      if (!v.is_string()) return wrong_type();
      if (!valid_url(v.string())) {
        diags.error(pos, kBadUrl.code, fmt_message(kBadUrl, name, v.string()));
        return;
      }
      out.set(name, v.string(), pos);
      return;
    case OptionType::address:
      if (!v.is_string()) return wrong_type();
      if (!valid_address(v.string())) {
        diags.error(pos, kBadAddress.code, fmt_message(kBadAddress, name, v.string()));
        return;
      }
      out.set(name, v.string(), pos);
      return;
    case OptionType::enumeration:
      if (!v.is_string()) return wrong_type();
      if (std::find(spec.choices.begin(), spec.choices.end(), v.string()) == spec.choices.end()) {
        std::vector<std::string> note;
        const std::string guess = closest_match(v.string(), spec.choices);
        if (!guess.empty()) note.push_back(fmt_message(kNoteDidYouMean, guess));
        diags.error(pos, kBadEnum.code,
                    fmt_message(kBadEnum, name, choices_text(spec.choices), v.string()),
                    std::move(note));
        return;
      }
      out.set(name, v.string(), pos);
      return;
    case OptionType::table:
      if (!v.is_table()) return wrong_type();
      out.set(name, entry.value, pos);
      return;
    case OptionType::table_list:
      if (!v.is_array() ||
          !std::all_of(v.items().begin(), v.items().end(), [](auto& i) { return i->is_table(); })) {
        return wrong_type();
      }
      out.set(name, entry.value, pos);
      return;
    case OptionType::secret:
      // Handled by the caller: a plain secret key is always an error.
      return;
  }
}

void set_default(const OptionSpec& spec, OptionValues& out, const SourcePos& pos) {
  if (spec.default_value.empty()) return;
  const std::string name(spec.name);
  const std::string text(spec.default_value);
  switch (spec.type) {
    case OptionType::integer: out.set(name, std::int64_t{std::stoll(text)}, pos); return;
    case OptionType::floating: out.set(name, std::stod(text), pos); return;
    case OptionType::boolean: out.set(name, text == "true", pos); return;
    case OptionType::duration: out.set(name, parse_duration(text).value_or(Duration{0}), pos); return;
    case OptionType::string_list: out.set(name, std::vector<std::string>{text}, pos); return;
    case OptionType::secret:
    case OptionType::table:
    case OptionType::table_list: return;
    default: out.set(name, text, pos); return;
  }
}

}  // namespace

std::string_view option_type_name(OptionType t) {
  switch (t) {
    case OptionType::string: return "string";
    case OptionType::integer: return "integer";
    case OptionType::floating: return "number";
    case OptionType::boolean: return "boolean";
    case OptionType::duration: return "duration";
    case OptionType::string_list: return "string list";
    case OptionType::secret: return "secret";
    case OptionType::url: return "url";
    case OptionType::address: return "host:port";
    case OptionType::enumeration: return "enum";
    case OptionType::table: return "table";
    case OptionType::table_list: return "array of tables";
  }
  return "value";
}

const OptionValue* OptionValues::find(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second.first;
}

SourcePos OptionValues::pos(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? table_pos_ : it->second.second;
}

void OptionValues::set(std::string name, OptionValue value, SourcePos pos) {
  values_[std::move(name)] = {std::move(value), std::move(pos)};
}

namespace {
template <typename T>
const T* get_as(const OptionValues& v, std::string_view name) {
  const OptionValue* value = v.find(name);
  return value ? std::get_if<T>(value) : nullptr;
}
}  // namespace

std::string OptionValues::string(std::string_view name, std::string fallback) const {
  auto* v = get_as<std::string>(*this, name);
  return v ? *v : fallback;
}
std::int64_t OptionValues::integer(std::string_view name, std::int64_t fallback) const {
  auto* v = get_as<std::int64_t>(*this, name);
  return v ? *v : fallback;
}
double OptionValues::floating(std::string_view name, double fallback) const {
  auto* v = get_as<double>(*this, name);
  return v ? *v : fallback;
}
bool OptionValues::boolean(std::string_view name, bool fallback) const {
  auto* v = get_as<bool>(*this, name);
  return v ? *v : fallback;
}
Duration OptionValues::duration(std::string_view name, Duration fallback) const {
  auto* v = get_as<Duration>(*this, name);
  return v ? *v : fallback;
}
std::vector<std::string> OptionValues::strings(std::string_view name) const {
  auto* v = get_as<std::vector<std::string>>(*this, name);
  return v ? *v : std::vector<std::string>{};
}
std::optional<SecretRef> OptionValues::secret(std::string_view name) const {
  auto* v = get_as<SecretRef>(*this, name);
  return v ? std::optional<SecretRef>(*v) : std::nullopt;
}
std::shared_ptr<const TomlNode> OptionValues::node(std::string_view name) const {
  auto* v = get_as<std::shared_ptr<const TomlNode>>(*this, name);
  return v ? *v : nullptr;
}

OptionValues validate_options(const TomlNode& table, const OptionTable& spec, std::string_view where,
                              Diagnostics& diags, std::span<const std::string_view> ignore,
                              const std::string& base_dir) {
  OptionValues out;
  out.set_table_pos(table.pos());
  std::map<std::string, SecretRef, std::less<>> secrets;
  std::vector<std::string> inline_secrets;  // already reported: no "missing" error on top
  const auto keys = valid_keys(spec);

  for (const auto& entry : table.entries()) {
    if (std::find(ignore.begin(), ignore.end(), entry.key) != ignore.end()) continue;
    const OptionSpec* match = nullptr;
    for (const auto& o : spec.options) {
      if (o.name == entry.key) match = &o;
    }
    if (match != nullptr && match->type == OptionType::secret) {
      diags.error(entry.key_pos, kInlineSecret.code,
                  fmt_message(kInlineSecret, entry.key, entry.key, entry.key));
      inline_secrets.push_back(entry.key);
      continue;
    }
    if (match != nullptr) {
      validate_value(*match, entry, out, diags);
      continue;
    }
    // <secret>_env / <secret>_file
    bool handled = false;
    for (const auto& o : spec.options) {
      if (o.type != OptionType::secret) continue;
      const std::string env_key = std::string(o.name) + std::string(kEnvSuffix);
      const std::string file_key = std::string(o.name) + std::string(kFileSuffix);
      if (entry.key != env_key && entry.key != file_key) continue;
      handled = true;
      if (!entry.value->is_string() || entry.value->string().empty()) {
        diags.error(entry.value->pos(), kWrongType.code,
                    fmt_message(kWrongType, entry.key, "a non-empty string",
                                actual_type(*entry.value)));
        break;
      }
      SecretRef& ref = secrets[std::string(o.name)];
      if (!ref.env.empty() || !ref.file.empty()) {
        diags.error(entry.key_pos, kSecretBothSources.code,
                    fmt_message(kSecretBothSources, o.name, o.name));
        break;
      }
      ref.pos = entry.value->pos();
      if (entry.key == env_key) {
        ref.env = entry.value->string();
      } else {
        std::filesystem::path p(entry.value->string());
        if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
        ref.file = p.string();
      }
      break;
    }
    if (handled) continue;

    std::vector<std::string> notes;
    const std::string guess = closest_match(entry.key, keys);
    if (!guess.empty()) notes.push_back(fmt_message(kNoteDidYouMean, guess));
    notes.push_back(fmt_message(kNoteValidKeys, join(keys)));
    diags.error(entry.key_pos, kUnknownKey.code, fmt_message(kUnknownKey, entry.key, where),
                std::move(notes));
  }

  for (const auto& o : spec.options) {
    const std::string name(o.name);
    if (o.type == OptionType::secret) {
      auto it = secrets.find(name);
      if (it != secrets.end()) {
        out.set(name, it->second, it->second.pos);
      } else if (o.required && std::find(inline_secrets.begin(), inline_secrets.end(), name) ==
                                   inline_secrets.end()) {
        diags.error(table.pos(), kSecretMissing.code,
                    fmt_message(kSecretMissing, name, where, name, name));
      }
      continue;
    }
    if (out.has(name)) continue;
    if (table.find(name) != nullptr) continue;  // present but invalid: already reported
    if (o.required) {
      diags.error(table.pos(), kMissingKey.code, fmt_message(kMissingKey, name, where));
      continue;
    }
    set_default(o, out, table.pos());
  }
  return out;
}

std::optional<std::string> resolve_secret(const SecretRef& ref, std::string_view option,
                                          SecretRegistry& secrets, Diagnostics& diags,
                                          Severity severity) {
  auto report = [&](std::string_view code, std::string message) {
    diags.add({severity, std::string(code), std::move(message), ref.pos, {}});
  };
  std::string value;
  if (!ref.env.empty()) {
    const char* v = std::getenv(ref.env.c_str());
    if (v == nullptr) {
      report(kSecretEnvUnset.code,
             fmt_message(kSecretEnvUnset, ref.env, std::string(option) + "_env"));
      return std::nullopt;
    }
    value = v;
  } else if (!ref.file.empty()) {
    std::ifstream in(ref.file, std::ios::binary);
    if (!in) {
      report(kSecretFileUnreadable.code,
             fmt_message(kSecretFileUnreadable, ref.file, std::string(option) + "_file"));
      return std::nullopt;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    value = buf.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  } else {
    return std::nullopt;
  }
  if (value.empty()) {
    report(kSecretEmpty.code, fmt_message(kSecretEmpty, ref.env.empty() ? ref.file : ref.env));
    return std::nullopt;
  }
  secrets.add(value);
  return value;
}

std::string describe_markdown(const OptionTable& table) {
  std::string out = "| key | type | default | required | description |\n|---|---|---|---|---|\n";
  for (const auto& o : table.options) {
    std::string key(o.name);
    if (o.type == OptionType::secret) key = "`" + key + "_env` / `" + key + "_file`";
    else key = "`" + key + "`";
    std::string type(option_type_name(o.type));
    if (o.type == OptionType::enumeration) type += ": " + choices_text(o.choices);
    out += "| " + key + " | " + type + " | " +
           (o.default_value.empty() ? "" : "`" + std::string(o.default_value) + "`") + " | " +
           (o.required ? "yes" : "no") + " | " + std::string(o.description) + " |\n";
  }
  return out;
}

void KindCatalog::add(KindInfo info) {
  if (find(info.type) != nullptr) {
    std::fprintf(stderr, "vigie: kind '%.*s' registered twice\n",
                 static_cast<int>(info.type.size()), info.type.data());
    std::abort();
  }
  kinds_.push_back(info);
}

const KindInfo* KindCatalog::find(std::string_view type) const {
  for (const auto& k : kinds_) {
    if (k.type == type) return &k;
  }
  return nullptr;
}

std::vector<std::string_view> KindCatalog::types() const {
  std::vector<std::string_view> out;
  for (const auto& k : kinds_) out.push_back(k.type);
  return out;
}

}  // namespace vigie::config
