// Declared types of action parameters and the check of a value against one.
#include "vigie/rules/action_params.h"

#include <re2/re2.h>

#include <algorithm>

#include "vigie/core/time.h"

namespace vigie::rules {

struct ParamSpec::Regex {
  std::unique_ptr<re2::RE2> re;
};

namespace {

constexpr std::size_t kMaxWord = 128;
constexpr std::size_t kMaxText = 1024;

bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-' || c == ':';
}

}  // namespace

std::variant<ParamSpec, std::string> ParamSpec::parse(std::string_view text) {
  ParamSpec s;
  s.text_ = std::string(text);
  if (text == "word") {
    s.type_ = Type::word;
  } else if (text == "int") {
    s.type_ = Type::integer;
  } else if (text == "duration") {
    s.type_ = Type::duration;
  } else if (text == "text") {
    s.type_ = Type::text;
  } else if (text.rfind("choice(", 0) == 0 && text.size() > 8 && text.back() == ')') {
    s.type_ = Type::choice;
    std::string_view inner = text.substr(7, text.size() - 8);
    while (true) {
      const auto bar = inner.find('|');
      std::string_view c = inner.substr(0, bar);
      if (c.empty()) return std::string("an empty choice in '") + std::string(text) + "'";
      s.choices_.emplace_back(c);
      if (bar == std::string_view::npos) break;
      inner.remove_prefix(bar + 1);
    }
  } else if (text.rfind("regex:", 0) == 0) {
    s.type_ = Type::regex;
    RE2::Options o;
    o.set_log_errors(false);
    auto re = std::make_unique<re2::RE2>(re2::StringPiece(text.data() + 6, text.size() - 6), o);
    if (!re->ok()) return "bad regular expression in '" + std::string(text) + "': " + re->error();
    s.regex_ = std::make_shared<const Regex>(Regex{std::move(re)});
  } else {
    return "unknown parameter type '" + std::string(text) +
           "' (use word, int, duration, text, choice(a|b) or regex:<pattern>)";
  }
  return s;
}

std::optional<std::string> ParamSpec::reject(std::string_view v) const {
  if (std::any_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return std::string("must not contain control characters such as a newline");
  }
  switch (type_) {
    case Type::word:
      if (v.empty() || v.size() > kMaxWord || !std::all_of(v.begin(), v.end(), word_char) || v.front() == '-' ||
          v.front() == '.') {
        return "must be one word (letters, digits, _ . - :, not starting with - or ., at most " +
               std::to_string(kMaxWord) + " characters)";
      }
      return std::nullopt;
    case Type::integer:
      if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::string("must be a whole number");
      }
      return std::nullopt;
    case Type::duration:
      if (!parse_duration(v)) return std::string("must be a duration such as 30m");
      return std::nullopt;
    case Type::text:
      if (v.size() > kMaxText) return "must be at most " + std::to_string(kMaxText) + " characters";
      return std::nullopt;
    case Type::choice:
      if (std::find(choices_.begin(), choices_.end(), v) == choices_.end()) {
        std::string list;
        for (const auto& c : choices_) list += (list.empty() ? "" : ", ") + c;
        return "must be one of " + list;
      }
      return std::nullopt;
    case Type::regex:
      if (!regex_ || !re2::RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *regex_->re)) {
        return "must match " + text_.substr(6);
      }
      return std::nullopt;
  }
  return std::string("has an unknown type");
}

}  // namespace vigie::rules
