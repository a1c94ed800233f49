// Request authentication primitives shared by webhooks and Slack: HMAC-SHA256 and a comparison
// whose time does not depend on where two strings differ (OpenSSL underneath).
#pragma once

#include <string>
#include <string_view>

namespace vigie::net {

// HMAC-SHA256 of `data` with `key`, as lower-case hex.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
// Compares without an early exit, so timing does not reveal how much of a signature matched.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace vigie::net
