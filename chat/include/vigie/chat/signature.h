// Slack request signing (api-notes 4.2): `v0=` + hex HMAC-SHA256 of "v0:{timestamp}:{raw body}"
// with the app's signing secret; a request older or newer than 5 minutes is refused (replays).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "vigie/core/time.h"

namespace vigie::chat {

inline constexpr Duration kSlackSignatureWindow{5 * 60 * 1000};

// The X-Slack-Signature value Slack would send for this body at this timestamp.
std::string slack_signature(std::string_view signing_secret, std::string_view timestamp, std::string_view body);

enum class SignatureCheck { ok, missing, stale, mismatch };
std::string_view signature_check_name(SignatureCheck c);

// Checks a request's X-Slack-Request-Timestamp and X-Slack-Signature over its raw body, in
// constant time, before anything in the body is parsed.
SignatureCheck verify_slack_signature(std::string_view signing_secret, const std::optional<std::string>& timestamp,
                                      const std::optional<std::string>& signature, std::string_view raw_body,
                                      TimePoint now);

}  // namespace vigie::chat
