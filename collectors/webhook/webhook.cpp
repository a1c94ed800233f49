// Generic webhooks → events, with HMAC or token verification.
#include "vigie/collectors/webhook.h"

#include "vigie/net/crypto.h"
#include "vigie/core/text.h"


#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <charconv>
#include <cstdio>
#include <functional>

namespace vigie::collectors {
namespace {

using nlohmann::json;

tl::unexpected<ParseError> fail(std::string error, std::string detail) {
  return tl::unexpected(ParseError{std::move(error), std::move(detail)});
}

const json* at_path(const json& object, std::string_view path) {
  const json* node = &object;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto dot = path.find('.', start);
    const std::string key(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (!node->is_object()) return nullptr;
    auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return node;
}

std::string fnv_hex(std::string_view s) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

tl::expected<bus::Event, ParseError> to_event(const WebhookConfig& cfg, const json& item,
                                              std::size_t index, TimePoint now) {
  const std::string where = "item " + std::to_string(index);
  if (!item.is_object()) return fail("invalid body", where + " is not a JSON object");
  bus::Event e;
  e.source = cfg.source;
  e.kind = cfg.kind;
  e.received_at = now;
  e.time = now;
  if (!cfg.id_field.empty()) {
    const json* id = at_path(item, cfg.id_field);
    if (!id || !(id->is_string() || id->is_number_integer() || id->is_number_unsigned())) {
      return fail("missing id", where + " has no string or integer '" + cfg.id_field + "'");
    }
    e.id = cfg.name + ":" + (id->is_string() ? id->get<std::string>() : id->dump());
  } else {
    e.id = cfg.name + ":" + fnv_hex(item.dump());
  }
  if (!cfg.time_field.empty()) {
    const json* t = at_path(item, cfg.time_field);
    if (t && t->is_string()) {
      auto parsed = parse_rfc3339(t->get<std::string>());
      if (!parsed) return fail("invalid time", where + " '" + cfg.time_field + "' is not an RFC 3339 time");
      e.time = *parsed;
    } else if (t && t->is_number()) {
      // Epoch seconds; beyond ±1e12 s (31 000 years) the conversion to milliseconds would
      // overflow, which is undefined behaviour for a double.
      const double seconds = t->get<double>();
      if (!(std::abs(seconds) <= 1e12)) {
        return fail("invalid time", where + " '" + cfg.time_field + "' is out of range as epoch seconds");
      }
      e.time = from_unix_ms(static_cast<std::int64_t>(seconds * 1000));
    } else if (t) {
      return fail("invalid time", where + " '" + cfg.time_field + "' is neither a time string nor epoch seconds");
    }
  }
  e.attrs = item;
  return e;
}

}  // namespace

WebhookConfig WebhookConfig::from_options(std::string name, const config::OptionValues& options,
                                          std::optional<std::string> hmac_secret,
                                          std::optional<std::string> shared_secret) {
  WebhookConfig c;
  c.name = std::move(name);
  c.kind = options.string("kind");
  c.source = options.string("source", "webhook");
  c.id_field = options.string("id");
  c.time_field = options.string("time");
  c.hmac_header = options.string("hmac_header", "X-Signature-256");
  c.hmac_secret = std::move(hmac_secret);
  c.shared_secret = std::move(shared_secret);
  return c;
}

bool valid_webhook_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

WebhookAuth verify_webhook(const WebhookConfig& cfg, std::string_view body,
                           const std::function<std::optional<std::string>(std::string_view)>& header) {
  if (cfg.hmac_secret) {
    auto sig = header(cfg.hmac_header);
    if (!sig) return WebhookAuth::missing;
    std::string_view given = *sig;
    if (given.substr(0, 7) == "sha256=") given.remove_prefix(7);
    std::string lower(given);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!net::constant_time_equal(lower, net::hmac_sha256_hex(*cfg.hmac_secret, body))) return WebhookAuth::invalid;
  }
  if (cfg.shared_secret) {
    auto token = header("X-Webhook-Token");
    if (!token) return WebhookAuth::missing;
    if (!net::constant_time_equal(*token, *cfg.shared_secret)) return WebhookAuth::invalid;
  }
  return WebhookAuth::ok;
}

tl::expected<std::vector<bus::Event>, ParseError> parse_webhook(const WebhookConfig& cfg,
                                                               std::string_view body, TimePoint now) {
  if (json_nesting_depth(body) > kMaxJsonDepth) {
    return fail("invalid body", "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return fail("malformed JSON", "the body is not valid JSON");
  std::vector<bus::Event> out;
  if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      auto e = to_event(cfg, j[i], i, now);
      if (!e) return tl::unexpected(e.error());
      out.push_back(std::move(*e));
    }
  } else {
    auto e = to_event(cfg, j, 0, now);
    if (!e) return tl::unexpected(e.error());
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace vigie::collectors
