// Alertmanager bodies → events (wire formats: api-notes section 9).
#include "vigie/collectors/alertmanager.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "vigie/core/text.h"

namespace vigie::collectors {
namespace {

using nlohmann::json;

tl::unexpected<ParseError> fail(std::string error, std::string detail) {
  return tl::unexpected(ParseError{std::move(error), std::move(detail)});
}

// The zero time Go writes for "unset" (amtool sends it): before year 2.
bool is_zero_time(TimePoint t) { return to_unix_ms(t) < -62'000'000'000'000; }

tl::expected<bus::Event, ParseError> to_event(const json& alert, std::size_t index,
                                              std::string_view default_status, TimePoint now) {
  // Built only for an error message: this runs for every alert of every request.
  const auto where = [index] { return "alert " + std::to_string(index); };
  if (!alert.is_object()) return fail("invalid alert", where() + " is not an object");
  auto labels_it = alert.find("labels");
  if (labels_it == alert.end() || !labels_it->is_object() || labels_it->empty()) {
    return fail("invalid alert", where() + " has no labels (a non-empty object of strings)");
  }
  std::vector<std::pair<std::string, std::string>> labels;
  for (auto it = labels_it->begin(); it != labels_it->end(); ++it) {
    if (!it.value().is_string()) {
      return fail("invalid alert", where() + " label '" + it.key() + "' is not a string");
    }
    labels.emplace_back(it.key(), it.value().get<std::string>());
  }
  auto time_field = [&](const char* name) -> tl::expected<std::optional<TimePoint>, ParseError> {
    auto it = alert.find(name);
    if (it == alert.end() || it->is_null()) return std::optional<TimePoint>{};
    if (!it->is_string()) return fail("invalid alert", where() + " " + name + " is not a string");
    if (it->get_ref<const std::string&>().empty()) return std::optional<TimePoint>{};
    auto t = parse_rfc3339(it->get_ref<const std::string&>());
    if (!t) return fail("invalid alert", where() + " " + name + " is not an RFC 3339 time");
    if (is_zero_time(*t)) return std::optional<TimePoint>{};
    return std::optional<TimePoint>{*t};
  };
  auto starts = time_field("startsAt");
  if (!starts) return tl::unexpected(starts.error());
  auto ends = time_field("endsAt");
  if (!ends) return tl::unexpected(ends.error());

  std::string status(default_status);
  if (auto s = alert.find("status"); s != alert.end() && s->is_string()) status = s->get<std::string>();
  if (*ends && **ends <= now) status = "resolved";
  if (status != "firing" && status != "resolved") {
    return fail("invalid alert", where() + " status must be firing or resolved, not '" + status + "'");
  }

  std::string fingerprint;
  if (auto f = alert.find("fingerprint"); f != alert.end() && f->is_string() && !f->get_ref<const std::string&>().empty()) {
    fingerprint = f->get<std::string>();
  } else {
    fingerprint = label_fingerprint(labels);
  }
  const TimePoint start = starts->value_or(now);

  bus::Event e;
  e.source = "alertmanager";
  e.kind = "alertmanager.alert";
  e.time = status == "resolved" && *ends ? **ends : start;
  e.received_at = now;
  // startsAt is part of the id only when the sender gave one; otherwise re-sends of an alert
  // without times would each look new.
  std::string starts_text = format_rfc3339(start);
  e.id = "am:" + fingerprint + ":" + (*starts ? starts_text : std::string("-")) + ":" + status;
  for (auto& [k, v] : labels) e.attrs[std::move(k)] = std::move(v);
  json& annotations = e.attrs["annotations"] = json::object();
  if (auto a = alert.find("annotations"); a != alert.end() && a->is_object()) {
    for (auto it = a->begin(); it != a->end(); ++it) {
      if (it.value().is_string()) annotations[it.key()] = it.value();
    }
  }
  e.attrs["status"] = status;
  e.attrs["startsAt"] = std::move(starts_text);
  e.attrs["endsAt"] = *ends ? format_rfc3339(**ends) : "";
  e.attrs["fingerprint"] = fingerprint;
  if (auto g = alert.find("generatorURL"); g != alert.end() && g->is_string()) e.attrs["generatorURL"] = *g;
  return e;
}

tl::expected<json, ParseError> parse_json(std::string_view body) {
  if (json_nesting_depth(body) > kMaxJsonDepth) {
    return fail("invalid body", "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return fail("malformed JSON", "the body is not valid JSON");
  return j;
}

}  // namespace

std::string label_fingerprint(const std::vector<std::pair<std::string, std::string>>& labels) {
  auto sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  std::uint64_t h = 14695981039346656037ULL;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  for (const auto& [k, v] : sorted) {
    mix(k);
    mix(v);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

tl::expected<std::vector<bus::Event>, ParseError> parse_alertmanager_alerts(std::string_view body,
                                                                           TimePoint now) {
  auto j = parse_json(body);
  if (!j) return tl::unexpected(j.error());
  if (!j->is_array()) return fail("invalid body", "expected a JSON array of alerts");
  std::vector<bus::Event> out;
  out.reserve(j->size());
  for (std::size_t i = 0; i < j->size(); ++i) {
    auto e = to_event((*j)[i], i, "firing", now);
    if (!e) return tl::unexpected(e.error());
    out.push_back(std::move(*e));
  }
  return out;
}

tl::expected<std::vector<bus::Event>, ParseError> parse_alertmanager_webhook(std::string_view body,
                                                                            TimePoint now) {
  auto j = parse_json(body);
  if (!j) return tl::unexpected(j.error());
  if (!j->is_object()) return fail("invalid body", "expected the Alertmanager webhook object");
  if (auto v = j->find("version"); v != j->end() && !(v->is_string() && *v == "4")) {
    return fail("unsupported version", "webhook version 4 is supported");
  }
  auto alerts = j->find("alerts");
  if (alerts == j->end() || !alerts->is_array()) return fail("invalid body", "'alerts' must be an array");
  const std::string group_status = j->value("status", "firing");
  std::vector<bus::Event> out;
  for (std::size_t i = 0; i < alerts->size(); ++i) {
    auto e = to_event((*alerts)[i], i, group_status, now);
    if (!e) return tl::unexpected(e.error());
    if (auto r = j->find("receiver"); r != j->end() && r->is_string()) e->attrs["receiver"] = *r;
    if (auto g = j->find("groupKey"); g != j->end() && g->is_string()) e->attrs["groupKey"] = *g;
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace vigie::collectors
