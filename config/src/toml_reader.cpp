// The only translation unit that includes TOML++: converts its tree into TomlNode with positions.
#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <tuple>
#include <sstream>

#include "vigie/config/messages.h"
#include "vigie/config/toml_tree.h"

namespace vigie::config {
namespace {

SourcePos pos_of(const toml::source_region& r, const std::string& file) {
  return SourcePos{file, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

std::shared_ptr<const TomlNode> convert(const toml::node& n, const std::string& file) {
  const SourcePos pos = pos_of(n.source(), file);
  using T = TomlNode::Type;
  switch (n.type()) {
    case toml::node_type::string: {
      auto out = TomlNode::make(T::string, pos);
      out->set_string(std::string(*n.as_string()));
      return out;
    }
    case toml::node_type::integer: {
      auto out = TomlNode::make(T::integer, pos);
      out->set_integer(n.as_integer()->get());
      return out;
    }
    case toml::node_type::floating_point: {
      auto out = TomlNode::make(T::floating, pos);
      out->set_float(n.as_floating_point()->get());
      return out;
    }
    case toml::node_type::boolean: {
      auto out = TomlNode::make(T::boolean, pos);
      out->set_bool(n.as_boolean()->get());
      return out;
    }
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: {
      auto out = TomlNode::make(T::datetime, pos);
      std::ostringstream text;
      n.visit([&text](const auto& v) {
        if constexpr (toml::is_value<decltype(v)>) text << v;
      });
      out->set_string(text.str());
      return out;
    }
    case toml::node_type::array: {
      auto out = TomlNode::make(T::array, pos);
      for (const auto& item : *n.as_array()) out->push(convert(item, file));
      return out;
    }
    case toml::node_type::table: {
      auto out = TomlNode::make(T::table, pos);
      std::vector<TomlEntry> entries;
      for (const auto& [key, value] : *n.as_table()) {
        SourcePos key_pos = pos_of(key.source(), file);
        // Keys created implicitly (the `a` of `[a.b]`) have no region of their own.
        if (key_pos.line == 0) key_pos = pos_of(value.source(), file);
        entries.push_back(TomlEntry{std::string(key.str()), key_pos, convert(value, file)});
      }
      // TOML++ keeps keys sorted; diagnostics and [[rule]] order want the order of the file.
      std::stable_sort(entries.begin(), entries.end(), [](const TomlEntry& a, const TomlEntry& b) {
        return std::tie(a.key_pos.line, a.key_pos.column) < std::tie(b.key_pos.line, b.key_pos.column);
      });
      for (auto& e : entries) out->insert(std::move(e));
      return out;
    }
    case toml::node_type::none: break;
  }
  return TomlNode::make(T::table, pos);
}

}  // namespace

const TomlEntry* TomlNode::find(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

const TomlNode* TomlNode::get(std::string_view key) const {
  const TomlEntry* e = find(key);
  return e ? e->value.get() : nullptr;
}

std::string_view TomlNode::type_name(Type t) {
  switch (t) {
    case Type::string: return "string";
    case Type::integer: return "integer";
    case Type::floating: return "float";
    case Type::boolean: return "boolean";
    case Type::datetime: return "date-time";
    case Type::array: return "array";
    case Type::table: return "table";
  }
  return "value";
}

std::shared_ptr<TomlNode> TomlNode::make(Type type, SourcePos pos) {
  auto n = std::make_shared<TomlNode>();
  n->type_ = type;
  n->pos_ = std::move(pos);
  return n;
}

std::shared_ptr<const TomlNode> parse_toml(std::string_view text, const std::string& file,
                                           Diagnostics& diags) {
  diags.add_source(file, std::string(text));
  try {
    toml::table root = toml::parse(text, std::string_view(file));
    auto out = convert(root, file);
    // The root table has no header; give it the start of the file.
    auto fixed = TomlNode::make(TomlNode::Type::table, SourcePos{file, 1, 1});
    for (const auto& e : out->entries()) fixed->insert(e);
    return fixed;
  } catch (const toml::parse_error& err) {
    diags.error(pos_of(err.source(), file), kTomlSyntax.code,
                fmt_message(kTomlSyntax, std::string(err.description())));
    return nullptr;
  }
}

std::shared_ptr<const TomlNode> parse_toml_file(const std::string& path, Diagnostics& diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diags.error(SourcePos{path, 0, 0}, kFileUnreadable.code, fmt_message(kFileUnreadable, path));
    return nullptr;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_toml(buf.str(), path, diags);
}

}  // namespace vigie::config
