// Slack request signatures: Slack's documented test vector, the 5-minute window both ways, a body
// changed by one byte, missing headers.
#include <catch2/catch.hpp>

#include "vigie/chat/signature.h"

using namespace vigie;
using namespace vigie::chat;

namespace {
// From Slack's documentation (api-notes 4.2).
const std::string kSecret = "8f742231b10e8888abcd99yyyzzz85a5";
const std::string kTimestamp = "1531420618";
const std::string kBody =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar"
    "&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack."
    "com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    "803a0bc887a14d10d2c447fce8b6703c";
const std::string kSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const TimePoint kThen = from_unix_ms(1531420618LL * 1000);
}  // namespace

TEST_CASE("Slack's documented test vector signs and verifies") {
  CHECK(slack_signature(kSecret, kTimestamp, kBody) == kSignature);
  CHECK(verify_slack_signature(kSecret, kTimestamp, kSignature, kBody, kThen + std::chrono::seconds(10)) ==
        SignatureCheck::ok);
}

TEST_CASE("a request outside 5 minutes either way is stale, however well signed") {
  CHECK(verify_slack_signature(kSecret, kTimestamp, kSignature, kBody, kThen + std::chrono::seconds(300)) ==
        SignatureCheck::ok);
  CHECK(verify_slack_signature(kSecret, kTimestamp, kSignature, kBody, kThen + std::chrono::seconds(301)) ==
        SignatureCheck::stale);
  CHECK(verify_slack_signature(kSecret, kTimestamp, kSignature, kBody, kThen - std::chrono::seconds(301)) ==
        SignatureCheck::stale);
  CHECK(verify_slack_signature(kSecret, std::string("15314x0618"), kSignature, kBody, kThen) == SignatureCheck::stale);
}

TEST_CASE("a changed body, secret or signature is a mismatch, missing headers are missing") {
  std::string body = kBody;
  body[body.size() - 1] = 'd';
  CHECK(verify_slack_signature(kSecret, kTimestamp, kSignature, body, kThen) == SignatureCheck::mismatch);
  CHECK(verify_slack_signature("another-secret", kTimestamp, kSignature, kBody, kThen) == SignatureCheck::mismatch);
  CHECK(verify_slack_signature(kSecret, kTimestamp, std::string("v0=00"), kBody, kThen) == SignatureCheck::mismatch);
  CHECK(verify_slack_signature(kSecret, std::nullopt, kSignature, kBody, kThen) == SignatureCheck::missing);
  CHECK(verify_slack_signature(kSecret, kTimestamp, std::nullopt, kBody, kThen) == SignatureCheck::missing);
}
