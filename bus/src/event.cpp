// Field paths over events.
#include "vigie/bus/event.h"

namespace vigie::bus {
namespace {

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9') || c == '-'; }

}  // namespace

std::variant<FieldPath, std::string> FieldPath::parse(std::string_view text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  if (text.empty()) return std::string("empty field path");
  for (;;) {
    const std::size_t dot = text.find('.', start);
    std::string_view seg = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (seg.empty()) return std::string("empty segment in field path '") + std::string(text) + "'";
    if (!is_ident_start(seg[0])) {
      return std::string("field path segment '") + std::string(seg) +
             "' must start with a letter or '_'";
    }
    for (char c : seg) {
      if (!is_ident_char(c)) {
        return std::string("invalid character '") + c + "' in field path '" + std::string(text) +
               "'";
      }
    }
    parts.emplace_back(seg);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  FieldPath path;
  path.text_ = std::string(text);
  if (parts[0] == "attrs") {
    if (parts.size() == 1) return std::string("'attrs' needs a field name, as in attrs.app");
    path.segments_.assign(parts.begin() + 1, parts.end());
    return path;
  }
  if (parts.size() == 1) {
    static constexpr std::pair<std::string_view, Root> kRoots[] = {
        {"id", Root::id},
        {"source", Root::source},
        {"kind", Root::kind},
        {"time", Root::time},
        {"received_at", Root::received_at}};
    for (const auto& [name, root] : kRoots) {
      if (parts[0] == name) {
        path.root_ = root;
        return path;
      }
    }
  }
  path.segments_ = std::move(parts);
  return path;
}

FieldValue field_value_of(const nlohmann::json& v) {
  FieldValue out;
  out.json = &v;
  switch (v.type()) {
    case nlohmann::json::value_t::string:
      out.type = FieldValue::Type::string;
      out.string = v.get_ref<const std::string&>();
      break;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      out.type = FieldValue::Type::number;
      out.number = v.get<double>();
      break;
    case nlohmann::json::value_t::boolean:
      out.type = FieldValue::Type::boolean;
      out.boolean = v.get<bool>();
      break;
    case nlohmann::json::value_t::array: out.type = FieldValue::Type::array; break;
    case nlohmann::json::value_t::object: out.type = FieldValue::Type::object; break;
    case nlohmann::json::value_t::null: out.type = FieldValue::Type::null; break;
    default: out.type = FieldValue::Type::missing; break;
  }
  return out;
}

FieldValue FieldPath::lookup(const Event& event) const {
  FieldValue out;
  switch (root_) {
    case Root::id:
      out.type = FieldValue::Type::string;
      out.string = event.id;
      return out;
    case Root::source:
      out.type = FieldValue::Type::string;
      out.string = event.source;
      return out;
    case Root::kind:
      out.type = FieldValue::Type::string;
      out.string = event.kind;
      return out;
    case Root::time:
      out.type = FieldValue::Type::time;
      out.time = event.time;
      return out;
    case Root::received_at:
      out.type = FieldValue::Type::time;
      out.time = event.received_at;
      return out;
    case Root::attrs: break;
  }
  const nlohmann::json* node = &event.attrs;
  for (const auto& seg : segments_) {
    if (!node->is_object()) return out;
    auto it = node->find(seg);
    if (it == node->end()) return out;
    node = &*it;
  }
  return field_value_of(*node);
}

}  // namespace vigie::bus
