// Papertrail's log search answers as the collector reads them (api-notes section 3): events with
// 64-bit ids as strings or numbers, min_id/max_id, reached_* flags, X-Rate-Limit-* and error
// bodies; and the collector's cursor.
#include "fuzz_upstream.h"
#include "vigie/collectors/papertrail.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = vigie::fuzz::as_text(data, size);
  vigie::fuzz::poll_collector("papertrail",
                              "base_url = \"https://papertrail.example\"\nquery = \"error\"\n",
                              {{"token", "fuzz-token"}}, input);
  (void)vigie::collectors::parse_papertrail_page(input);
  return 0;
}
