// RFC 8288 Link headers as NewRelic and Sentry send them, for pagination.
#include <string>

#include "vigie/collectors/collector.h"

namespace vigie::collectors {
namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

}  // namespace

std::optional<std::string> link_with_rel(const std::string& header, std::string_view rel, bool require_results_true) {
  // Links are "<url>; k=v; k="v", <url>; ...": split on the '<' that starts each one, since a
  // URL may itself contain commas.
  std::size_t at = header.find('<');
  while (at != std::string::npos) {
    const auto close = header.find('>', at);
    if (close == std::string::npos) return std::nullopt;
    const std::string url = header.substr(at + 1, close - at - 1);
    const auto next = header.find('<', close);
    const std::string params = header.substr(close + 1, next == std::string::npos ? std::string::npos : next - close - 1);
    bool rel_ok = false;
    bool results_ok = !require_results_true;
    std::size_t p = 0;
    while (p < params.size()) {
      auto semi = params.find(';', p);
      std::string part = trim(params.substr(p, semi == std::string::npos ? std::string::npos : semi - p));
      while (!part.empty() && part.back() == ',') part = trim(part.substr(0, part.size() - 1));
      const auto eq = part.find('=');
      if (eq != std::string::npos) {
        const std::string key = trim(part.substr(0, eq));
        std::string value = trim(part.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        if (key == "rel" && value == rel) rel_ok = true;
        if (key == "results" && value == "true") results_ok = true;
      }
      if (semi == std::string::npos) break;
      p = semi + 1;
    }
    if (rel_ok && results_ok) return url;
    at = next;
  }
  return std::nullopt;
}

}  // namespace vigie::collectors
