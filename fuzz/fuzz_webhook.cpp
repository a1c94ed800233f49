// Generic JSON webhooks: the HMAC / token check on the raw body, then the mapping of one object
// or an array to events by id and time fields (RFC 3339 or epoch seconds).
#include "fuzz_support.h"
#include "vigie/collectors/webhook.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto body = vigie::fuzz::as_text(data, size);
  static vigie::collectors::WebhookConfig by_fields = [] {
    vigie::collectors::WebhookConfig c;
    c.name = "deploys";
    c.kind = "deploy.finished";
    c.id_field = "deploy.id";
    c.time_field = "finished_at";
    c.hmac_secret = "fuzz-secret";
    return c;
  }();
  static vigie::collectors::WebhookConfig by_hash = [] {
    vigie::collectors::WebhookConfig c;
    c.name = "any";
    c.kind = "webhook.any";
    c.shared_secret = "token";
    return c;
  }();
  // The first line of the input stands for the signature header.
  const auto nl = body.find('\n');
  const std::string header(body.substr(0, nl == std::string_view::npos ? 0 : nl));
  auto lookup = [&](std::string_view) -> std::optional<std::string> { return header; };
  (void)vigie::collectors::verify_webhook(by_fields, body, lookup);
  (void)vigie::collectors::verify_webhook(by_hash, body, lookup);
  (void)vigie::collectors::valid_webhook_name(header);
  const auto now = vigie::fuzz::fixed_clock().system_now();
  (void)vigie::collectors::parse_webhook(by_fields, body, now);
  (void)vigie::collectors::parse_webhook(by_hash, body, now);
  return 0;
}
