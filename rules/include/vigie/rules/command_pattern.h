// Chat command patterns of [[command]]: literal words and typed placeholders, e.g.
// "restart {app:word}", "scale {app:word} {n:int}", "silence {d:duration} {why:text}",
// "deploy {env:choice(staging|production)}". Parsed at load; matched against typed words.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vigie::rules {

struct PatternPart {
  enum class Type { literal, word, integer, duration, choice, text };
  Type type = Type::literal;
  std::string text;                  // the literal, or the placeholder's name
  std::vector<std::string> choices;  // Type::choice
  std::size_t offset = 0;            // in the pattern, for diagnostics
};

class CommandPattern {
 public:
  // @return the pattern, or an error message and the offset it concerns.
  static std::variant<CommandPattern, std::pair<std::string, std::size_t>> parse(
      std::string_view pattern);

  // Splits chat text into words: blanks separate, "double quotes" group (\" inside quotes).
  // @return nothing when a quote is left open.
  static std::optional<std::vector<std::string>> split_words(std::string_view text);

  struct Match {
    std::map<std::string, std::string> values;  // placeholder name -> the typed text
  };
  struct Mismatch {
    std::size_t matched_literals = 0;  // how far the literals matched (for did-you-mean)
    std::string expected;              // "a whole number for 'n'", "one of staging, production"
  };
  // Matches whole words (a text placeholder takes the rest, joined by single spaces).
  std::variant<Match, Mismatch> match(const std::vector<std::string>& words) const;

  const std::vector<PatternPart>& parts() const { return parts_; }
  const std::string& text() const { return text_; }
  std::vector<std::string> placeholder_names() const;
  // The leading literal words ("restart"), which identify the command.
  std::string head() const;
  // "restart <app>" for help texts.
  std::string usage() const;

 private:
  std::string text_;
  std::vector<PatternPart> parts_;
};

}  // namespace vigie::rules
