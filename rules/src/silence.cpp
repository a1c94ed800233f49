// Silence matcher parsing and matching.
#include "vigie/rules/silence.h"

#include <re2/re2.h>

#include <cctype>

namespace vigie::rules {

bool SilenceMatcher::matches(std::string_view rule, const nlohmann::json& labels) const {
  std::string actual;
  if (label == "rule" || label == "alertname") {
    actual = std::string(rule);
  } else if (labels.is_object()) {
    auto it = labels.find(label);
    if (it != labels.end() && it->is_string()) actual = it->get<std::string>();
  }
  switch (op) {
    case Op::equal: return actual == value;
    case Op::not_equal: return actual != value;
    case Op::regex: return regex && RE2::FullMatch(actual, *regex);
    case Op::not_regex: return regex && !RE2::FullMatch(actual, *regex);
  }
  return false;
}

std::variant<SilenceMatcher, std::string> parse_silence_matcher(std::string_view text) {
  SilenceMatcher m;
  std::size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  const std::size_t name_start = i;
  while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) ++i;
  m.label = std::string(text.substr(name_start, i - name_start));
  if (m.label.empty()) return std::string("matcher '") + std::string(text) + "' has no label name";
  while (i < text.size() && text[i] == ' ') ++i;
  const std::string_view rest = text.substr(i);
  std::size_t op_len = 0;
  if (rest.substr(0, 2) == "=~") {
    m.op = SilenceMatcher::Op::regex;
    op_len = 2;
  } else if (rest.substr(0, 2) == "!~") {
    m.op = SilenceMatcher::Op::not_regex;
    op_len = 2;
  } else if (rest.substr(0, 2) == "!=") {
    m.op = SilenceMatcher::Op::not_equal;
    op_len = 2;
  } else if (rest.substr(0, 1) == "=") {
    m.op = SilenceMatcher::Op::equal;
    op_len = 1;
  } else {
    return std::string("matcher '") + std::string(text) + "' needs =, !=, =~ or !~ after the label";
  }
  std::string_view value = rest.substr(op_len);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  m.value = std::string(value);
  if (m.op == SilenceMatcher::Op::regex || m.op == SilenceMatcher::Op::not_regex) {
    RE2::Options options;
    options.set_log_errors(false);
    m.regex = std::make_shared<re2::RE2>(m.value, options);
    if (!m.regex->ok()) return std::string("matcher '") + std::string(text) + "': " + m.regex->error();
  }
  return m;
}

std::variant<std::vector<SilenceMatcher>, std::string> parse_silence_matchers(
    const std::vector<std::string>& texts) {
  std::vector<SilenceMatcher> out;
  for (const auto& t : texts) {
    auto m = parse_silence_matcher(t);
    if (auto* err = std::get_if<std::string>(&m)) return *err;
    out.push_back(std::get<SilenceMatcher>(std::move(m)));
  }
  if (out.empty()) return std::string("a silence needs at least one matcher");
  return out;
}

bool silence_matches(const std::vector<SilenceMatcher>& matchers, std::string_view rule,
                     const nlohmann::json& labels) {
  if (matchers.empty()) return false;
  for (const auto& m : matchers) {
    if (!m.matches(rule, labels)) return false;
  }
  return true;
}

}  // namespace vigie::rules
