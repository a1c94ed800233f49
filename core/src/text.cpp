// Edit distance, did-you-mean and join.
#include "vigie/core/text.h"

#include <algorithm>
#include <numeric>

namespace vigie {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

namespace {
template <typename S>
std::string closest(std::string_view word, std::span<const S> candidates) {
  const std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  std::size_t best = limit + 1;
  std::string_view found;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best) {
      best = d;
      found = c;
    }
  }
  return std::string(found);
}

template <typename S>
std::string join_all(std::span<const S> items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}
}  // namespace

std::string closest_match(std::string_view word, std::span<const std::string> candidates) {
  return closest(word, candidates);
}
std::string closest_match(std::string_view word, std::span<const std::string_view> candidates) {
  return closest(word, candidates);
}
std::string join(std::span<const std::string> items, std::string_view sep) {
  return join_all(items, sep);
}
std::string join(std::span<const std::string_view> items, std::string_view sep) {
  return join_all(items, sep);
}

}  // namespace vigie
