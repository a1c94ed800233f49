// Generic JSON webhooks: `POST /webhooks/<name>` with one object or an array, mapped to events
// by a [webhooks.<name>] table (kind, id field, time field, source), optionally authenticated by
// an HMAC-SHA256 of the raw body or a shared token. Verification happens before parsing.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "vigie/bus/event.h"
#include "vigie/collectors/alertmanager.h"
#include "vigie/config/options.h"
#include "vigie/core/time.h"

namespace vigie::collectors {

struct WebhookConfig {
  std::string name;
  std::string kind;
  std::string source = "webhook";
  std::string id_field;    // path into the object; empty: a hash of the object
  std::string time_field;  // path; RFC 3339 or epoch seconds; empty: arrival time
  std::optional<std::string> hmac_secret;
  std::string hmac_header = "X-Signature-256";
  std::optional<std::string> shared_secret;

  // From a validated [webhooks.<name>] table; secrets already resolved by the caller.
  static WebhookConfig from_options(std::string name, const config::OptionValues& options,
                                    std::optional<std::string> hmac_secret,
                                    std::optional<std::string> shared_secret);
};

// A webhook name usable in a URL path: letters, digits, '-', '_' (no '/', no '..').
bool valid_webhook_name(std::string_view name);

enum class WebhookAuth { ok, missing, invalid };

// Checks the HMAC header (hex, optional "sha256=" prefix) or the X-Webhook-Token header in
// constant time. `header` looks a request header up by name.
WebhookAuth verify_webhook(const WebhookConfig& cfg, std::string_view body,
                           const std::function<std::optional<std::string>(std::string_view)>& header);

tl::expected<std::vector<bus::Event>, ParseError> parse_webhook(const WebhookConfig& cfg,
                                                               std::string_view body, TimePoint now);

}  // namespace vigie::collectors
