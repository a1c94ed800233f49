// Alertmanager bodies (POST /api/v2/alerts and the version-4 webhook): labels, annotations,
// times (zero times, endsAt in the past), fingerprints. Untrusted: anything Prometheus or a
// stranger posts.
#include "fuzz_support.h"
#include "vigie/collectors/alertmanager.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto body = vigie::fuzz::as_text(data, size);
  const auto now = vigie::fuzz::fixed_clock().system_now();
  (void)vigie::collectors::parse_alertmanager_alerts(body, now);
  (void)vigie::collectors::parse_alertmanager_webhook(body, now);
  return 0;
}
