// Diagnostics: every problem a loader finds, collected (never thrown) and printed as
// `file:line:col: error: message [code]` with the source line and a caret, or as JSON.
// Lines and columns are 1-based everywhere; 0 means "no position" (an I/O error, say).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vigie::config {

struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
  bool operator==(const SourcePos&) const = default;
};

enum class Severity { error, warning };

// A message template with its stable code. Tests assert on the code and on the text built from
// the template, so wording lives in one place (messages.h, rules/messages.h).
struct Message {
  std::string_view code;
  std::string_view text;  // fmt-style placeholders: "unknown key '{}'"
};

struct Diagnostic {
  Severity severity = Severity::error;
  std::string code;
  std::string message;
  SourcePos pos;
  std::vector<std::string> notes;  // "did you mean 'listen'?", context lines
  bool operator==(const Diagnostic&) const = default;
};

class Diagnostics {
 public:
  // Registers a file's text so rendering can show the offending line.
  void add_source(const std::string& file, std::string text);

  void add(Diagnostic d);
  void error(SourcePos pos, std::string_view code, std::string message,
             std::vector<std::string> notes = {});
  void warning(SourcePos pos, std::string_view code, std::string message,
               std::vector<std::string> notes = {});
  void merge(const Diagnostics& other);

  bool has_errors() const { return errors_ > 0; }
  std::size_t error_count() const { return errors_; }
  std::size_t warning_count() const { return items_.size() - errors_; }
  const std::vector<Diagnostic>& items() const { return items_; }
  // Stable order for printing: by file, line, column, then insertion order.
  std::vector<Diagnostic> sorted() const;

  // Every diagnostic: `file:line:col: error: message [code]`, the source line, a caret under the
  // column, then each note as `  note: ...`.
  std::string render_text() const;
  // {"errors":N,"warnings":M,"diagnostics":[{"file","line","column","severity","code","message",
  // "notes"}]}
  nlohmann::json to_json() const;
  std::string source_line(const std::string& file, int line) const;

 private:
  std::vector<Diagnostic> items_;
  std::size_t errors_ = 0;
  std::map<std::string, std::string> sources_;
};

std::string_view severity_name(Severity s);
// "file:line:col" (or "file" when there is no position).
std::string format_pos(const SourcePos& pos);

}  // namespace vigie::config
