// Templates: our own tag scan for positions and variable checks, kainjow::mustache to render.
#include "vigie/rules/template.h"

#include <kainjow/mustache.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <mutex>

#include "vigie/config/messages.h"
#include "vigie/config/toml_tree.h"
#include "vigie/core/text.h"
#include "vigie/rules/rule_messages.h"

namespace vigie::rules {

namespace mustache = kainjow::mustache;

namespace {

constexpr std::array<std::string_view, 13> kAlertBuiltins{
    "count", "rule", "severity", "fingerprint", "first_seen", "last_seen", "value",
    "state", "runbook", "description", "alert_id", "occurrence", "event"};

mustache::data to_data(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      mustache::data d{mustache::data::type::object};
      for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), to_data(it.value()));
      return d;
    }
    case nlohmann::json::value_t::array: {
      mustache::data d{mustache::data::type::list};
      for (const auto& item : j) d.push_back(to_data(item));
      return d;
    }
    case nlohmann::json::value_t::string: return mustache::data{j.get<std::string>()};
    case nlohmann::json::value_t::boolean:
      return j.get<bool>() ? mustache::data{mustache::data::type::bool_true}
                           : mustache::data{mustache::data::type::bool_false};
    case nlohmann::json::value_t::null: return mustache::data{std::string()};
    default:
      // Numbers print as JSON does: 17, 0.25 (no trailing zeros).
      return mustache::data{j.dump()};
  }
}

struct Tag {
  char sigil = 0;  // 0 for a variable, else one of # ^ / ! > = & {
  std::string name;
  std::size_t offset = 0;  // of the name inside the template text
};

std::string trim(std::string_view s, std::size_t& lead) {
  lead = 0;
  while (lead < s.size() && (s[lead] == ' ' || s[lead] == '\t')) ++lead;
  std::size_t end = s.size();
  while (end > lead && (s[end - 1] == ' ' || s[end - 1] == '\t')) --end;
  return std::string(s.substr(lead, end - lead));
}

// Lists the tags of a template; returns the offset of an unclosed tag, if any.
std::optional<std::size_t> scan_tags(std::string_view text, std::vector<Tag>& tags) {
  std::size_t i = 0;
  while ((i = text.find("{{", i)) != std::string_view::npos) {
    const bool triple = text.substr(i, 3) == "{{{";
    const std::size_t open = i + (triple ? 3 : 2);
    const std::string_view close = triple ? "}}}" : "}}";
    const std::size_t end = text.find(close, open);
    if (end == std::string_view::npos) return i;
    std::string_view inner = text.substr(open, end - open);
    Tag tag;
    std::size_t name_start = open;
    if (triple) {
      tag.sigil = '{';
    } else if (!inner.empty() && std::string_view("#^/!>=&").find(inner[0]) != std::string_view::npos) {
      tag.sigil = inner[0];
      inner.remove_prefix(1);
      ++name_start;
    }
    std::size_t lead = 0;
    tag.name = trim(inner, lead);
    tag.offset = name_start + lead;
    tags.push_back(std::move(tag));
    i = end + close.size();
  }
  return std::nullopt;
}

bool contains(std::span<const std::string_view> list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}
bool contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

}  // namespace

struct Template::Impl {
  std::mutex mutex;  // kainjow's render is not const
  mustache::mustache tmpl;
  explicit Impl(const std::string& text) : tmpl(text) {}
};

std::span<const std::string_view> alert_template_builtins() { return kAlertBuiltins; }

std::string slack_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::optional<Template> Template::compile(std::string_view text, const TemplateScope& scope,
                                          const config::SourcePos& value_pos,
                                          config::Diagnostics& diags, Escape escape) {
  const std::string where = value_pos.file.empty() ? "template" : std::string(text);
  auto at = [&](std::size_t offset) { return config::locate_in_string(diags, value_pos, offset); };
  const std::size_t errors_before = diags.error_count();
  const std::string text_str(text);
  auto short_text = [&] {
    return text_str.size() > 40 ? text_str.substr(0, 37) + "..." : text_str;
  };

  std::vector<Tag> tags;
  if (auto unclosed = scan_tags(text, tags)) {
    diags.error(at(*unclosed), kTemplateSyntax.code,
                config::fmt_message(kTemplateSyntax, short_text(), "'{{' is never closed"));
    return std::nullopt;
  }

  Template out;
  out.text_ = text_str;
  std::vector<std::string> section_stack;
  for (const auto& tag : tags) {
    if (tag.sigil == '!') continue;
    if (tag.sigil == '>' || tag.sigil == '=') {
      diags.error(at(tag.offset - 1), kTemplateUnsupported.code,
                  config::fmt_message(kTemplateUnsupported, short_text(),
                                      tag.sigil == '>' ? "a partial" : "a delimiter change"));
      continue;
    }
    if (tag.name.empty()) {
      diags.error(at(tag.offset), kTemplateSyntax.code,
                  config::fmt_message(kTemplateSyntax, short_text(), "empty tag"));
      continue;
    }
    if (tag.sigil == '/') {
      if (section_stack.empty() || section_stack.back() != tag.name) {
        diags.error(at(tag.offset), kTemplateSyntax.code,
                    config::fmt_message(kTemplateSyntax, short_text(),
                                        "'{{/" + tag.name + "}}' closes no open section"));
      } else {
        section_stack.pop_back();
      }
      continue;
    }
    if (tag.sigil == '#' || tag.sigil == '^') section_stack.push_back(tag.name);
    // Inside a section, names may refer to the section's items: not checkable here.
    const bool in_section = !section_stack.empty() && !(tag.sigil == '#' || tag.sigil == '^');
    if (tag.name != "." && !contains(out.variables_, tag.name)) out.variables_.push_back(tag.name);
    if (in_section || tag.name == ".") continue;

    const std::string& name = tag.name;
    const auto dot = name.find('.');
    const std::string head = name.substr(0, dot);
    bool known = false;
    if (dot == std::string::npos) {
      known = contains(scope.builtins, name) || contains(scope.labels, name) ||
              contains(scope.params, name) || scope.allow_attrs;
    } else if (head == "labels") {
      known = scope.allow_labels_namespace && contains(scope.labels, name.substr(dot + 1));
    } else if (head == "attrs" || head == "event") {
      known = scope.allow_attrs;
    } else {
      // A dotted name into an attribute (entity.name) is an attribute path.
      known = scope.allow_attrs && !contains(scope.builtins, head);
    }
    if (!known) {
      std::vector<std::string> notes;
      std::vector<std::string> candidates(scope.labels.begin(), scope.labels.end());
      for (auto& l : scope.labels) candidates.push_back("labels." + l);
      candidates.insert(candidates.end(), scope.params.begin(), scope.params.end());
      for (auto b : scope.builtins) candidates.emplace_back(b);
      const std::string guess = closest_match(name, candidates);
      if (!guess.empty()) notes.push_back(config::fmt_message(config::kNoteDidYouMean, guess));
      diags.error(at(tag.offset), kTemplateUnknownVar.code,
                  config::fmt_message(kTemplateUnknownVar, name, short_text()), std::move(notes));
      continue;
    }
    if (dot == std::string::npos && scope.allow_attrs && !contains(scope.builtins, name) &&
        !contains(scope.labels, name) && !contains(scope.params, name)) {
      // Read from the event: fine, but a near-miss of a builtin is likely a typo.
      const std::string guess = closest_match(name, scope.builtins);
      if (!guess.empty()) {
        diags.warning(at(tag.offset), kTemplateTypo.code,
                      config::fmt_message(kTemplateTypo, name, guess));
      }
    }
  }
  if (!section_stack.empty()) {
    diags.error(value_pos, kTemplateSyntax.code,
                config::fmt_message(kTemplateSyntax, short_text(),
                                    "section '" + section_stack.back() + "' is never closed"));
  }
  if (diags.error_count() > errors_before) return std::nullopt;

  out.impl_ = std::make_shared<Impl>(text_str);
  if (!out.impl_->tmpl.is_valid()) {
    diags.error(value_pos, kTemplateSyntax.code,
                config::fmt_message(kTemplateSyntax, short_text(), out.impl_->tmpl.error_message()));
    return std::nullopt;
  }
  if (escape == Escape::slack) {
    out.impl_->tmpl.set_custom_escape([](const std::string& s) { return slack_escape(s); });
  } else {
    out.impl_->tmpl.set_custom_escape([](const std::string& s) { return s; });
  }
  return out;
}

std::string Template::render(const nlohmann::json& context) const {
  if (!impl_) return text_;
  const mustache::data data = to_data(context);
  std::lock_guard lock(impl_->mutex);
  return impl_->tmpl.render(data);
}

}  // namespace vigie::rules
