// Every user-facing message of the configuration loader, with its stable code. Tests assert on
// these constants; change wording here and nowhere else. Style: lower case, no final period, name
// the key and what is allowed.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "vigie/config/diagnostics.h"

namespace vigie::config {

// Replaces each "{}" in the message text by the next argument.
std::string fmt_message(const Message& m, std::initializer_list<std::string_view> args);
template <typename... Args>
std::string fmt_message(const Message& m, const Args&... args) {
  return fmt_message(m, {std::string_view(args)...});
}

inline constexpr Message kFileUnreadable{"io", "cannot read file '{}'"};
inline constexpr Message kTomlSyntax{"toml-syntax", "TOML syntax error: {}"};
inline constexpr Message kUnknownKey{"unknown-key", "unknown key '{}' in {}"};
inline constexpr Message kUnknownSection{"unknown-section", "unknown section '{}'"};
inline constexpr Message kWrongType{"wrong-type", "'{}' must be {}, not {}"};
inline constexpr Message kMissingKey{"missing-key", "missing required key '{}' in {}"};
inline constexpr Message kBadDuration{
    "bad-duration", "'{}' is not a duration: '{}' (write a number and a unit: ms, s, m, h, d, w)"};
inline constexpr Message kBadEnum{"bad-value", "'{}' must be one of {}, not '{}'"};
inline constexpr Message kBadAddress{"bad-address", "'{}' must be host:port, not '{}'"};
inline constexpr Message kBadUrl{"bad-url", "'{}' must be an http:// or https:// URL, not '{}'"};
inline constexpr Message kBadBusEndpoint{
    "bad-endpoint", "'{}' must be a tcp://host:port endpoint, not '{}'"};
inline constexpr Message kOutOfRange{"out-of-range", "'{}' must be {}, not {}"};
inline constexpr Message kInlineSecret{
    "inline-secret",
    "'{}' must not hold a secret inline: use '{}_env' (an environment variable) or '{}_file'"};
inline constexpr Message kSecretBothSources{
    "secret-conflict", "'{}_env' and '{}_file' are both set: keep one"};
inline constexpr Message kSecretMissing{
    "missing-secret", "missing secret '{}' in {}: set '{}_env' or '{}_file'"};
inline constexpr Message kSecretEnvUnset{
    "secret-unavailable", "environment variable '{}' named by '{}' is not set"};
inline constexpr Message kSecretFileUnreadable{
    "secret-unavailable", "secret file '{}' named by '{}' cannot be read"};
inline constexpr Message kSecretEmpty{"secret-unavailable", "secret from '{}' is empty"};
inline constexpr Message kMissingType{"missing-key", "missing required key 'type' in {}"};
inline constexpr Message kUnknownKind{"unknown-kind", "unknown {} type '{}'"};
inline constexpr Message kBadGlob{"bad-glob", "'rules' entry '{}' must be a relative or absolute glob"};
inline constexpr Message kNoRuleFiles{"no-rule-files", "'rules' pattern '{}' matches no file"};
inline constexpr Message kEmptyList{"empty-list", "'{}' must not be empty"};
inline constexpr Message kUnknownRole{"unknown-role", "unknown role '{}'"};
inline constexpr Message kBadRoleMember{
    "bad-role-member",
    "role '{}' member '{}' must be a Slack user id (U…/W…), a channel id (#C…) or a user group handle (@name)"};

// Notes attached to diagnostics.
inline constexpr Message kNoteDidYouMean{"", "did you mean '{}'?"};
inline constexpr Message kNoteValidKeys{"", "valid keys: {}"};
inline constexpr Message kNoteValidKinds{"", "known types: {}"};

}  // namespace vigie::config
