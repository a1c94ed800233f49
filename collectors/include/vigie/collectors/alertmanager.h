// Alertmanager compatibility: `POST /api/v2/alerts` (a JSON array of postable alerts, as
// Prometheus sends them) and the Alertmanager webhook body (version 4), both mapped to
// `alertmanager.alert` events. Labels become top-level attrs (`alertname == "DiskFull"`),
// annotations go under `annotations`, plus status, startsAt, endsAt, generatorURL, fingerprint.
// The event id is fingerprint + startsAt + status, so the same firing alert re-sent every
// evaluation interval is a duplicate, not new work.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "vigie/bus/event.h"
#include "vigie/core/time.h"

namespace vigie::collectors {

struct ParseError {
  std::string error;   // short: "malformed JSON"
  std::string detail;  // where and why
};

// POST /api/v2/alerts. `now` decides status when endsAt is in the past and stands for a zero
// startsAt.
tl::expected<std::vector<bus::Event>, ParseError> parse_alertmanager_alerts(std::string_view body,
                                                                           TimePoint now);
// POST /webhooks/alertmanager (webhook version 4).
tl::expected<std::vector<bus::Event>, ParseError> parse_alertmanager_webhook(std::string_view body,
                                                                            TimePoint now);

// Alertmanager's fingerprint of a label set: FNV-1a 64 over the sorted names and values, each
// followed by 0xff, as 16 hex digits.
std::string label_fingerprint(const std::vector<std::pair<std::string, std::string>>& labels);

}  // namespace vigie::collectors
