// Command pattern parsing and matching.
#include "vigie/rules/command_pattern.h"

#include "vigie/core/time.h"

namespace vigie::rules {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_integer(std::string_view s) {
  std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i >= s.size() || s.size() > 18) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

}  // namespace

std::variant<CommandPattern, std::pair<std::string, std::size_t>> CommandPattern::parse(
    std::string_view pattern) {
  using Error = std::pair<std::string, std::size_t>;
  CommandPattern out;
  out.text_ = std::string(pattern);
  std::size_t i = 0;
  std::vector<std::string> names;
  while (i < pattern.size()) {
    if (pattern[i] == ' ' || pattern[i] == '\t') {
      ++i;
      continue;
    }
    if (!out.parts_.empty() && out.parts_.back().type == PatternPart::Type::text) {
      return Error{"a {name:text} placeholder takes the rest of the line and must come last", i};
    }
    PatternPart part;
    part.offset = i;
    if (pattern[i] != '{') {
      const std::size_t end = pattern.find_first_of(" \t{", i);
      part.text = std::string(pattern.substr(i, end == std::string_view::npos ? end : end - i));
      if (part.text.find('}') != std::string::npos) return Error{"unmatched '}'", i};
      i += part.text.size();
      out.parts_.push_back(std::move(part));
      continue;
    }
    const std::size_t close = pattern.find('}', i);
    if (close == std::string_view::npos) return Error{"'{' is never closed", i};
    const std::string_view inner = pattern.substr(i + 1, close - i - 1);
    const std::size_t colon = inner.find(':');
    if (colon == std::string_view::npos) {
      return Error{"placeholder '{" + std::string(inner) + "}' needs a type, as in {app:word}", i};
    }
    const std::string_view name = inner.substr(0, colon);
    const std::string_view type = inner.substr(colon + 1);
    if (name.empty()) return Error{"placeholder has no name", i + 1};
    for (char c : name) {
      if (!is_name_char(c)) return Error{"placeholder name '" + std::string(name) + "' is invalid", i + 1};
    }
    for (const auto& n : names) {
      if (n == name) return Error{"placeholder '" + std::string(name) + "' appears twice", i + 1};
    }
    part.text = std::string(name);
    part.offset = i + 1;
    if (type == "word") {
      part.type = PatternPart::Type::word;
    } else if (type == "int") {
      part.type = PatternPart::Type::integer;
    } else if (type == "duration") {
      part.type = PatternPart::Type::duration;
    } else if (type == "text") {
      part.type = PatternPart::Type::text;
    } else if (type.substr(0, 7) == "choice(" && type.size() > 8 && type.back() == ')') {
      part.type = PatternPart::Type::choice;
      std::string_view list = type.substr(7, type.size() - 8);
      std::size_t start = 0;
      for (;;) {
        const std::size_t bar = list.find('|', start);
        const std::string_view c = list.substr(start, bar == std::string_view::npos ? bar : bar - start);
        if (c.empty()) return Error{"empty choice in '" + std::string(type) + "'", i + 1 + colon + 1};
        part.choices.emplace_back(c);
        if (bar == std::string_view::npos) break;
        start = bar + 1;
      }
    } else {
      return Error{"unknown placeholder type '" + std::string(type) +
                       "' (use word, int, duration, choice(a|b) or text)",
                   i + 1 + colon + 1};
    }
    names.emplace_back(name);
    out.parts_.push_back(std::move(part));
    i = close + 1;
  }
  if (out.parts_.empty()) return Error{"pattern is empty", 0};
  if (out.parts_.front().type != PatternPart::Type::literal) {
    return Error{"a pattern must start with a literal word, as in 'restart {app:word}'", 0};
  }
  return out;
}

std::optional<std::vector<std::string>> CommandPattern::split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    std::string word;
    if (c == '"') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '"') {
          word += '"';
          i += 2;
        } else if (text[i] == '"') {
          closed = true;
          ++i;
          break;
        } else {
          word += text[i++];
        }
      }
      if (!closed) return std::nullopt;
    } else {
      while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n' &&
             text[i] != '\r') {
        word += text[i++];
      }
    }
    words.push_back(std::move(word));
  }
  return words;
}

std::variant<CommandPattern::Match, CommandPattern::Mismatch> CommandPattern::match(
    const std::vector<std::string>& words) const {
  Match m;
  Mismatch miss;
  std::size_t w = 0;
  for (const auto& part : parts_) {
    if (part.type == PatternPart::Type::text) {
      if (w >= words.size()) {
        miss.expected = "text for '" + part.text + "'";
        return miss;
      }
      std::string rest;
      for (; w < words.size(); ++w) {
        if (!rest.empty()) rest += ' ';
        rest += words[w];
      }
      m.values[part.text] = rest;
      continue;
    }
    if (w >= words.size()) {
      miss.expected = part.type == PatternPart::Type::literal ? "'" + part.text + "'"
                                                               : "a value for '" + part.text + "'";
      return miss;
    }
    const std::string& word = words[w];
    switch (part.type) {
      case PatternPart::Type::literal:
        if (word != part.text) {
          miss.expected = "'" + part.text + "'";
          return miss;
        }
        ++miss.matched_literals;
        break;
      case PatternPart::Type::word:
        m.values[part.text] = word;
        break;
      case PatternPart::Type::integer:
        if (!is_integer(word)) {
          miss.expected = "a whole number for '" + part.text + "', not '" + word + "'";
          return miss;
        }
        m.values[part.text] = word;
        break;
      case PatternPart::Type::duration:
        if (!parse_duration(word)) {
          miss.expected = "a duration such as 30m for '" + part.text + "', not '" + word + "'";
          return miss;
        }
        m.values[part.text] = word;
        break;
      case PatternPart::Type::choice: {
        bool ok = false;
        for (const auto& c : part.choices) ok = ok || c == word;
        if (!ok) {
          std::string list;
          for (const auto& c : part.choices) list += (list.empty() ? "" : ", ") + c;
          miss.expected = "one of " + list + " for '" + part.text + "', not '" + word + "'";
          return miss;
        }
        m.values[part.text] = word;
        break;
      }
      case PatternPart::Type::text: break;
    }
    ++w;
  }
  if (w < words.size()) {
    miss.expected = "nothing after '" + words[w - 1] + "' (got '" + words[w] + "')";
    return miss;
  }
  return m;
}

std::vector<std::string> CommandPattern::placeholder_names() const {
  std::vector<std::string> out;
  for (const auto& p : parts_) {
    if (p.type != PatternPart::Type::literal) out.push_back(p.text);
  }
  return out;
}

std::string CommandPattern::head() const {
  std::string out;
  for (const auto& p : parts_) {
    if (p.type != PatternPart::Type::literal) break;
    if (!out.empty()) out += ' ';
    out += p.text;
  }
  return out;
}

std::string CommandPattern::usage() const {
  std::string out;
  for (const auto& p : parts_) {
    if (!out.empty()) out += ' ';
    switch (p.type) {
      case PatternPart::Type::literal: out += p.text; break;
      case PatternPart::Type::choice: {
        std::string list;
        for (const auto& c : p.choices) list += (list.empty() ? "" : "|") + c;
        out += "<" + list + ">";
        break;
      }
      case PatternPart::Type::text: out += "<" + p.text + "...>"; break;
      default: out += "<" + p.text + ">";
    }
  }
  return out;
}

}  // namespace vigie::rules
