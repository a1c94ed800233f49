// Logging: key=value lines naming the component, and secrets redacted whatever path they take.
#include <catch2/catch.hpp>

#include <sstream>

#include "vigie/core/log.h"

using namespace vigie;

namespace {
constexpr const char* kPlanted = "xoxb-PLANTED-7f3a9c2e51";
}

TEST_CASE("lines name the component and quote values that need it") {
  std::ostringstream out;
  Logging logging(LogLevel::info, std::make_shared<SecretRegistry>(), out);
  logging.logger("collector:sentry.main").info("poll done", {{"events", 12}, {"query", "is:unresolved level:error"}});
  logging.flush();
  const std::string line = out.str();
  CHECK(line.find(" info [collector:sentry.main] poll done events=12 "
                  "query=\"is:unresolved level:error\"") != std::string::npos);
}

TEST_CASE("a registered secret never appears in a log line") {
  std::ostringstream out;
  auto secrets = std::make_shared<SecretRegistry>();
  Logging logging(LogLevel::debug, secrets, out);
  secrets->add(kPlanted);
  auto log = logging.logger("slack");
  log.error(std::string("auth failed for token ") + kPlanted);
  log.warn("request", {{"authorization", std::string("Bearer ") + kPlanted}});
  log.info("echo", {{"body", std::string("{\"token\":\"") + kPlanted + "\"}"}});
  log.debug("nested", {{"x", std::string("a") + kPlanted + kPlanted + "b"}});
  logging.flush();
  const std::string all = out.str();
  CHECK(all.find(kPlanted) == std::string::npos);
  CHECK(all.find("PLANTED") == std::string::npos);
  CHECK(all.find("Bearer [redacted]") != std::string::npos);
}

TEST_CASE("levels below the configured one are not written") {
  std::ostringstream out;
  Logging logging(LogLevel::warn, std::make_shared<SecretRegistry>(), out);
  logging.logger("x").info("quiet");
  logging.logger("x").warn("loud");
  logging.flush();
  CHECK(out.str().find("quiet") == std::string::npos);
  CHECK(out.str().find("loud") != std::string::npos);
}

TEST_CASE("redaction replaces the longest secret first and ignores trivially short values") {
  SecretRegistry secrets;
  secrets.add("abcd");
  secrets.add("abcdefgh");
  secrets.add("xy");  // too short to be a credential: would garble every line
  CHECK(secrets.size() == 2);
  CHECK(secrets.redact("k=abcdefgh j=abcd xy") == "k=[redacted] j=[redacted] xy");
}
