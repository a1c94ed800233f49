// NewRelic REST v2 (violations, applications, Link pagination) and NerdGraph NRQL answers as the
// collector reads them (api-notes section 1): one canned answer serves both APIs, since a
// collector with a [[query]] asks both in one poll.
#include "fuzz_upstream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vigie::fuzz::poll_collector("newrelic",
                              "base_url = \"https://api.newrelic.example\"\naccount_id = 1234567\n"
                              "[[query]]\nname = \"errors\"\nnrql = \"SELECT count(*) FROM "
                              "TransactionError FACET appName\"\n",
                              {{"api_key", "fuzz-key"}}, vigie::fuzz::as_text(data, size));
  return 0;
}
