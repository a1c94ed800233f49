// The bus codec: any body must decode or be refused; what decodes must survive a round trip
// unchanged (the engine and the store rely on it).
#include <cstdlib>

#include "fuzz_support.h"
#include "vigie/bus/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto e = vigie::bus::decode_event(vigie::fuzz::as_text(data, size));
  if (!e) return 0;
  auto again = vigie::bus::decode_event(vigie::bus::encode_event(*e));
  if (!again || again->id != e->id || again->kind != e->kind || again->source != e->source ||
      again->time != e->time || again->attrs != e->attrs) {
    std::abort();  // a stored or forwarded event would not be the event received
  }
  return 0;
}
