// Slack's HTTP endpoints: the signature gate over the raw body, then Events API JSON, slash
// command forms and interactive `payload=` forms, and the events they become. The input is signed
// with the test secret so the fuzzer reaches the parsers behind the gate; a second pass sends it
// with a forged signature, which must be refused.
#include <cstdlib>

#include "fuzz_support.h"
#include "vigie/chat/signature.h"
#include "vigie/chat/slack_http.h"
#include "vigie/net/http.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const char* kPaths[] = {"/slack/events", "/slack/commands", "/slack/interactive"};
  static const char* kTypes[] = {"application/json", "application/x-www-form-urlencoded",
                                 "application/x-www-form-urlencoded"};
  auto& clock = vigie::fuzz::fixed_clock();
  static vigie::chat::SlackHttpEndpoints endpoints("8f742231b10e8888abcd99yyyzzz85a5", clock,
                                                   vigie::fuzz::quiet_logging().logger("slack"));
  const int route = data[0] % 3;
  vigie::net::HttpRequest req;
  req.method = "POST";
  req.path = req.target = kPaths[route];
  req.body = std::string(vigie::fuzz::as_text(data + 1, size - 1));
  req.headers["Content-Type"] = kTypes[route];
  const std::string ts = std::to_string(vigie::to_unix_ms(clock.system_now()) / 1000);
  req.headers["X-Slack-Request-Timestamp"] = ts;
  req.headers["X-Slack-Signature"] = vigie::chat::slack_signature("8f742231b10e8888abcd99yyyzzz85a5", ts, req.body);
  if (data[0] & 4) req.headers["X-Slack-Retry-Num"] = "1";
  auto signed_outcome = endpoints.handle(req);
  if (!signed_outcome) std::abort();  // one of Slack's paths: always answered

  req.headers["X-Slack-Signature"] = "v0=" + std::string(64, '0');
  auto forged = endpoints.handle(req);
  if (!forged || forged->response.status != 401 || !forged->events.empty()) std::abort();  // never let it through
  (void)vigie::net::parse_form(req.body);
  return 0;
}
