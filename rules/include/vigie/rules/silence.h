// Silence matchers, as Alertmanager writes them: `rule="sentry-error-burst"`, `project!="billing"`,
// `host=~"web-[0-9]+"` (RE2, fully anchored). `rule` (or `alertname`) matches the alert's rule;
// any other name one of its labels. A silence matches an alert when every matcher does.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace re2 {
class RE2;
}

namespace vigie::rules {

struct SilenceMatcher {
  enum class Op { equal, not_equal, regex, not_regex };
  std::string label;
  Op op = Op::equal;
  std::string value;
  std::shared_ptr<re2::RE2> regex;

  bool matches(std::string_view rule, const nlohmann::json& labels) const;
};

// Parses one matcher; returns an error message for a malformed one.
std::variant<SilenceMatcher, std::string> parse_silence_matcher(std::string_view text);

// All matchers of a silence; the first error stops.
std::variant<std::vector<SilenceMatcher>, std::string> parse_silence_matchers(
    const std::vector<std::string>& texts);

bool silence_matches(const std::vector<SilenceMatcher>& matchers, std::string_view rule,
                     const nlohmann::json& labels);

}  // namespace vigie::rules
