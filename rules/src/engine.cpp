// The alert engine. See engine.h for the contract; docs/alerts.md for the behaviour users see.
#include "vigie/rules/engine.h"

#include <algorithm>
#include <deque>
#include <set>

namespace vigie::rules {

namespace {

constexpr const char* kFiring = "firing";
constexpr const char* kAcked = "acknowledged";
constexpr const char* kResolved = "resolved";

std::string label_text(const bus::FieldValue& v) {
  using T = bus::FieldValue::Type;
  switch (v.type) {
    case T::string: return std::string(v.string);
    case T::missing:
    case T::null: return "";
    case T::boolean: return v.boolean ? "true" : "false";
    default: return v.json ? v.json->dump() : "";
  }
}

std::int64_t ms(TimePoint t) { return to_unix_ms(t); }

}  // namespace

struct Engine::Group {
  std::string fingerprint;
  std::uint32_t rule_index = 0;
  std::string rule_name;
  nlohmann::json labels = nlohmann::json::object();
  WindowTracker window;
  std::optional<store::Alert> alert;  // the open occurrence (firing or acknowledged)
  std::optional<TimePoint> last_match;
  nlohmann::json last_attrs = nlohmann::json::object();

  Group(const RuleWindow& spec, TimePoint armed_at) : window(spec, armed_at) {}
};

struct Engine::Work {
  TimePoint now{};
  std::deque<std::pair<bus::Event, int>> queue;  // transition events to store and evaluate
  std::vector<bus::Event> published;
  std::vector<store::Job> jobs;
  std::set<std::string> touched;
  std::set<std::string> dirty;  // alerts updated by events: saved once per commit, not per event
  bool failed = false;
  std::string error;
  bool replaying = false;
  std::span<const std::string> attrs_json;  // of the incoming events, when their producer encoded them
};

Engine::Engine(store::Store& store, Clock& clock, Logger log, EngineOptions options)
    : store_(store), clock_(clock), log_(std::move(log)), options_(std::move(options)) {
  candidates_.reserve(64);
}

Engine::~Engine() {
  if (timer_) clock_.cancel(*timer_);
}

std::string Engine::fingerprint(const std::string& rule, const nlohmann::json& labels) {
  std::string out = rule + "{";
  bool first = true;
  for (auto it = labels.begin(); it != labels.end(); ++it) {  // nlohmann objects iterate sorted
    if (!first) out += ",";
    first = false;
    out += it.key() + "=\"";
    const std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}

nlohmann::json Engine::labels_of(const Rule& rule, const bus::Event& event) const {
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& field : rule.group_by) {
    auto path = bus::FieldPath::parse(field);
    if (auto* p = std::get_if<bus::FieldPath>(&path)) labels[field] = label_text(p->lookup(event));
  }
  for (const auto& [k, v] : rule.labels) labels[k] = v;
  return labels;
}

void Engine::set_rules(RuleSetPtr rules) {
  if (!rules) return;
  rules_ = std::move(rules);
  std::vector<std::vector<IndexKey>> keys;
  resolve_rules_.clear();
  inhibitors_.clear();
  for (std::uint32_t i = 0; i < rules_->rules().size(); ++i) {
    const Rule& r = rules_->rules()[i];
    if (r.inhibited_by) inhibitors_.insert(r.inhibited_by->rule);
    if (r.resolve_when) {
      resolve_rules_.push_back(i);
      keys.push_back(r.resolve_when->index_keys());
    }
  }
  resolve_index_.build(keys);
  // Groups follow their rule by name; a changed window starts afresh; a removed rule's groups go.
  for (auto it = groups_.begin(); it != groups_.end();) {
    const Rule* r = rules_->find_rule(it->second->rule_name);
    if (!r) {
      deadline_of_.erase(it->first);
      it = groups_.erase(it);
      continue;
    }
    it->second->rule_index = static_cast<std::uint32_t>(r - rules_->rules().data());
    ++it;
  }
  const TimePoint now = clock_.system_now();
  for (std::uint32_t i = 0; i < rules_->rules().size(); ++i) {
    const Rule& r = rules_->rules()[i];
    if (r.enabled && r.window.kind == RuleWindow::Kind::absent && r.group_by.empty()) {
      Group& g = ensure_group(r, i, labels_of(r, bus::Event{}));
      (void)g;
      schedule(fingerprint(r.name, labels_of(r, bus::Event{})));
    }
  }
  (void)now;
  arm_timer();
}

Engine::Group& Engine::ensure_group(const Rule& rule, std::uint32_t index, const nlohmann::json& labels) {
  const std::string fp = fingerprint(rule.name, labels);
  auto it = groups_.find(fp);
  if (it != groups_.end()) return *it->second;
  auto g = std::make_unique<Group>(rule.window, clock_.system_now());
  g->fingerprint = fp;
  g->rule_index = index;
  g->rule_name = rule.name;
  g->labels = labels;
  return *groups_.emplace(fp, std::move(g)).first->second;
}

Engine::Group* Engine::group_for(const std::string& fp) {
  auto it = groups_.find(fp);
  return it == groups_.end() ? nullptr : it->second.get();
}

std::string Engine::render_summary(const Rule& rule, const store::Alert& alert,
                                   const nlohmann::json& attrs) const {
  nlohmann::json ctx = attrs.is_object() ? attrs : nlohmann::json::object();
  ctx["attrs"] = attrs;
  ctx["count"] = alert.count;
  ctx["rule"] = alert.rule;
  ctx["severity"] = rule.severity;
  ctx["fingerprint"] = alert.fingerprint;
  ctx["labels"] = alert.labels;
  ctx["first_seen"] = format_rfc3339(alert.first_seen);
  ctx["last_seen"] = format_rfc3339(alert.last_seen);
  ctx["state"] = alert.state;
  ctx["runbook"] = rule.runbook;
  ctx["description"] = rule.description;
  ctx["alert_id"] = alert.id;
  ctx["occurrence"] = alert.occurrence;
  for (auto it = alert.labels.begin(); it != alert.labels.end(); ++it) {
    if (!ctx.contains(it.key())) ctx[it.key()] = it.value();
  }
  if (rule.summary.empty()) return rule.name + (alert.labels.empty() ? "" : " " + alert.labels.dump());
  return rule.summary.render(ctx);
}

void Engine::transition(Work& work, const store::Alert& alert, const std::string& kind, nlohmann::json extra) {
  bus::Event e;
  const std::int64_t seq = alert.data.value("event_seq", std::int64_t{0});
  e.id = "alert:" + std::to_string(alert.id) + ":" + std::to_string(seq) + ":" + kind;
  e.source = "vigie";
  e.kind = kind;
  e.time = work.now;
  e.received_at = work.now;
  e.attrs = {{"alert_id", alert.id},     {"rule", alert.rule},   {"fingerprint", alert.fingerprint},
             {"labels", alert.labels},   {"state", alert.state}, {"count", alert.count},
             {"silenced", alert.silenced}, {"inhibited", alert.inhibited},
             {"occurrence", alert.occurrence}};
  for (auto it = alert.labels.begin(); it != alert.labels.end(); ++it) {
    if (!e.attrs.contains(it.key())) e.attrs[it.key()] = it.value();
  }
  for (auto it = extra.begin(); it != extra.end(); ++it) e.attrs[it.key()] = it.value();
  work.queue.emplace_back(std::move(e), 1);
}

void Engine::notify(Work& work, Group& g, const Rule& rule, const std::string& type,
                    std::vector<std::string> channels, nlohmann::json extra) {
  store::Alert& a = *g.alert;
  // Rendered when a message is due, not for every event that updates the alert.
  a.data["summary"] = render_summary(rule, a, g.last_attrs);
  const std::int64_t n = a.data.value("job_seq", std::int64_t{0}) + 1;
  a.data["job_seq"] = n;
  if (channels.empty()) channels = rule.notify.empty() ? std::vector<std::string>{options_.default_channel} : rule.notify;
  // Offered actions that ask "are you sure?" (a confirm dialog on their button).
  std::vector<std::string> confirm;
  for (const auto& name : rule.offer) {
    const ActionDef* action = rules_ ? rules_->find_action(name) : nullptr;
    if (action && (action->confirm || action->approvals > 0)) confirm.push_back(name);
  }
  store::Job job;
  job.id = "notify:" + std::to_string(a.id) + ":" + std::to_string(n);
  job.kind = "notify";
  job.alert_id = a.id;
  job.created = job.updated = work.now;
  job.payload = {{"type", type},
                 {"channels", channels},
                 {"alert", {{"id", a.id},
                            {"rule", a.rule},
                            {"fingerprint", a.fingerprint},
                            {"labels", a.labels},
                            {"state", a.state},
                            {"count", a.count},
                            {"first_seen", format_rfc3339(a.first_seen)},
                            {"last_seen", format_rfc3339(a.last_seen)},
                            {"acked_by", a.acked_by},
                            {"silenced", a.silenced},
                            {"inhibited", a.inhibited},
                            {"occurrence", a.occurrence},
                            {"previous_id", a.previous_id}}},
                 {"rule", {{"severity", rule.severity},
                           {"summary", a.data.value("summary", "")},
                           {"details", rule.details.empty() ? "" : rule.details.render(g.last_attrs)},
                           {"runbook", rule.runbook},
                           {"offer", rule.offer},
                           {"confirm", confirm},
                           {"thread", rule.thread}}}};
  // Where the alert's message is, when a worker reported it: updates edit it in place.
  if (auto m = store_.slack_message(a.id); m && *m) {
    job.payload["message"] = {{"channel", (*m)->channel}, {"ts", (*m)->ts}, {"digest", (*m)->digest}};
  }
  for (auto it = extra.begin(); it != extra.end(); ++it) job.payload[it.key()] = it.value();
  if (type == "post") a.data["posted"] = true;
  // Repeat counts from the last time people were told anew, not from message edits.
  if (type == "post" || type == "repeat" || type == "escalate") a.data["last_notified_ms"] = ms(work.now);
  if (type == "update" || type == "resolved") {
    a.data["last_update_ms"] = ms(work.now);
    a.data["pending_update"] = false;
  }
  work.jobs.push_back(std::move(job));
}

void Engine::refresh_flags(Work& work, Group& g, const Rule& rule) {
  (void)work;
  store::Alert& a = *g.alert;
  a.silenced = std::any_of(silences_.begin(), silences_.end(), [&](const ActiveSilence& s) {
    return silence_matches(s.matchers, a.rule, a.labels);
  });
  a.inhibited = false;
  if (rule.inhibited_by) {
    for (const auto& [fp, other] : groups_) {
      if (!other->alert || other->rule_name != rule.inhibited_by->rule) continue;
      bool equal = true;
      for (const auto& l : rule.inhibited_by->equal) {
        equal = equal && other->alert->labels.value(l, "") == a.labels.value(l, "");
      }
      if (equal) {
        a.inhibited = true;
        break;
      }
    }
  }
}

void Engine::fire(Work& work, Group& g, const Rule& rule, const bus::Event* event) {
  store::Alert a;
  a.fingerprint = g.fingerprint;
  a.rule = rule.name;
  a.labels = g.labels;
  a.state = kFiring;
  a.count = rule.window.kind == RuleWindow::Kind::absent ? 0 : std::max<std::int64_t>(1, rule.window.kind == RuleWindow::Kind::count ? g.window.value() : 1);
  a.first_seen = a.last_seen = work.now;
  if (event) a.last_event_id = event->id;
  if (auto prev = store_.latest_alert(g.fingerprint); prev && *prev) {
    a.occurrence = (*prev)->occurrence + 1;
    a.previous_id = (*prev)->id;
  }
  a.data = {{"fired_ms", ms(work.now)}, {"escalated", false}, {"posted", false}, {"job_seq", 0}, {"event_seq", 0}};
  g.alert = a;
  refresh_flags(work, g, rule);
  g.alert->data["summary"] = render_summary(rule, *g.alert, g.last_attrs);
  if (auto id = store_.save_alert(*g.alert); !id) {
    work.failed = true;
    work.error = id.error().message;
    return;
  }
  transition(work, *g.alert, "alert.fired");
  if (!g.alert->silenced && !g.alert->inhibited) notify(work, g, rule, "post", {});
  store_.save_alert(*g.alert);
  if (rule.name.size()) recheck_inhibited(work, rule);
}

void Engine::update(Work& work, Group& g, const Rule& rule, const bus::Event& event) {
  store::Alert& a = *g.alert;
  ++a.count;
  a.last_seen = work.now;
  a.last_event_id = event.id;
  work.dirty.insert(g.fingerprint);
  const bool posted = a.data.value("posted", false);
  if (posted && !a.silenced && !a.inhibited) {
    const TimePoint last = from_unix_ms(a.data.value("last_update_ms", std::int64_t{0}));
    if (work.now - last >= options_.update_interval) {
      notify(work, g, rule, "update", {});
      a.data["event_seq"] = a.data.value("event_seq", std::int64_t{0}) + 1;
      transition(work, a, "alert.updated");
    } else if (!a.data.value("pending_update", false)) {
      a.data["pending_update"] = true;  // coalesced: one update when the interval is over
    }
  }
}

void Engine::close(Work& work, Group& g, const Rule& rule, const std::string& why, const std::string& by) {
  store::Alert& a = *g.alert;
  a.state = kResolved;
  a.resolved_at = work.now;
  a.data["resolved_reason"] = why;
  if (!by.empty()) a.data["resolved_by"] = by;
  a.data["event_seq"] = a.data.value("event_seq", std::int64_t{0}) + 1;
  // A silenced alert that resolves still gets its message updated: only the post is held back.
  if (a.data.value("posted", false)) notify(work, g, rule, "resolved", {}, {{"reason", why}, {"by", by}});
  store_.save_alert(a);
  transition(work, a, "alert.resolved", {{"reason", why}, {"by", by}});
  // Silences that were to end with this alert.
  for (auto it = silences_.begin(); it != silences_.end();) {
    if (it->silence.expire_on_resolve && silence_matches(it->matchers, a.rule, a.labels)) {
      store_.expire_silence(it->silence.id, work.now);
      bus::Event e;
      e.id = "silence:" + it->silence.id + ":expired";
      e.source = "vigie";
      e.kind = "silence.expired";
      e.time = e.received_at = work.now;
      e.attrs = {{"silence_id", it->silence.id}, {"reason", "its alert resolved"}, {"alert_id", a.id}};
      work.queue.emplace_back(std::move(e), 1);
      it = silences_.erase(it);
    } else {
      ++it;
    }
  }
  const store::Alert closed = a;
  g.alert.reset();
  work.touched.insert(g.fingerprint);
  recheck_inhibited(work, rule);
  (void)closed;
}

void Engine::recheck_inhibited(Work& work, const Rule& changed) {
  // Alerts of rules inhibited by `changed` may be held back or released now. Most rules inhibit
  // nothing: skip the walk over every open group, which made each alert change cost O(groups).
  if (!rules_ || !inhibitors_.contains(changed.name)) return;
  for (auto& [fp, g] : groups_) {
    if (!g->alert) continue;
    const Rule& r = rules_->rules()[g->rule_index];
    if (!r.inhibited_by || r.inhibited_by->rule != changed.name) continue;
    const bool was = g->alert->inhibited;
    refresh_flags(work, *g, r);
    if (was == g->alert->inhibited) continue;
    g->alert->data["event_seq"] = g->alert->data.value("event_seq", std::int64_t{0}) + 1;
    transition(work, *g->alert, g->alert->inhibited ? "alert.inhibited" : "alert.uninhibited");
    if (!g->alert->inhibited && !g->alert->silenced && !g->alert->data.value("posted", false) &&
        g->alert->state == kFiring) {
      notify(work, *g, r, "post", {});
    } else if (g->alert->data.value("posted", false)) {
      notify(work, *g, r, "update", {});
    }
    store_.save_alert(*g->alert);
  }
}

void Engine::on_match(Work& work, std::uint32_t rule_index, const bus::Event& event) {
  const Rule& rule = rules_->rules()[rule_index];
  const nlohmann::json labels = labels_of(rule, event);
  Group& g = ensure_group(rule, rule_index, labels);
  g.last_match = work.now;
  g.last_attrs = event.attrs;
  work.touched.insert(g.fingerprint);
  const bool held = g.window.observe(event.time, work.now);
  if (work.replaying) return;  // rebuilding windows only
  if (rule.window.kind == RuleWindow::Kind::absent) {
    if (g.alert) close(work, g, rule, "the awaited event arrived", "");
    return;
  }
  if (!held) {
    // The condition stopped holding before its deadline was processed (events batched, or a
    // late tick): the event itself shows it cleared.
    if (g.alert && rule.window.kind != RuleWindow::Kind::match) close(work, g, rule, "the condition cleared", "");
    return;
  }
  if (!g.alert) {
    fire(work, g, rule, &event);
  } else {
    update(work, g, rule, event);
  }
}

void Engine::on_resolve_match(Work& work, std::uint32_t rule_index, const bus::Event& event) {
  if (work.replaying) return;
  const Rule& rule = rules_->rules()[rule_index];
  Group* g = group_for(fingerprint(rule.name, labels_of(rule, event)));
  if (!g || !g->alert) return;
  close(work, *g, rule, "resolve_when matched event " + event.id, "");
}

void Engine::evaluate(Work& work, const bus::Event& event, int depth) {
  if (!rules_ || depth > options_.max_chain_depth) return;
  rules_->index().candidates(event, candidates_);
  rule_evaluations_ += candidates_.size();
  // Copy: a match may fire transitions, but those are queued, so candidates_ is not reused here.
  for (const std::uint32_t idx : candidates_) {
    const Rule& rule = rules_->rules()[idx];
    if (rule.enabled && rule.when.matches(event)) on_match(work, idx, event);
  }
  if (!resolve_rules_.empty()) {
    resolve_index_.candidates(event, candidates_);
    for (const std::uint32_t i : candidates_) {
      const std::uint32_t idx = resolve_rules_[i];
      const Rule& rule = rules_->rules()[idx];
      if (rule.enabled && rule.resolve_when->matches(event)) on_resolve_match(work, idx, event);
    }
  }
}

EngineOutput Engine::commit(Work& work, const std::vector<bus::Event>* incoming) {
  EngineOutput out;
  std::vector<bus::Event> stored;
  auto ok = store_.write([&] {
    if (incoming && !incoming->empty()) {
      auto inserted = options_.store_events ? store_.insert_events(*incoming, work.attrs_json)
                                            : store::Result<std::vector<bool>>(std::vector<bool>(incoming->size(), true));
      if (!inserted) {
        work.failed = true;
        work.error = inserted.error().message;
        return false;
      }
      for (std::size_t i = 0; i < incoming->size(); ++i) {
        const auto& e = (*incoming)[i];
        out.results.push_back({e.id, (*inserted)[i] ? bus::IngestStatus::stored : bus::IngestStatus::duplicate, ""});
        if (!(*inserted)[i]) continue;
        if (!options_.fan_out || options_.fan_out(e.kind)) stored.push_back(e);
        evaluate(work, e, 0);
        if (work.failed) return false;
      }
    }
    // Transitions are events too: stored, evaluated (rules may chain), published.
    while (!work.queue.empty()) {
      auto [e, depth] = std::move(work.queue.front());
      work.queue.pop_front();
      e.id += ":" + std::to_string(++event_seq_) + "@" + std::to_string(ms(work.now));
      if (options_.store_events) {
        auto r = store_.insert_events(std::span<const bus::Event>(&e, 1));
        if (!r) {
          work.failed = true;
          work.error = r.error().message;
          return false;
        }
      }
      evaluate(work, e, depth);
      if (work.failed) return false;
      if (!options_.fan_out || options_.fan_out(e.kind)) stored.push_back(std::move(e));
    }
    for (const auto& fp : work.dirty) {
      Group* g = group_for(fp);
      if (!g || !g->alert) continue;  // closed since: close() saved it
      if (auto r = store_.save_alert(*g->alert); !r) {
        work.failed = true;
        work.error = r.error().message;
        return false;
      }
    }
    for (const auto& job : work.jobs) {
      if (auto r = store_.add_job(job); !r) {
        work.failed = true;
        work.error = r.error().message;
        return false;
      }
    }
    return !work.failed;
  });
  if (!ok || !*ok) {
    out.ok = false;
    out.error = !ok ? ok.error().message : (work.error.empty() ? "rolled back" : work.error);
    for (auto& r : out.results) {
      r.status = bus::IngestStatus::unavailable;
      r.reason = out.error;
    }
    if (incoming && out.results.empty()) {
      for (const auto& e : *incoming) out.results.push_back({e.id, bus::IngestStatus::unavailable, out.error});
    }
    log_.error("store commit failed; state reloaded from the store", {{"error", out.error}});
    // Memory may hold changes the store does not: rebuild from what was committed.
    restore();
    return out;
  }
  for (const auto& fp : work.touched) schedule(fp);
  arm_timer();
  out.events = std::move(stored);
  out.jobs = std::move(work.jobs);
  return out;
}

EngineOutput Engine::ingest(const std::vector<bus::Event>& events, std::span<const std::string> attrs_json) {
  Work work;
  work.now = clock_.system_now();
  work.attrs_json = attrs_json;
  return commit(work, &events);
}

void Engine::process_due(Work& work, const std::string& key) {
  const TimePoint now = work.now;
  if (key.rfind("silence:", 0) == 0) {
    const std::string id = key.substr(8);
    auto it = std::find_if(silences_.begin(), silences_.end(), [&](const ActiveSilence& s) { return s.silence.id == id; });
    if (it == silences_.end()) return;
    if (it->silence.ends > now) {
      deadlines_.emplace(it->silence.ends, key);
      deadline_of_[key] = it->silence.ends;
      return;
    }
    store_.expire_silence(id, now);
    bus::Event e;
    e.id = "silence:" + id + ":expired";
    e.source = "vigie";
    e.kind = "silence.expired";
    e.time = e.received_at = now;
    e.attrs = {{"silence_id", id}, {"reason", "its end time passed"}};
    work.queue.emplace_back(std::move(e), 1);
    silences_.erase(it);
    for (auto& [fp, g] : groups_) {
      if (!g->alert || !g->alert->silenced) continue;
      const Rule& r = rules_->rules()[g->rule_index];
      refresh_flags(work, *g, r);
      if (g->alert->silenced) continue;
      g->alert->data["event_seq"] = g->alert->data.value("event_seq", std::int64_t{0}) + 1;
      transition(work, *g->alert, "alert.unsilenced");
      if (!g->alert->data.value("posted", false) && !g->alert->inhibited && g->alert->state == kFiring) {
        notify(work, *g, r, "post", {});
      } else if (g->alert->data.value("posted", false)) {
        notify(work, *g, r, "update", {});
      }
      store_.save_alert(*g->alert);
    }
    return;
  }
  Group* g = group_for(key);
  if (!g || !rules_) return;
  const Rule& rule = rules_->rules()[g->rule_index];
  work.touched.insert(key);
  const bool held = g->window.tick(now);
  if (rule.window.kind == RuleWindow::Kind::absent) {
    if (held && !g->alert && rule.enabled) fire(work, *g, rule, nullptr);
  } else if (g->alert && !held && rule.window.kind != RuleWindow::Kind::match) {
    close(work, *g, rule, "the condition cleared", "");
    return;
  }
  if (!g->alert) {
    // Idle group: forget it once its window has nothing left to remember.
    const bool idle = rule.window.kind != RuleWindow::Kind::absent && !g->window.next_deadline() &&
                      (!g->last_match || now - *g->last_match > rule.window.history());
    if (idle) {
      deadline_of_.erase(key);
      groups_.erase(key);
      work.touched.erase(key);
    }
    return;
  }
  store::Alert& a = *g->alert;
  if (rule.resolve_after && g->last_match && now - *g->last_match >= *rule.resolve_after) {
    close(work, *g, rule, "no matching event for " + format_duration(*rule.resolve_after), "");
    return;
  }
  const bool can_notify = !a.silenced && !a.inhibited;
  if (a.state == kFiring && rule.escalate && !a.data.value("escalated", false) &&
      now - from_unix_ms(a.data.value("fired_ms", std::int64_t{0})) >= rule.escalate->after) {
    a.data["escalated"] = true;
    a.data["event_seq"] = a.data.value("event_seq", std::int64_t{0}) + 1;
    transition(work, a, "alert.escalated");
    if (can_notify) {
      notify(work, *g, rule, "escalate", rule.escalate->notify, {{"mention", rule.escalate->mention}});
    }
    store_.save_alert(a);
  }
  if (a.state == kFiring && rule.repeat && can_notify &&
      now - from_unix_ms(a.data.value("last_notified_ms", std::int64_t{0})) >= *rule.repeat) {
    notify(work, *g, rule, "repeat", {});
    store_.save_alert(a);
  }
  if (a.data.value("pending_update", false) && can_notify &&
      now - from_unix_ms(a.data.value("last_update_ms", std::int64_t{0})) >= options_.update_interval) {
    notify(work, *g, rule, "update", {});
    a.data["event_seq"] = a.data.value("event_seq", std::int64_t{0}) + 1;
    transition(work, a, "alert.updated");
    store_.save_alert(a);
  }
}

EngineOutput Engine::tick() {
  Work work;
  work.now = clock_.system_now();
  last_tick_ = work.now;
  std::vector<std::string> due;
  while (!deadlines_.empty() && deadlines_.begin()->first <= work.now) {
    const std::string key = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    deadline_of_.erase(key);
    due.push_back(key);
  }
  for (const auto& key : due) {
    process_due(work, key);
    if (work.failed) break;
  }
  return commit(work, nullptr);
}

void Engine::schedule(const std::string& fp) {
  if (auto old = deadline_of_.find(fp); old != deadline_of_.end()) {
    auto range = deadlines_.equal_range(old->second);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == fp) {
        deadlines_.erase(it);
        break;
      }
    }
    deadline_of_.erase(old);
  }
  Group* g = group_for(fp);
  if (!g || !rules_) return;
  const Rule& rule = rules_->rules()[g->rule_index];
  std::optional<TimePoint> next = g->window.next_deadline();
  auto consider = [&](TimePoint t) { next = next ? std::min(*next, t) : t; };
  if (g->alert) {
    // Exactly the conditions process_due acts on: a deadline it would not act on would come
    // back due at once, forever.
    const store::Alert& a = *g->alert;
    const bool can_notify = !a.silenced && !a.inhibited;
    if (rule.resolve_after && g->last_match) consider(*g->last_match + *rule.resolve_after);
    if (a.state == kFiring && rule.escalate && !a.data.value("escalated", false)) {
      consider(from_unix_ms(a.data.value("fired_ms", std::int64_t{0})) + rule.escalate->after);
    }
    if (a.state == kFiring && rule.repeat && can_notify) {
      consider(from_unix_ms(a.data.value("last_notified_ms", std::int64_t{0})) + *rule.repeat);
    }
    if (a.data.value("pending_update", false) && can_notify) {
      consider(from_unix_ms(a.data.value("last_update_ms", std::int64_t{0})) + options_.update_interval);
    }
  } else if (!next && g->last_match && rule.window.kind != RuleWindow::Kind::absent) {
    consider(*g->last_match + rule.window.history() + Duration{1});  // to forget the idle group
  }
  if (!next) return;
  // A deadline already past is processed on the next tick; never schedule one in the past
  // twice at the same instant (that would spin the timer).
  if (*next <= last_tick_) next = last_tick_ + Duration{1};
  deadlines_.emplace(*next, fp);
  deadline_of_[fp] = *next;
}

Engine::Stats Engine::stats() const {
  Stats s;
  s.rule_evaluations = rule_evaluations_;
  for (const auto& [fp, g] : groups_) {
    if (!g->alert) continue;
    if (g->alert->state == kFiring) ++s.firing;
    if (g->alert->state == kAcked) ++s.acknowledged;
    if (g->alert->silenced) ++s.silenced;
    if (g->alert->inhibited) ++s.inhibited;
  }
  return s;
}

std::optional<TimePoint> Engine::next_deadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

void Engine::arm_timer() {
  auto next = next_deadline();
  if (timer_at_ == next) return;
  if (timer_) {
    clock_.cancel(*timer_);
    timer_.reset();
  }
  timer_at_ = next;
  if (!next) return;
  const Duration delay = std::max(Duration{0}, *next - clock_.system_now());
  timer_ = clock_.call_after(delay, [this] {
    timer_.reset();
    timer_at_.reset();
    EngineOutput out = tick();
    if (sink_) sink_(std::move(out));
  });
}

EngineOutput Engine::acknowledge(std::int64_t alert_id, const std::string& user) {
  Work work;
  work.now = clock_.system_now();
  for (auto& [fp, g] : groups_) {
    if (!g->alert || g->alert->id != alert_id) continue;
    store::Alert& a = *g->alert;
    if (a.state != kFiring) break;
    a.state = kAcked;
    a.acked_by = user;
    a.acked_at = work.now;
    a.data["event_seq"] = a.data.value("event_seq", std::int64_t{0}) + 1;
    const Rule& rule = rules_->rules()[g->rule_index];
    if (a.data.value("posted", false)) notify(work, *g, rule, "update", {}, {{"by", user}});
    store_.save_alert(a);
    transition(work, a, "alert.acked", {{"by", user}});
    work.touched.insert(fp);
    return commit(work, nullptr);
  }
  EngineOutput out;
  out.ok = false;
  out.error = "no firing alert " + std::to_string(alert_id);
  return out;
}

EngineOutput Engine::resolve(std::int64_t alert_id, const std::string& user) {
  Work work;
  work.now = clock_.system_now();
  for (auto& [fp, g] : groups_) {
    if (!g->alert || g->alert->id != alert_id) continue;
    close(work, *g, rules_->rules()[g->rule_index], "resolved by hand", user);
    return commit(work, nullptr);
  }
  EngineOutput out;
  out.ok = false;
  out.error = "no open alert " + std::to_string(alert_id);
  return out;
}

EngineOutput Engine::add_silence(store::Silence silence) {
  EngineOutput out;
  std::vector<std::string> texts;
  for (const auto& m : silence.matchers) {
    if (m.is_string()) texts.push_back(m.get<std::string>());
  }
  auto parsed = parse_silence_matchers(texts);
  if (auto* err = std::get_if<std::string>(&parsed)) {
    out.ok = false;
    out.error = *err;
    return out;
  }
  Work work;
  work.now = clock_.system_now();
  if (silence.created == TimePoint{}) silence.created = work.now;
  if (silence.starts == TimePoint{}) silence.starts = work.now;
  auto saved = store_.write([&] { return store_.save_silence(silence).has_value(); });
  if (!saved || !*saved) {
    out.ok = false;
    out.error = saved ? "could not store the silence" : saved.error().message;
    return out;
  }
  silences_.push_back({silence, std::get<std::vector<SilenceMatcher>>(std::move(parsed))});
  bus::Event e;
  e.id = "silence:" + silence.id + ":created";
  e.source = "vigie";
  e.kind = "silence.created";
  e.time = e.received_at = work.now;
  e.attrs = {{"silence_id", silence.id}, {"matchers", silence.matchers}, {"ends", format_rfc3339(silence.ends)},
             {"author", silence.author}, {"comment", silence.comment}};
  work.queue.emplace_back(std::move(e), 1);
  for (auto& [fp, g] : groups_) {
    if (!g->alert || g->alert->silenced) continue;
    const Rule& r = rules_->rules()[g->rule_index];
    refresh_flags(work, *g, r);
    if (!g->alert->silenced) continue;
    g->alert->data["event_seq"] = g->alert->data.value("event_seq", std::int64_t{0}) + 1;
    g->alert->data["silenced_until"] = format_rfc3339(silence.ends);
    if (g->alert->data.value("posted", false)) notify(work, *g, r, "update", {}, {{"silence_id", silence.id}});
    transition(work, *g->alert, "alert.silenced", {{"silence_id", silence.id}});
    store_.save_alert(*g->alert);
  }
  const std::string key = "silence:" + silence.id;
  deadlines_.emplace(silence.ends, key);
  deadline_of_[key] = silence.ends;
  out = commit(work, nullptr);
  return out;
}

EngineOutput Engine::expire_silence(const std::string& id, const std::string& user) {
  auto it = std::find_if(silences_.begin(), silences_.end(), [&](const ActiveSilence& s) { return s.silence.id == id; });
  if (it == silences_.end()) {
    EngineOutput out;
    out.ok = false;
    out.error = "no active silence " + id;
    return out;
  }
  it->silence.ends = clock_.system_now();
  (void)user;
  Work work;
  work.now = clock_.system_now();
  process_due(work, "silence:" + id);
  return commit(work, nullptr);
}

EngineOutput Engine::job_finished(const std::string& job_id, bool ok, const nlohmann::json& output) {
  EngineOutput out;
  const TimePoint now = clock_.system_now();
  auto r = store_.write([&] {
    auto marked = store_.mark_job(job_id, ok ? "done" : "failed", output, now);
    if (!marked) return false;
    if (ok && output.contains("channel") && output.contains("ts") && output.contains("alert_id")) {
      return store_.set_slack_message({output["alert_id"].get<std::int64_t>(), output["channel"].get<std::string>(),
                                       output["ts"].get<std::string>(), output.value("digest", false)})
          .has_value();
    }
    return true;
  });
  if (!r || !*r) {
    out.ok = false;
    out.error = r ? "rolled back" : r.error().message;
  }
  return out;
}

tl::expected<void, std::string> Engine::restore() {
  groups_.clear();
  deadlines_.clear();
  deadline_of_.clear();
  silences_.clear();
  const TimePoint now = clock_.system_now();
  auto active = store_.active_silences(now);
  if (!active) return tl::unexpected(active.error().message);
  for (auto& s : *active) {
    std::vector<std::string> texts;
    for (const auto& m : s.matchers) {
      if (m.is_string()) texts.push_back(m.get<std::string>());
    }
    auto parsed = parse_silence_matchers(texts);
    if (auto* m = std::get_if<std::vector<SilenceMatcher>>(&parsed)) {
      const std::string key = "silence:" + s.id;
      deadlines_.emplace(s.ends, key);
      deadline_of_[key] = s.ends;
      silences_.push_back({std::move(s), std::move(*m)});
    }
  }
  if (!rules_) return {};
  auto open = store_.open_alerts();
  if (!open) return tl::unexpected(open.error().message);
  for (auto& a : *open) {
    const Rule* rule = rules_->find_rule(a.rule);
    if (!rule) continue;  // its rule is gone: the alert stays as it is in the store
    const auto index = static_cast<std::uint32_t>(rule - rules_->rules().data());
    Group& g = ensure_group(*rule, index, a.labels);
    g.alert = std::move(a);
  }
  // Replay recent events into the windows only (no transitions), as they were first seen.
  Work work;
  work.now = now;
  work.replaying = true;
  const Duration history = rules_->longest_window();
  if (history > Duration{0}) {
    auto scanned = store_.scan_events(now - history - kLateTolerance, now + Duration{1}, [&](const bus::Event& e) {
      if (e.source == "vigie") return true;  // transitions are outputs, not inputs to windows
      work.now = std::min(now, e.received_at);
      evaluate(work, e, 0);
      return true;
    });
    if (!scanned) return tl::unexpected(scanned.error().message);
  }
  for (auto& [fp, g] : groups_) {
    if (g->alert) {
      const Rule& rule = rules_->rules()[g->rule_index];
      if (!g->last_match && rule.resolve_after) g->last_match = g->alert->last_seen;
    }
  }
  // Absent rules without group_by are armed from the restart unless replay saw a match.
  for (std::uint32_t i = 0; i < rules_->rules().size(); ++i) {
    const Rule& r = rules_->rules()[i];
    if (r.enabled && r.window.kind == RuleWindow::Kind::absent && r.group_by.empty()) ensure_group(r, i, labels_of(r, bus::Event{}));
  }
  for (const auto& [fp, g] : groups_) schedule(fp);
  arm_timer();
  return {};
}

}  // namespace vigie::rules
