// What the upstream-parser targets share: an HttpClient that answers every request with the
// fuzzer's bytes, so a collector or a provider action runs its whole request → parse path (status,
// headers such as Link and Retry-After, body) without a network. Input format, lenient: the first
// line "<status> <Header-Name>: <value>" (either part may be missing; status defaults to 200),
// then the body; an input with no newline is all body.
#pragma once

#include <charconv>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "vigie/collectors/collector.h"
#include "vigie/collectors/kinds.h"
#include "vigie/config/diagnostics.h"
#include "vigie/config/options.h"
#include "vigie/config/toml_tree.h"
#include "vigie/net/http_client.h"

namespace vigie::fuzz {

class CannedHttp final : public net::HttpClient {
 public:
  explicit CannedHttp(std::string_view input) {
    const auto nl = input.find('\n');
    if (nl == std::string_view::npos) {
      answer_.status = 200;
      answer_.body = std::string(input);
      return;
    }
    std::string_view line = input.substr(0, nl);
    answer_.body = std::string(input.substr(nl + 1));
    int status = 200;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), status);
    if (ec == std::errc() && status >= 100 && status <= 599)
      line.remove_prefix(static_cast<std::size_t>(end - line.data()));
    answer_.status = ec == std::errc() && status >= 100 && status <= 599 ? status : 200;
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (const auto colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      answer_.headers[std::string(line.substr(0, colon))] = std::string(value);
    }
  }

  // The same answer up to `max_calls` times (pagination follows it), then a timeout.
  tl::expected<net::ClientResponse, net::ClientError> send(const net::ClientRequest&) override {
    if (++calls_ > kMaxCalls)
      return tl::unexpected(net::ClientError{net::ClientErrorKind::timeout, "fuzz: enough"});
    return answer_;
  }

 private:
  static constexpr int kMaxCalls = 6;
  net::ClientResponse answer_;
  int calls_ = 0;
};

// A collector of `type` from its [collectors.x] options as TOML text, validated as vigie.toml's
// would be (built once per target), polled three times on `input`: first start, then from the
// cursor the first poll returned, then from the input itself taken as a stored cursor.
inline void poll_collector(std::string_view type, const char* toml,
                           const std::map<std::string, std::string>& secrets,
                           std::string_view input) {
  static config::OptionValues options = [&] {
    config::KindCatalog kinds;
    collectors::register_builtin_collectors(kinds);
    config::Diagnostics d;
    auto tree = config::parse_toml(toml, "fuzz.toml", d);
    const std::string_view ignore[] = {"type"};
    return config::validate_options(*tree, *kinds.find(type)->options, "[collectors.fuzz]", d,
                                    ignore);
  }();
  auto& clock = fixed_clock();
  std::optional<std::string> cursor;
  for (int round = 0; round < 3; ++round) {
    CannedHttp http(input);
    auto c = collectors::collector_factory(type)({"fuzz", std::string(type), options, secrets},
                                                 http, quiet_logging().logger("fuzz"));
    if (!c) __builtin_trap();  // the options above are valid: a refusal is a bug of the target
    if (round == 2) cursor = std::string(input);
    auto r = (*c)->poll({cursor, clock.system_now(), Duration{20'000}});
    if (round == 0) cursor = r.cursor;
  }
}

}  // namespace vigie::fuzz
