// Diagnostics collection and rendering (text with snippet and caret, JSON).
#include "vigie/config/diagnostics.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace vigie::config {

std::string_view severity_name(Severity s) { return s == Severity::error ? "error" : "warning"; }

std::string format_pos(const SourcePos& pos) {
  std::string out = pos.file;
  if (pos.line > 0) {
    out += ':' + std::to_string(pos.line);
    if (pos.column > 0) out += ':' + std::to_string(pos.column);
  }
  return out;
}

void Diagnostics::add_source(const std::string& file, std::string text) {
  sources_[file] = std::move(text);
}

void Diagnostics::add(Diagnostic d) {
  if (d.severity == Severity::error) ++errors_;
  items_.push_back(std::move(d));
}

void Diagnostics::error(SourcePos pos, std::string_view code, std::string message,
                        std::vector<std::string> notes) {
  add({Severity::error, std::string(code), std::move(message), std::move(pos), std::move(notes)});
}

void Diagnostics::warning(SourcePos pos, std::string_view code, std::string message,
                          std::vector<std::string> notes) {
  add({Severity::warning, std::string(code), std::move(message), std::move(pos),
       std::move(notes)});
}

void Diagnostics::merge(const Diagnostics& other) {
  for (const auto& d : other.items_) add(d);
  for (const auto& [file, text] : other.sources_) sources_.emplace(file, text);
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = items_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.pos.file, a.pos.line, a.pos.column) <
           std::tie(b.pos.file, b.pos.line, b.pos.column);
  });
  return out;
}

std::string Diagnostics::source_line(const std::string& file, int line) const {
  auto it = sources_.find(file);
  if (it == sources_.end() || line <= 0) return {};
  const std::string& text = it->second;
  std::size_t start = 0;
  for (int l = 1; l < line; ++l) {
    start = text.find('\n', start);
    if (start == std::string::npos) return {};
    ++start;
  }
  std::size_t end = text.find('\n', start);
  std::string out = text.substr(start, end == std::string::npos ? end : end - start);
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return out;
}

std::string Diagnostics::render_text() const {
  std::string out;
  for (const auto& d : sorted()) {
    out += format_pos(d.pos);
    out += ": ";
    out += severity_name(d.severity);
    out += ": ";
    out += d.message;
    if (!d.code.empty()) out += " [" + d.code + "]";
    out += '\n';
    const std::string line = source_line(d.pos.file, d.pos.line);
    if (!line.empty()) {
      out += "  " + line + '\n';
      if (d.pos.column > 0) {
        // Tabs stay tabs so the caret lines up under the same column in a terminal.
        std::string pad;
        for (int i = 0; i < d.pos.column - 1 && i < static_cast<int>(line.size()); ++i) {
          pad += line[static_cast<std::size_t>(i)] == '\t' ? '\t' : ' ';
        }
        out += "  " + pad + "^\n";
      }
    }
    for (const auto& n : d.notes) out += "  note: " + n + '\n';
  }
  return out;
}

nlohmann::json Diagnostics::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : sorted()) {
    list.push_back({{"file", d.pos.file},
                    {"line", d.pos.line},
                    {"column", d.pos.column},
                    {"severity", severity_name(d.severity)},
                    {"code", d.code},
                    {"message", d.message},
                    {"notes", d.notes}});
  }
  return {{"errors", error_count()}, {"warnings", warning_count()}, {"diagnostics", list}};
}

}  // namespace vigie::config
