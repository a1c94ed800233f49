// Slack request signatures.
#include "vigie/chat/signature.h"

#include <charconv>

#include "vigie/net/crypto.h"

namespace vigie::chat {

std::string slack_signature(std::string_view signing_secret, std::string_view timestamp, std::string_view body) {
  std::string base;
  base.reserve(4 + timestamp.size() + body.size());
  base.append("v0:").append(timestamp).append(":").append(body);
  return "v0=" + net::hmac_sha256_hex(signing_secret, base);
}

std::string_view signature_check_name(SignatureCheck c) {
  switch (c) {
    case SignatureCheck::ok: return "ok";
    case SignatureCheck::missing: return "missing signature headers";
    case SignatureCheck::stale: return "timestamp outside the 5-minute window";
    case SignatureCheck::mismatch: return "signature mismatch";
  }
  return "mismatch";
}

SignatureCheck verify_slack_signature(std::string_view signing_secret, const std::optional<std::string>& timestamp,
                                      const std::optional<std::string>& signature, std::string_view raw_body,
                                      TimePoint now) {
  if (!timestamp || !signature || timestamp->empty() || signature->empty()) return SignatureCheck::missing;
  std::int64_t seconds = 0;
  const auto* end = timestamp->data() + timestamp->size();
  auto [ptr, ec] = std::from_chars(timestamp->data(), end, seconds);
  if (ec != std::errc() || ptr != end) return SignatureCheck::stale;
  const std::int64_t now_s = to_unix_ms(now) / 1000;
  const std::int64_t window_s = kSlackSignatureWindow.count() / 1000;
  if (seconds < now_s - window_s || seconds > now_s + window_s) return SignatureCheck::stale;
  const std::string expected = slack_signature(signing_secret, *timestamp, raw_body);
  return net::constant_time_equal(expected, *signature) ? SignatureCheck::ok : SignatureCheck::mismatch;
}

}  // namespace vigie::chat
