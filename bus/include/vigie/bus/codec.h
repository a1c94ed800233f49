// The versioned JSON body of an Event on the bus and in the store's raw column.
// Version 1: {"v":1,"id":..,"source":..,"kind":..,"time":"RFC 3339","received_at":"RFC 3339",
// "attrs":{...}}. A decoder rejects a version it does not know rather than guessing.
#pragma once

#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "vigie/bus/event.h"

namespace vigie::bus {

inline constexpr int kCodecVersion = 1;

struct CodecError {
  std::string message;
};

std::string encode_event(const Event& event);
nlohmann::json event_to_json(const Event& event);
tl::expected<Event, CodecError> decode_event(std::string_view body);
tl::expected<Event, CodecError> event_from_json(const nlohmann::json& body);

}  // namespace vigie::bus
