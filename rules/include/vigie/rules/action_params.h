// Declared types of action parameters (`params = { app = "word", n = "int" }` on an [[action]]):
// what a value must look like before anything runs. Parsed at load; checked by the engine before
// it dispatches an action, whether the value came from a command's placeholder, `run k=v` or an
// alert's label. An undeclared parameter is a `word`.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vigie::rules {

class ParamSpec {
 public:
  enum class Type { word, integer, duration, choice, regex, text };

  // "word" | "int" | "duration" | "text" | "choice(a|b)" | "regex:<RE2>"; an error message when
  // the text is none of them (or the regular expression does not compile).
  static std::variant<ParamSpec, std::string> parse(std::string_view text);

  // nullopt when `value` is acceptable, else why not ("must be one word of letters, digits, ...").
  // Control characters (newlines included) are refused by every type.
  std::optional<std::string> reject(std::string_view value) const;

  Type type() const { return type_; }
  const std::string& text() const { return text_; }  // as declared

 private:
  struct Regex;
  Type type_ = Type::word;
  std::string text_ = "word";
  std::vector<std::string> choices_;
  std::shared_ptr<const Regex> regex_;
};

}  // namespace vigie::rules
