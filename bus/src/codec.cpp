// Versioned JSON codec for events.
#include "vigie/bus/codec.h"

#include "vigie/core/text.h"

namespace vigie::bus {
namespace {

tl::unexpected<CodecError> fail(std::string message) {
  return tl::unexpected(CodecError{std::move(message)});
}

}  // namespace

nlohmann::json event_to_json(const Event& e) {
  return nlohmann::json{{"v", kCodecVersion},
                        {"id", e.id},
                        {"source", e.source},
                        {"kind", e.kind},
                        {"time", format_rfc3339(e.time)},
                        {"received_at", format_rfc3339(e.received_at)},
                        {"attrs", e.attrs}};
}

std::string encode_event(const Event& e) {
  // Invalid UTF-8 from an upstream is replaced rather than throwing on the hot path.
  return event_to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

tl::expected<Event, CodecError> event_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return fail("event body is not a JSON object");
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer()) return fail("event body has no version field 'v'");
  if (v->get<int>() != kCodecVersion) {
    return fail("unsupported event body version " + std::to_string(v->get<long long>()) +
                " (this build reads version " + std::to_string(kCodecVersion) + ")");
  }
  Event e;
  for (auto [name, field] : {std::pair{"id", &e.id}, {"source", &e.source}, {"kind", &e.kind}}) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) {
      return fail(std::string("event field '") + name + "' is missing or not a string");
    }
    *field = it->get<std::string>();
  }
  if (e.id.empty()) return fail("event field 'id' is empty");
  if (e.kind.empty()) return fail("event field 'kind' is empty");
  for (auto [name, field] : {std::pair{"time", &e.time}, {"received_at", &e.received_at}}) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) {
      return fail(std::string("event field '") + name + "' is missing or not a string");
    }
    auto t = parse_rfc3339(it->get_ref<const std::string&>());
    if (!t) return fail(std::string("event field '") + name + "' is not an RFC 3339 time");
    *field = *t;
  }
  auto attrs = j.find("attrs");
  if (attrs == j.end()) {
    e.attrs = nlohmann::json::object();
  } else if (attrs->is_object()) {
    e.attrs = *attrs;
  } else {
    return fail("event field 'attrs' is not an object");
  }
  return e;
}

tl::expected<Event, CodecError> decode_event(std::string_view body) {
  // +2: the body object and attrs around the attributes' own nesting.
  if (json_nesting_depth(body) > kMaxJsonDepth + 2) return fail("event body is nested too deeply");
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail("event body is not valid JSON");
  return event_from_json(j);
}

}  // namespace vigie::bus
