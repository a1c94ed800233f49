// Message and parameter templates (`summary`, `details`, action options): mustache, parsed and
// checked at load so an unknown variable is a load error at its exact column, rendered without
// re-expanding values (an event field holding "{{x}}" stays literal text).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/config/diagnostics.h"

namespace vigie::rules {

// What a template may name. Bare names resolve in order: builtins, labels, params, then (when
// allowed) event attributes, which cannot be checked at load since any attribute may arrive.
struct TemplateScope {
  std::span<const std::string_view> builtins;  // count, rule, severity, ...
  std::vector<std::string> labels;             // {{labels.x}} and bare {{x}}
  std::vector<std::string> params;             // action parameters
  bool allow_attrs = true;                     // bare unknown names and {{attrs.*}}
  bool allow_labels_namespace = true;          // {{labels.*}}
};

// Variables an alert message template can always use.
std::span<const std::string_view> alert_template_builtins();

enum class Escape {
  slack,  // &, <, > become entities so "<!channel>" in a log line cannot ping anyone
  none,   // parameters: validated by type, not escaped
};

class Template {
 public:
  Template() = default;

  // Parses `text` (the decoded content of the TOML string at `value_pos`). Syntax errors,
  // partials, delimiter changes and unknown variables are reported at their position inside the
  // string; returns nothing when there was an error.
  static std::optional<Template> compile(std::string_view text, const TemplateScope& scope,
                                         const config::SourcePos& value_pos,
                                         config::Diagnostics& diags, Escape escape = Escape::slack);

  // Renders with `context` (a JSON object; nested objects serve dotted names). Thread-safe.
  std::string render(const nlohmann::json& context) const;

  const std::string& text() const { return text_; }
  bool empty() const { return text_.empty(); }
  // Every variable named, in order of first use ("count", "labels.project", "title").
  const std::vector<std::string>& variables() const { return variables_; }

 private:
  struct Impl;
  std::string text_;
  std::vector<std::string> variables_;
  std::shared_ptr<Impl> impl_;
};

// Slack mrkdwn escaping of untrusted text.
std::string slack_escape(std::string_view text);

}  // namespace vigie::rules
