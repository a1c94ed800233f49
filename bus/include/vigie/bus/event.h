// Event: the one value type that flows through Vigie. Everything a source reports, every chat
// command and every alert transition is an Event; rules address its fields by path.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vigie/core/time.h"

namespace vigie::bus {

struct Event {
  std::string id;      // stable and source-derived: the dedup key
  std::string source;  // newrelic, sentry, papertrail, webhook, slack, alertmanager, vigie
  std::string kind;    // sentry.issue, alert.fired, chat.command, ...
  TimePoint time{};    // when the source says it happened
  TimePoint received_at{};
  nlohmann::json attrs = nlohmann::json::object();  // always an object

  bool operator==(const Event&) const = default;
};

// A field of an event as a rule sees it. Views into the event: valid while the event lives.
struct FieldValue {
  enum class Type { missing, string, number, boolean, time, null, array, object };
  Type type = Type::missing;
  std::string_view string;  // Type::string
  double number = 0;        // Type::number
  bool boolean = false;     // Type::boolean
  TimePoint time{};         // Type::time (the event's own time and received_at)
  const nlohmann::json* json = nullptr;  // set for every attrs value (array, object included)

  bool missing() const { return type == Type::missing; }
};

// A compiled field path: `kind`, `source`, `id`, `time`, `received_at` name the event's own
// fields; anything else is a path into attrs (`app`, `entity.name`); an explicit `attrs.` prefix
// means the same (`attrs.kind` reaches an attr named kind). Parsed once, looked up without
// allocating.
class FieldPath {
 public:
  enum class Root { id, source, kind, time, received_at, attrs };

  // Segments are identifiers ([A-Za-z_][A-Za-z0-9_-]*) joined by '.'. @return an error message
  // (lower case, no position) when the text is not a path.
  static std::variant<FieldPath, std::string> parse(std::string_view text);

  FieldValue lookup(const Event& event) const;
  const std::string& text() const { return text_; }
  Root root() const { return root_; }
  const std::vector<std::string>& segments() const { return segments_; }
  bool operator==(const FieldPath&) const = default;

 private:
  std::string text_;
  Root root_ = Root::attrs;
  std::vector<std::string> segments_;  // attrs path, empty for the event's own fields
};

// Converts an attrs value to a FieldValue (numbers as double, strings as views).
FieldValue field_value_of(const nlohmann::json& value);

}  // namespace vigie::bus
