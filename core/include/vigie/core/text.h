// Small text helpers shared by the loaders and the chat: edit distance for did-you-mean hints.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigie {

// Edit distance: insert, delete, substitute and swap of neighbours, each cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a likely typo (distance at most
// a third of the word's length, and at least 1 for short words); empty otherwise.
std::string closest_match(std::string_view word, std::span<const std::string> candidates);
std::string closest_match(std::string_view word, std::span<const std::string_view> candidates);

// Deepest nesting of arrays and objects in JSON text (brackets inside strings do not count), in
// one pass without parsing. Checked before parsing untrusted bodies: JSON libraries copy, print
// and free nested values recursively, so a body of a million '[' would exhaust the stack.
std::size_t json_nesting_depth(std::string_view text);

// The nesting accepted in event bodies and attributes.
inline constexpr std::size_t kMaxJsonDepth = 64;

// "a, b, c"
std::string join(std::span<const std::string> items, std::string_view sep = ", ");
std::string join(std::span<const std::string_view> items, std::string_view sep = ", ");

}  // namespace vigie
