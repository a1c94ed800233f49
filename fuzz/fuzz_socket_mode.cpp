// Slack Socket Mode messages as the client reads them off the WebSocket: hello, disconnect and the
// events_api / slash_commands / interactive envelopes, then what both transports share — the
// envelope's request turned into chat events and its receipt.
#include "fuzz_support.h"
#include "vigie/chat/slack_http.h"
#include "vigie/chat/socket_mode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto m = vigie::chat::parse_socket_message(std::string(vigie::fuzz::as_text(data, size)));
  if (m.what != vigie::chat::SocketMessage::What::request) return 0;
  if (m.envelope_id.empty()) __builtin_trap();  // a request is only ever acked by its id
  (void)vigie::chat::inbound_events(m.inbound, vigie::fuzz::fixed_clock().system_now());
  (void)vigie::chat::inbound_receipt(m.inbound);
  return 0;
}
