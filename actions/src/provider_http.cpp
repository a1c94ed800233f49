// The provider presets' shared HTTP helpers: error bodies to one line, 429 waits, step results.
#include "provider_http.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

namespace vigie::actions::provider {

using nlohmann::json;

std::string one_line(std::string_view text, std::size_t max) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      if (!out.empty() && std::string_view(".!?:;").find(out.back()) == std::string_view::npos)
        out += '.';
      space = !out.empty();
      continue;
    }
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20) continue;
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > max) {
    std::size_t cut = max;
    // Never split a UTF-8 sequence.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "…";
  }
  return out;
}

std::string string_field(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return {};
}

const json& array_field(const json& j, const char* key) {
  static const json empty = json::array();
  if (!j.is_object()) return empty;
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : empty;
}

namespace {

std::string str(const json& j, const char* key) { return string_field(j, key); }

}  // namespace

std::string error_text(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_object()) {
    const std::string message = str(j, "message");
    const std::string id = str(j, "id");
    if (!message.empty()) return one_line(id.empty() ? message : id + ": " + message);
    if (auto detail = str(j, "detail"); !detail.empty()) return one_line(detail);
    if (auto e = j.find("error"); e != j.end()) {
      if (e->is_object() && !str(*e, "title").empty()) return one_line(str(*e, "title"));
      if (e->is_string()) return one_line(e->get<std::string>());
    }
    // An OpenStack fault: one key naming it, holding message and code.
    if (j.size() == 1 && j.begin().value().is_object()) {
      const auto& fault = j.begin().value();
      if (auto m = str(fault, "message"); !m.empty()) return one_line(j.begin().key() + ": " + m);
    }
    // Field errors (Sentry's {"status": ["... is not a valid choice."]}).
    for (const auto& [key, value] : j.items()) {
      if (value.is_array() && !value.empty() && value[0].is_string()) {
        return one_line(key + ": " + value[0].get<std::string>());
      }
    }
  }
  const auto first_line = body.substr(0, body.find('\n'));
  return one_line(first_line, 200);
}

Duration retry_wait(const net::ClientResponse& response, TimePoint now,
                    std::string_view reset_header, Duration fallback) {
  auto number = [](const std::string& text) -> std::optional<std::int64_t> {
    std::int64_t v = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || ptr != end) return std::nullopt;
    return v;
  };
  Duration wait = fallback;
  if (auto ra = response.header("Retry-After"); ra && number(*ra)) {
    wait = saturating_seconds(*number(*ra));
  } else if (!reset_header.empty()) {
    if (auto reset = response.header(reset_header); reset && number(*reset)) {
      wait = saturating_seconds(*number(*reset)) - Duration(to_unix_ms(now));
    }
  }
  // Bounded like every other upstream wait: an absurd header must not park a run for years.
  return std::clamp(wait, Duration(1000), Duration(3'600'000));
}

StepResult transport_failure(std::string_view service, const net::ClientError& error) {
  std::string reason = "cannot reach " + std::string(service) + " (" +
                       std::string(net::client_error_name(error.kind)) +
                       "): " + one_line(error.message);
  if (error.retryable()) return Retry{Duration(0), std::move(reason)};
  return Fail{std::move(reason), {}, {}};
}

StepResult http_failure(std::string_view service, const net::ClientResponse& response,
                        TimePoint now, const FailureHints& hints) {
  const std::string text = error_text(response.body);
  std::string reason = std::string(service) + " answered " + std::to_string(response.status);
  if (!text.empty()) reason += ": " + text;
  if (response.status == 429) {
    const Duration wait = retry_wait(response, now, hints.reset_header, hints.rate_limit_fallback);
    return Retry{wait, reason + " (rate limited: trying again in " + format_duration(wait) + ")"};
  }
  if (response.status >= 500) return Retry{Duration(0), reason};
  if ((response.status == 401 || response.status == 403) && !hints.auth_hint.empty()) {
    reason += " (" + std::string(hints.auth_hint) + ")";
  }
  if (response.status == 404 && !hints.not_found_hint.empty()) {
    reason += " (" + hints.not_found_hint + ")";
  }
  json details{{"status", response.status}};
  return Fail{std::move(reason), {}, std::move(details)};
}

ProviderSecret read_provider_secret(const ProviderSpec& spec, ProviderContext& ctx,
                                    std::string_view option) {
  ProviderSecret out;
  auto ref = spec.options.secret(option);
  if (!ref) {
    out.error = std::string(option) + " is not set";
  } else if (auto value = ctx.secret(*ref, option)) {
    out.value = std::move(*value);
  } else {
    out.error = value.error();
  }
  if (!out.error.empty()) {
    ctx.log.warn("provider unusable until its secret can be read",
                 {{"provider", spec.name}, {"error", out.error}});
  }
  return out;
}

tl::expected<std::string, std::string> required(const ActionOptions& options,
                                                std::string_view name) {
  std::string value = options.string(name);
  if (value.empty()) return tl::unexpected("option '" + std::string(name) + "' is empty");
  return value;
}

tl::expected<net::Url, std::string> endpoint(const std::string& base_url, std::string_view path,
                                             std::string_view option) {
  auto base = net::parse_url(base_url);
  if (!base || (base->scheme != "http" && base->scheme != "https")) {
    return tl::unexpected(std::string(option) + " '" + base_url + "' is not an http(s) URL");
  }
  return net::join(*base, path);
}

}  // namespace vigie::actions::provider
