// Maps an offset inside a TOML string's decoded content back to the file's line and column.
#include <algorithm>
#include <charconv>

#include "vigie/config/toml_tree.h"

namespace vigie::config {

SourcePos locate_in_string(const Diagnostics& sources, const SourcePos& value_pos,
                           std::size_t offset) {
  const std::string line_text = sources.source_line(value_pos.file, value_pos.line);
  if (line_text.empty() || value_pos.column < 1) return value_pos;

  int line = value_pos.line;
  std::size_t i = static_cast<std::size_t>(value_pos.column - 1);  // at the opening quote
  std::string current = line_text;
  auto next_line = [&]() -> bool {
    ++line;
    current = sources.source_line(value_pos.file, line);
    i = 0;
    // source_line returns "" both for an empty line and past the end: the caller stops on the
    // closing delimiter before running off the file, so an empty line here is a real one.
    return true;
  };
  if (i >= current.size()) return value_pos;

  const char quote = current[i];
  if (quote != '"' && quote != '\'') return value_pos;
  const bool literal = quote == '\'';
  const bool multi = current.compare(i, 3, std::string(3, quote)) == 0;
  i += multi ? 3 : 1;
  if (multi && i >= current.size()) next_line();  // TOML trims a newline right after '''/"""

  std::size_t decoded = 0;
  for (;;) {
    if (i >= current.size()) {
      if (!multi) break;
      if (decoded == offset) return SourcePos{value_pos.file, line, static_cast<int>(i) + 1};
      ++decoded;  // the newline itself is one byte of content
      next_line();
      continue;
    }
    if (decoded >= offset) return SourcePos{value_pos.file, line, static_cast<int>(i) + 1};
    const char c = current[i];
    if (!literal && c == '\\' && i + 1 < current.size()) {
      const char e = current[i + 1];
      if (e == 'u' || e == 'U') {
        const std::size_t digits = e == 'u' ? 4 : 8;
        // A \uXXXX escape decodes to 1-4 UTF-8 bytes; count them so later offsets stay right.
        unsigned long cp = 0;
        const char* first = current.data() + std::min(current.size(), i + 2);
        const char* last = current.data() + std::min(current.size(), i + 2 + digits);
        std::from_chars(first, last, cp, 16);
        decoded += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        i += 2 + digits;
      } else {
        decoded += 1;
        i += 2;
      }
      continue;
    }
    if (!literal && multi && c == '\\' && i + 1 >= current.size()) {
      // Line-ending backslash: the newline and the next line's leading blanks are dropped.
      next_line();
      while (i < current.size() && (current[i] == ' ' || current[i] == '\t')) ++i;
      continue;
    }
    ++decoded;
    ++i;
  }
  return SourcePos{value_pos.file, line, static_cast<int>(i) + 1};
}

}  // namespace vigie::config
