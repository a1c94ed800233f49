// Sentry's issue listings and issue lookups as the collector reads them (api-notes section 2):
// items with `count` as a string, Link pagination with results="true", 429 with
// X-Sentry-Rate-Limit-*, error bodies; and the collector's cursor of last-seen states.
#include "fuzz_upstream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vigie::fuzz::poll_collector("sentry",
                              "base_url = \"https://sentry.example\"\norganization = \"acme\"\n",
                              {{"token", "fuzz-token"}}, vigie::fuzz::as_text(data, size));
  return 0;
}
