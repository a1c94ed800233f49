// Chat commands, clicks, confirmations, approvals and their audit rows.
#include "vigie/chat/commands.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>

#include "vigie/actions/action.h"
#include "vigie/actions/slack_message.h"
#include "vigie/chat/action_dispatch.h"
#include "vigie/chat/buttons.h"
#include "vigie/core/text.h"
#include "vigie/rules/command_pattern.h"
#include "vigie/rules/silence.h"
#include "vigie/rules/template.h"

namespace vigie::chat {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::int64_t> parse_id(std::string_view text) {
  if (!text.empty() && text.front() == '#') text.remove_prefix(1);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}

std::string short_hash(const std::string& text) {
  std::ostringstream out;
  out << std::hex << (std::hash<std::string>{}(text) & 0xffffffffffULL);
  return out.str();
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

std::string labels_text(const json& labels) {
  std::string out;
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    out += (out.empty() ? "" : " ") + it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
  }
  return out;
}

std::string params_text(const json& params) {
  std::string out;
  for (auto it = params.begin(); it != params.end(); ++it) {
    out += " " + it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
  }
  return out;
}

std::string roles_text(const std::vector<std::string>& roles) {
  return roles.empty() ? "none" : join(roles, ", ");
}

// https://slack.com/archives/C0123/p1700000000000100: Slack's permalink form for a message.
std::string message_link(const store::SlackMessage& m) {
  std::string ts = m.ts;
  ts.erase(std::remove(ts.begin(), ts.end(), '.'), ts.end());
  return "https://slack.com/archives/" + m.channel + "/p" + ts;
}

struct Builtin {
  std::string_view name;
  std::string_view usage;
  std::string_view example;
  std::string_view what;
  enum class Needs { anyone, read, alerts, action } needs;
};

constexpr Builtin kBuiltins[] = {
    {"help", "help", "help", "what you may ask me", Builtin::Needs::anyone},
    {"alerts", "alerts", "alerts", "firing and acknowledged alerts, with links", Builtin::Needs::read},
    {"ack", "ack <alert-id>", "ack 12", "acknowledge an alert", Builtin::Needs::alerts},
    {"resolve", "resolve <alert-id>", "resolve 12", "resolve an alert", Builtin::Needs::alerts},
    {"silence", "silence <rule|alert-id|matchers> <duration> [comment]", "silence disk-full 2h \"swapping the disk\"",
     "silence alerts for a while", Builtin::Needs::alerts},
    {"unsilence", "unsilence <silence-id>", "unsilence chat-3f2a", "end a silence", Builtin::Needs::alerts},
    {"silences", "silences", "silences", "active silences", Builtin::Needs::read},
    {"rules", "rules", "rules", "the rules and what they watch", Builtin::Needs::read},
    {"run", "run <action> [key=value ...]", "run restart-dyno app=shop-api", "run a remediation action",
     Builtin::Needs::action},
    {"status", "status [app|host]", "status shop-api", "Vigie's health, or what is known about an app or host",
     Builtin::Needs::read},
    {"whoami", "whoami", "whoami", "your roles", Builtin::Needs::anyone},
    {"history", "history <alert-id>", "history 12", "what happened to an alert", Builtin::Needs::read},
    {"logs", "logs <query> [since]", "logs \"status=500\" 1h", "search recent logs (Papertrail)", Builtin::Needs::read},
};

// Lines a `logs` search asks Papertrail for; the reply shows the newest max_reply_lines of them.
constexpr int kLogsLimit = 100;

const Builtin* find_builtin(std::string_view name) {
  for (const auto& b : kBuiltins) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

}  // namespace

std::string code_escape(std::string_view text) {
  std::string out = rules::slack_escape(text);
  std::erase(out, '\r');
  for (std::size_t at = out.find("```"); at != std::string::npos; at = out.find("```", at))
    out.replace(at, 3, "'''");
  return out;
}

std::string capped_code_block(const std::string& text, std::size_t max_lines) {
  std::vector<std::string> lines;
  std::istringstream in(code_escape(text));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out = "```\n";
  for (std::size_t i = 0; i < lines.size() && i < max_lines; ++i) out += lines[i] + "\n";
  out += "```";
  if (lines.size() > max_lines) out += "\n… " + std::to_string(lines.size() - max_lines) + " more lines";
  return out;
}

// Everything one event decides, committed together at the end.
struct ChatCommands::Context {
  ChatCommands& self;
  std::string source_id;  // the event (or request) this work derives its job ids from
  std::string user, channel, thread_ts, response_url, via;
  std::vector<store::Job> jobs;
  std::vector<store::AuditEntry> audit;
  std::vector<store::ChatRequest> requests;
  std::vector<store::ActionRun> runs;  // guardrail records of dispatched actions
  rules::EngineOutput out;
  int seq = 0;
  TimePoint now;

  std::string redact(const std::string& text) const { return self.secrets_ ? self.secrets_->redact(text) : text; }

  void merge(rules::EngineOutput o) {
    if (!o.ok) {
      out.ok = false;
      out.error = o.error;
    }
    for (auto& e : o.events) out.events.push_back(std::move(e));
    for (auto& j : o.jobs) out.jobs.push_back(std::move(j));
  }

  store::Job new_job(const std::string& kind, json payload, std::int64_t alert_id) {
    store::Job j;
    j.id = kind + ":" + source_id + ":" + std::to_string(++seq);
    j.kind = kind;
    j.payload = std::move(payload);
    j.alert_id = alert_id;
    j.created = j.updated = now;
    return j;
  }

  // To the asker only: through response_url when the request had one, else ephemeral in the
  // channel (a DM gets a plain message: only the asker is there).
  void tell(const std::string& text, json blocks = nullptr) {
    json p = {{"text", redact(text)}};
    if (!blocks.is_null()) p["blocks"] = std::move(blocks);
    if (!response_url.empty()) {
      p["response_url"] = response_url;
    } else {
      p["channel"] = channel;
      p["user"] = user;
      if (!thread_ts.empty()) p["thread_ts"] = thread_ts;
      if (via == "dm") p["ephemeral"] = false;
    }
    jobs.push_back(new_job("reply", std::move(p), 0));
  }

  // For everyone: in the alert's thread when there is one, else where the request was made.
  void announce(const std::string& text, const std::string& to_channel, const std::string& to_thread,
                std::int64_t alert_id, json blocks = nullptr) {
    json p = {{"text", redact(text)}, {"channel", to_channel.empty() ? channel : to_channel}, {"ephemeral", false}};
    if (!to_thread.empty()) p["thread_ts"] = to_thread;
    if (!blocks.is_null()) p["blocks"] = std::move(blocks);
    jobs.push_back(new_job("reply", std::move(p), alert_id));
  }

  // A click's own message replaced (approval requests, confirmations), when Slack gave a URL.
  void replace_clicked(const std::string& text) {
    if (response_url.empty()) return;
    jobs.push_back(new_job("reply", {{"text", redact(text)}, {"response_url", response_url}, {"replace_original", true},
                                     {"ephemeral", false}},
                           0));
  }

  void record(const std::string& action, json args, const std::string& result, std::int64_t alert_id = 0,
              const std::string& who = {}) {
    store::AuditEntry e;
    e.time = now;
    e.user = who.empty() ? user : who;
    e.channel = channel;
    e.action = action;
    e.alert_id = alert_id;
    e.args = json::parse(redact(args.dump()), nullptr, false);
    if (e.args.is_discarded()) e.args = json::object();
    e.result = redact(result);
    audit.push_back(std::move(e));
  }
};

namespace {

using Ctx = ChatCommands::Context;

}  // namespace

ChatCommands::ChatCommands(rules::Engine& engine, store::Store& store, Clock& clock, Logger log, ChatOptions options)
    : engine_(engine), store_(store), clock_(clock), log_(std::move(log)), options_(options) {}

// The pieces below are members of a local struct so they reach ChatCommands' privates through
// the nested Context; each takes the Context of the event being handled.
struct ChatCommandsImpl {
  using Needs = Builtin::Needs;

  static bool allowed(Ctx& c, Needs needs) {
    const Access& a = c.self.access_;
    switch (needs) {
      case Needs::anyone: return true;
      case Needs::read: return a.may_read(c.user, c.channel);
      case Needs::alerts: return a.may_handle_alerts(c.user, c.channel);
      case Needs::action: return true;  // checked per action
    }
    return false;
  }

  static void deny(Ctx& c, const std::string& what, const std::vector<std::string>& roles, json args) {
    const auto mine = c.self.access_.roles_of(c.user, c.channel);
    const std::string text = roles.empty()
                                 ? "You may not " + what + ": nobody may, from the chat (its `allow` is empty)."
                                 : "You may not " + what + ": it needs the role " + join(roles, " or ") +
                                       " (you have: " + roles_text(mine) + ").";
    c.tell(":no_entry: " + text);
    c.record("denied", std::move(args), text);
  }

  static std::vector<std::string> alert_roles(Ctx& c) { return c.self.access_.all_roles(); }

  // --- built-ins ------------------------------------------------------------------------------

  static void help(Ctx& c) {
    std::string text = "*What you can ask me* (mention me, DM me, or use `/vigie`):\n";
    for (const auto& b : kBuiltins) {
      if (b.needs == Needs::action) {
        if (!any_action_allowed(c)) continue;
      } else if (!allowed(c, b.needs)) {
        continue;
      }
      text += "• `" + std::string(b.usage) + "` — " + std::string(b.what) + " (e.g. `" + std::string(b.example) + "`)\n";
    }
    if (c.self.rules_) {
      for (const auto& cmd : c.self.rules_->commands()) {
        if (!may_run(c, cmd.action, cmd.allow)) continue;
        text += "• `" + cmd.pattern.usage() + "` — " + (cmd.help.empty() ? "runs " + cmd.action : cmd.help) + "\n";
      }
    }
    c.tell(text);
  }

  static bool may_run(Ctx& c, const std::string& action, const std::vector<std::string>& override_allow) {
    const auto* def = c.self.rules_ ? c.self.rules_->find_action(action) : nullptr;
    if (!def) return false;
    return c.self.access_.holds_any(c.user, c.channel, override_allow.empty() ? def->allow : override_allow);
  }

  static bool any_action_allowed(Ctx& c) {
    if (!c.self.rules_) return false;
    for (const auto& a : c.self.rules_->actions()) {
      if (c.self.access_.holds_any(c.user, c.channel, a.allow)) return true;
    }
    return false;
  }

  static void alerts(Ctx& c) {
    auto open = c.self.store_.open_alerts();
    if (!open) return c.tell("I could not read the alerts: " + open.error().message);
    if (open->empty()) return c.tell(":white_check_mark: No open alerts.");
    std::string text = "*Open alerts*\n";
    std::size_t shown = 0;
    for (const auto& a : *open) {
      if (++shown > c.self.options_.max_reply_lines) {
        text += "… " + std::to_string(open->size() - shown + 1) + " more\n";
        break;
      }
      text += "• #" + std::to_string(a.id) + " *" + a.rule + "* " + labels_text(a.labels) + " — " + a.state +
              (a.state == "acknowledged" && !a.acked_by.empty() ? " by <@" + a.acked_by + ">" : "") +
              (a.silenced ? " (silenced)" : "") + ", ×" + std::to_string(a.count) + " since " +
              format_rfc3339(a.first_seen);
      if (auto m = c.self.store_.slack_message(a.id); m && *m) text += " <" + message_link(**m) + "|message>";
      text += "\n";
    }
    c.tell(text);
  }

  static std::optional<store::Alert> alert_arg(Ctx& c, const std::vector<std::string>& words, const Builtin& b) {
    if (words.size() != 2) {
      c.tell("Usage: `" + std::string(b.usage) + "` (e.g. `" + std::string(b.example) + "`).");
      return std::nullopt;
    }
    const auto id = parse_id(words[1]);
    if (!id) {
      c.tell("`" + std::string(b.name) + "` expects an alert id (a number, as in `" + std::string(b.example) +
             "`), not `" + words[1] + "`.");
      return std::nullopt;
    }
    auto a = c.self.store_.find_alert(*id);
    if (!a || !*a) {
      c.tell("There is no alert #" + std::to_string(*id) + ". `alerts` lists the open ones.");
      return std::nullopt;
    }
    return **a;
  }

  static void ack_or_resolve(Ctx& c, const std::vector<std::string>& words, const Builtin& b) {
    auto a = alert_arg(c, words, b);
    if (!a) return;
    if (a->state == "resolved") return c.tell("Alert #" + std::to_string(a->id) + " is already resolved.");
    const bool ack = b.name == "ack";
    if (ack && a->state == "acknowledged") {
      return c.tell("Alert #" + std::to_string(a->id) + " is already acknowledged by <@" + a->acked_by + ">.");
    }
    auto o = ack ? c.self.engine_.acknowledge(a->id, c.user) : c.self.engine_.resolve(a->id, c.user);
    if (!o.ok) return c.tell("That did not work: " + o.error);
    c.merge(std::move(o));
    c.record(std::string(b.name), {{"alert_id", a->id}}, "ok", a->id);
    c.tell(std::string(ack ? ":eyes: Acknowledged" : ":white_check_mark: Resolved") + " #" + std::to_string(a->id) +
           " (" + a->rule + " " + labels_text(a->labels) + ").");
  }

  static void silence(Ctx& c, const std::vector<std::string>& words) {
    const Builtin& b = *find_builtin("silence");
    // silence <target words...> <duration> [comment...]: the first duration after a target ends it.
    std::size_t at = 0;
    std::optional<Duration> length;
    for (std::size_t i = 2; i < words.size(); ++i) {
      if (auto d = parse_duration(words[i])) {
        at = i;
        length = d;
        break;
      }
    }
    if (!length) {
      return c.tell("Usage: `" + std::string(b.usage) + "` — I need what to silence and for how long (e.g. `" +
                    std::string(b.example) + "`).");
    }
    if (*length <= Duration{0}) return c.tell("A silence must last longer than 0s.");
    std::vector<std::string> target(words.begin() + 1, words.begin() + static_cast<long>(at));
    std::string comment = join(std::vector<std::string>(words.begin() + static_cast<long>(at) + 1, words.end()), " ");

    store::Silence s;
    std::int64_t alert_id = 0;
    if (target.size() == 1 && parse_id(target[0])) {
      auto a = c.self.store_.find_alert(*parse_id(target[0]));
      if (!a || !*a) return c.tell("There is no alert #" + target[0] + ".");
      alert_id = (*a)->id;
      s = silence_for_alert(**a, c.user, c.now, *length);
    } else if (target.size() == 1 && c.self.rules_ && c.self.rules_->find_rule(target[0])) {
      s.matchers = json::array({"rule=\"" + target[0] + "\""});
    } else {
      for (const auto& t : target) {
        auto m = rules::parse_silence_matcher(t);
        if (std::holds_alternative<std::string>(m)) {
          std::vector<std::string> names;
          if (c.self.rules_) {
            for (const auto& r : c.self.rules_->rules()) names.push_back(r.name);
          }
          const std::string guess = closest_match(t, names);
          return c.tell("`" + t + "` is not a rule, an alert id or a matcher like `host=\"web-1\"`" +
                        (guess.empty() ? std::string(".") : ". Did you mean `" + guess + "`?"));
        }
        s.matchers.push_back(t);
      }
    }
    s.id = "chat-" + short_hash(c.source_id);
    s.starts = s.created = c.now;
    s.ends = c.now + *length;
    s.author = c.user;
    s.comment = comment.empty() ? "from Slack" : comment;
    auto o = c.self.engine_.add_silence(s);
    if (!o.ok) return c.tell("I could not create that silence: " + o.error);
    c.merge(std::move(o));
    c.record("silence", {{"matchers", s.matchers}, {"duration", format_duration(*length)}, {"comment", comment}}, "ok",
             alert_id);
    c.tell(":mute: Silenced `" + join(s.matchers.get<std::vector<std::string>>(), " ") + "` for " +
           format_duration(*length) + " (until " + format_rfc3339(s.ends) + "), id `" + s.id + "`. Undo: `unsilence " +
           s.id + "`.");
  }

  static void unsilence(Ctx& c, const std::vector<std::string>& words) {
    if (words.size() != 2) return c.tell("Usage: `unsilence <silence-id>` (`silences` lists them).");
    auto o = c.self.engine_.expire_silence(words[1], c.user);
    if (!o.ok) return c.tell("No active silence `" + words[1] + "` (`silences` lists them).");
    c.merge(std::move(o));
    c.record("unsilence", {{"silence", words[1]}}, "ok");
    c.tell(":loud_sound: Silence `" + words[1] + "` ended.");
  }

  static void silences(Ctx& c) {
    auto active = c.self.store_.active_silences(c.now);
    if (!active) return c.tell("I could not read the silences: " + active.error().message);
    if (active->empty()) return c.tell("No active silences.");
    std::string text = "*Active silences*\n";
    for (const auto& s : *active) {
      text += "• `" + s.id + "` " + join(s.matchers.get<std::vector<std::string>>(), " ") + " until " +
              format_rfc3339(s.ends) + " by <@" + s.author + ">" + (s.comment.empty() ? "" : " — " + s.comment) + "\n";
    }
    c.tell(text);
  }

  static void rules_list(Ctx& c) {
    if (!c.self.rules_ || c.self.rules_->rules().empty()) return c.tell("No rules are loaded.");
    std::string text = "*Rules*\n";
    std::size_t shown = 0;
    for (const auto& r : c.self.rules_->rules()) {
      if (++shown > c.self.options_.max_reply_lines) {
        text += "… " + std::to_string(c.self.rules_->rules().size() - shown + 1) + " more\n";
        break;
      }
      text += "• *" + r.name + "* (" + r.severity + (r.enabled ? "" : ", disabled") + ")" +
              (r.description.empty() ? "" : " — " + r.description) + "\n";
    }
    c.tell(text);
  }

  static void whoami(Ctx& c) {
    const auto roles = c.self.access_.roles_of(c.user, c.channel);
    c.tell("You are <@" + c.user + ">; your roles here: " + roles_text(roles) + ".");
  }

  static void status(Ctx& c, const std::vector<std::string>& words) {
    if (words.size() == 1) {
      json s = c.self.status_ ? c.self.status_() : json::object();
      std::string text = "*Vigie status*\n";
      for (auto it = s.begin(); it != s.end(); ++it) {
        text += "• " + it.key() + ": " + (it->is_string() ? it->get<std::string>() : it->dump()) + "\n";
      }
      auto open = c.self.store_.open_alerts();
      if (open) text += "• open alerts: " + std::to_string(open->size()) + "\n";
      return c.tell(text);
    }
    status_of(c, words[1]);
  }

  static void history(Ctx& c, const std::vector<std::string>& words) {
    auto a = alert_arg(c, words, *find_builtin("history"));
    if (!a) return;
    std::string text = "*#" + std::to_string(a->id) + " " + a->rule + "* " + labels_text(a->labels) + "\n";
    text += "• first seen " + format_rfc3339(a->first_seen) + ", last " + format_rfc3339(a->last_seen) + ", ×" +
            std::to_string(a->count) + " (occurrence " + std::to_string(a->occurrence) + ")\n";
    if (a->acked_at) text += "• acknowledged by <@" + a->acked_by + "> at " + format_rfc3339(*a->acked_at) + "\n";
    if (a->resolved_at) text += "• resolved at " + format_rfc3339(*a->resolved_at) + "\n";
    if (auto rows = c.self.store_.audit({std::nullopt, "", 1000})) {
      std::vector<store::AuditEntry> mine;
      for (const auto& r : *rows) {
        if (r.alert_id == a->id) mine.push_back(r);
      }
      for (auto it = mine.rbegin(); it != mine.rend(); ++it) {
        text += "• " + format_rfc3339(it->time) + " <@" + it->user + "> " + it->action + " — " + it->result + "\n";
      }
    }
    text += "• now: " + a->state + (a->silenced ? " (silenced)" : "");
    c.tell(text);
  }

  // --- actions, confirmations, approvals ---------------------------------------------------

  static std::optional<json> parse_params(Ctx& c, const rules::ActionDef& def, const std::vector<std::string>& words) {
    json params = json::object();
    for (const auto& w : words) {
      const auto eq = w.find('=');
      if (eq == std::string::npos || eq == 0) {
        c.tell("`" + w + "` is not a parameter: write `key=value`" +
               (def.params.empty() ? std::string(".") : " (" + def.name + " takes " + join(def.params, ", ") + ")."));
        return std::nullopt;
      }
      const std::string key = w.substr(0, eq);
      if (std::find(def.params.begin(), def.params.end(), key) == def.params.end()) {
        const std::string guess = closest_match(key, def.params);
        c.tell("`" + def.name + "` has no parameter `" + key + "`" +
               (guess.empty() ? (def.params.empty() ? " (it takes none)." : " (it takes " + join(def.params, ", ") + ").")
                              : ". Did you mean `" + guess + "`?"));
        return std::nullopt;
      }
      params[key] = w.substr(eq + 1);
    }
    return params;
  }

  static void run(Ctx& c, const std::vector<std::string>& words) {
    if (words.size() < 2) return c.tell("Usage: `run <action> [key=value ...]` (e.g. `run restart-dyno app=shop-api`).");
    const auto* def = c.self.rules_ ? c.self.rules_->find_action(words[1]) : nullptr;
    if (!def) {
      std::vector<std::string> names;
      if (c.self.rules_) {
        for (const auto& a : c.self.rules_->actions()) names.push_back(a.name);
      }
      const std::string guess = closest_match(words[1], names);
      return c.tell("There is no action `" + words[1] + "`" + (guess.empty() ? "." : ". Did you mean `" + guess + "`?"));
    }
    auto params = parse_params(c, *def, std::vector<std::string>(words.begin() + 2, words.end()));
    if (!params) return;
    start_action(c, *def, *params, nullptr, {});
  }

  // Access, then parameters, then confirmation / approvals / running.
  static void start_action(Ctx& c, const rules::ActionDef& def, json params, const store::Alert* alert,
                           const std::vector<std::string>& allow_override) {
    const auto& allow = allow_override.empty() ? def.allow : allow_override;
    const std::int64_t alert_id = alert ? alert->id : 0;
    if (!c.self.access_.holds_any(c.user, c.channel, allow)) {
      return deny(c, "run `" + def.name + "`", allow, {{"action", def.name}, {"params", params}});
    }
    std::vector<std::string> missing;
    for (const auto& p : def.params) {
      if (!params.contains(p)) missing.push_back(p + "=…");
    }
    if (!missing.empty()) return c.tell("`" + def.name + "` needs " + join(missing, " ") + ".");
    // Before anyone confirms or approves: bad parameters, the kill switch and the guardrails
    // refuse at once (dispatch checks them again, as time has passed by then).
    if (auto bad = check_params(def, params); !bad) {
      c.record("refused", {{"action", def.name}, {"params", params}}, bad.error(), alert_id);
      return c.tell(":no_entry: " + bad.error());
    }
    if (auto why = refusal(c, def, params)) {
      c.record("refused", {{"action", def.name}, {"params", params}}, *why, alert_id);
      return c.tell(":no_entry: " + *why);
    }

    // Where the conversation about it happens: the alert's thread, or where it was asked.
    std::string where_channel = c.channel, where_thread = c.thread_ts;
    if (alert) {
      if (auto m = c.self.store_.slack_message(alert->id); m && *m) {
        where_channel = (*m)->channel;
        where_thread = (*m)->ts;
      }
    }
    const Duration timeout = def.approval_timeout > Duration{0} ? def.approval_timeout : c.self.options_.default_approval_timeout;
    store::ChatRequest r;
    r.id = "req-" + short_hash(c.source_id + ":" + def.name);
    r.created = r.updated = c.now;
    r.expires = c.now + timeout;
    r.data = {{"action", def.name},
              {"params", params},
              {"alert_id", alert_id},
              {"requester", c.user},
              {"channel", where_channel},
              {"thread_ts", where_thread},
              {"asked_in", c.channel},
              {"needed", def.approvals},
              {"approvers", json::array()},
              {"allow", allow}};
    const std::string what = "`" + def.name + "`" + params_text(params);
    if (def.confirm) {
      r.state = "awaiting_confirm";
      c.requests.push_back(r);
      c.record("requested", {{"action", def.name}, {"params", params}, {"request", r.id}}, "awaiting confirmation",
               alert_id);
      json blocks = json::array(
          {{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", "Run " + c.redact(what) + "? This asks for confirmation."}}}},
           {{"type", "actions"},
            {"elements", json::array({{{"type", "button"}, {"text", {{"type", "plain_text"}, {"text", "Confirm"}}},
                                       {"style", "danger"}, {"action_id", kActionConfirm}, {"value", r.id}},
                                      {{"type", "button"}, {"text", {{"type", "plain_text"}, {"text", "Cancel"}}},
                                       {"action_id", kActionCancel}, {"value", r.id}}})}}});
      return c.tell("Run " + what + "? Press Confirm.", blocks);
    }
    if (def.approvals > 0) return ask_approval(c, r, what);
    r.state = "approved";
    c.requests.push_back(r);
    dispatch(c, r);
  }

  static void ask_approval(Ctx& c, store::ChatRequest& r, const std::string& what) {
    r.state = "awaiting_approval";
    c.requests.push_back(r);
    const auto needed = r.data["needed"].get<std::int64_t>();
    const auto allow = r.data["allow"].get<std::vector<std::string>>();
    const std::string text = ":raised_hand: <@" + str(r.data, "requester") + "> asks to run " + what + ". It needs " +
                             std::to_string(needed) + " approval" + (needed == 1 ? "" : "s") + " from another " +
                             join(allow, " or ") + " (expires " + format_rfc3339(r.expires) + ").";
    json blocks = json::array(
        {{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", c.redact(text)}}}},
         {{"type", "actions"},
          {"elements", json::array({{{"type", "button"}, {"text", {{"type", "plain_text"}, {"text", "Approve"}}},
                                     {"style", "primary"}, {"action_id", kActionApprove}, {"value", r.id}},
                                    {{"type", "button"}, {"text", {{"type", "plain_text"}, {"text", "Deny"}}},
                                     {"style", "danger"}, {"action_id", kActionDeny}, {"value", r.id}}})}}});
    c.announce(text, str(r.data, "channel"), str(r.data, "thread_ts"), r.data.value("alert_id", std::int64_t{0}), blocks);
    c.record("approval_requested", {{"action", r.data["action"]}, {"params", r.data["params"]}, {"request", r.id}},
             "awaiting " + std::to_string(needed) + " approval(s)", r.data.value("alert_id", std::int64_t{0}),
             str(r.data, "requester"));
  }

  // The kill switch, then (except for dry runs, which run nothing) the guardrails.
  static std::optional<std::string> refusal(Ctx& c, const rules::ActionDef& def, const json& params) {
    if (!c.self.actions_enabled_) {
      return std::string("Actions are switched off (`[actions] enabled = false` in vigie.toml): nothing runs.");
    }
    if (def.dry_run) return std::nullopt;
    return guardrail_refusal(c.self.store_, def, action_target(params), c.now);
  }

  static void dispatch(Ctx& c, const store::ChatRequest& r) {
    const auto* def = c.self.rules_ ? c.self.rules_->find_action(str(r.data, "action")) : nullptr;
    const std::int64_t alert_id = r.data.value("alert_id", std::int64_t{0});
    const std::string what = "`" + str(r.data, "action") + "`" + params_text(r.data["params"]);
    if (!def) {
      c.announce(":x: " + what + " can no longer run: the action is gone from the rules.", str(r.data, "channel"),
                 str(r.data, "thread_ts"), alert_id);
      return c.record("action", {{"request", r.id}}, "action no longer defined", alert_id);
    }
    const json params = r.data.value("params", json::object());
    auto refuse = [&](const std::string& why) {
      c.announce(":no_entry: " + what + " did not run: " + why, str(r.data, "channel"), str(r.data, "thread_ts"),
                 alert_id);
      c.record("refused", {{"action", def->name}, {"params", params}, {"request", r.id}}, why, alert_id,
               str(r.data, "requester"));
    };
    if (auto bad = check_params(*def, params); !bad) return refuse(bad.error());
    if (auto why = refusal(c, *def, params)) return refuse(*why);
    auto options = render_options(*def, params);
    if (!options) return refuse(options.error());
    const std::string target = action_target(params);
    json payload = {{"action", def->name},
                    {"type", def->type},
                    {"options", *options},
                    {"timeout_ms", def->timeout.count() > 0 ? def->timeout.count() : std::int64_t{60'000}},
                    {"target", target},
                    {"params", params},
                    {"alert_id", alert_id},
                    {"request", r.id},
                    {"requested_by", r.data["requester"]},
                    {"approved_by", r.data["approvers"]},
                    {"dry_run", def->dry_run},
                    {"reply_to", {{"channel", r.data["channel"]}, {"thread_ts", r.data["thread_ts"]}}}};
    store::Job job;
    job.id = "action:" + r.id;
    job.kind = "action";
    job.payload = std::move(payload);
    job.alert_id = alert_id;
    job.created = job.updated = c.now;
    if (!def->dry_run) {
      c.runs.push_back({def->name, target, job.id, str(r.data, "requester"), "running", c.now, std::nullopt});
    }
    c.jobs.push_back(std::move(job));
    c.announce(std::string(def->dry_run ? ":mag: Dry run of " : ":gear: Running ") + what + " for <@" +
                   str(r.data, "requester") + ">…",
               str(r.data, "channel"), str(r.data, "thread_ts"), alert_id);
    c.record("run", {{"action", def->name}, {"params", r.data["params"]}, {"request", r.id}}, "dispatched", alert_id,
             str(r.data, "requester"));
  }

  static std::optional<store::ChatRequest> open_request(Ctx& c, const std::string& id, const std::string& state) {
    auto r = c.self.store_.find_chat_request(id);
    if (!r || !*r) {
      c.tell("That request is unknown (it may be older than the retention).");
      return std::nullopt;
    }
    if ((*r)->state != state) {
      c.tell("That request is already " + (*r)->state + ".");
      return std::nullopt;
    }
    if ((*r)->expires <= c.now) {
      c.tell("That request expired at " + format_rfc3339((*r)->expires) + ".");
      return std::nullopt;
    }
    return **r;
  }

  static void confirm(Ctx& c, const std::string& id, bool yes) {
    auto r = open_request(c, id, "awaiting_confirm");
    if (!r) return;
    if (c.user != str(r->data, "requester")) return c.tell("Only <@" + str(r->data, "requester") + "> can confirm this.");
    const std::string what = "`" + str(r->data, "action") + "`" + params_text(r->data["params"]);
    const std::int64_t alert_id = r->data.value("alert_id", std::int64_t{0});
    r->updated = c.now;
    if (!yes) {
      r->state = "cancelled";
      c.requests.push_back(*r);
      c.replace_clicked("Cancelled: " + what + ".");
      return c.record("cancelled", {{"request", r->id}}, "cancelled by the requester", alert_id);
    }
    c.record("confirmed", {{"request", r->id}}, "confirmed", alert_id);
    c.replace_clicked("Confirmed: " + what + ".");
    if (r->data.value("needed", std::int64_t{0}) > 0) return ask_approval(c, *r, what);
    r->state = "approved";
    c.requests.push_back(*r);
    dispatch(c, *r);
  }

  static void approve(Ctx& c, const std::string& id, bool yes) {
    auto r = open_request(c, id, "awaiting_approval");
    if (!r) return;
    const auto allow = r->data["allow"].get<std::vector<std::string>>();
    const std::string requester = str(r->data, "requester");
    const std::int64_t alert_id = r->data.value("alert_id", std::int64_t{0});
    const std::string what = "`" + str(r->data, "action") + "`" + params_text(r->data["params"]);
    if (yes && c.user == requester) {
      c.record("denied", {{"request", r->id}}, "the requester cannot approve their own request", alert_id);
      return c.tell("You asked for this one: someone else must approve it.");
    }
    if (!c.self.access_.holds_any(c.user, c.channel, allow)) {
      return deny(c, std::string(yes ? "approve" : "deny") + " this request", allow, {{"request", r->id}});
    }
    r->updated = c.now;
    if (!yes) {
      r->state = "denied";
      c.requests.push_back(*r);
      c.replace_clicked(":no_entry: Denied by <@" + c.user + ">: " + what + ".");
      c.announce(":no_entry: <@" + c.user + "> denied " + what + " (asked by <@" + requester + ">).", str(r->data, "channel"),
                 str(r->data, "thread_ts"), alert_id);
      return c.record("denied_request", {{"request", r->id}}, "denied", alert_id);
    }
    auto approvers = r->data["approvers"].get<std::vector<std::string>>();
    if (std::find(approvers.begin(), approvers.end(), c.user) != approvers.end()) {
      return c.tell("You already approved this request.");
    }
    approvers.push_back(c.user);
    r->data["approvers"] = approvers;
    const auto needed = r->data.value("needed", std::int64_t{1});
    c.record("approved", {{"request", r->id}}, std::to_string(approvers.size()) + "/" + std::to_string(needed), alert_id);
    if (static_cast<std::int64_t>(approvers.size()) < needed) {
      c.requests.push_back(*r);
      return c.tell("Approval recorded (" + std::to_string(approvers.size()) + " of " + std::to_string(needed) + ").");
    }
    r->state = "approved";
    c.requests.push_back(*r);
    c.replace_clicked(":white_check_mark: Approved by " + [&] {
      std::string s;
      for (const auto& a : approvers) s += (s.empty() ? "" : ", ") + std::string("<@") + a + ">";
      return s;
    }() + ": " + what + ".");
    dispatch(c, *r);
  }

  // --- monitoring (issue 8) -------------------------------------------------------------------

  // Whether an event or alert is about `name`: a string attr (or one of a nested object, as
  // `entity.name`) equal to it — app, host, hostname, project, source_name, whichever the source has.
  static bool about(const json& attrs, const std::string& name) {
    for (auto it = attrs.begin(); it != attrs.end(); ++it) {
      if (it->is_string() && it->get_ref<const std::string&>() == name) return true;
      if (it->is_object()) {
        for (auto in = it->begin(); in != it->end(); ++in) {
          if (in->is_string() && in->get_ref<const std::string&>() == name) return true;
        }
      }
    }
    return false;
  }

  static std::string value_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_float()) {
      std::ostringstream out;
      out << v.get<double>();
      return out.str();
    }
    return v.dump();
  }

  static std::string one_line(std::string text, std::size_t max) {
    for (auto& ch : text) {
      if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
    }
    if (text.size() > max) text = text.substr(0, max) + "…";
    return text;
  }

  // Events of `kind` about `name` since `since`, newest first (bounded: a status question must
  // stay cheap on the engine thread).
  static std::vector<bus::Event> seen(Ctx& c, const char* kind, const std::string& name, TimePoint since) {
    std::vector<bus::Event> out;
    auto recent = c.self.store_.recent_events(std::string(kind), since, 2000);
    if (!recent) return out;
    for (auto& e : *recent) {
      if (about(e.attrs, name)) out.push_back(std::move(e));
    }
    return out;
  }

  // `status <app|host>`: what the collectors last saw about it — NewRelic health, open Sentry
  // issues, recent Papertrail errors — and the alerts firing for it. Read from the store only.
  static void status_of(Ctx& c, const std::string& name) {
    std::string text = "*" + name + "*\n";
    std::size_t alerts = 0;
    if (auto open = c.self.store_.open_alerts()) {
      for (const auto& a : *open) {
        if (!about(a.labels, name)) continue;
        ++alerts;
        text += "• :rotating_light: #" + std::to_string(a.id) + " " + a.rule + " — " + a.state + ", ×" +
                std::to_string(a.count) + "\n";
      }
    }
    if (alerts == 0) text += "• no open alerts\n";
    bool known = false;

    // NewRelic: the latest health report of the last day.
    const auto health = seen(c, "newrelic.app_health", name, c.now - std::chrono::hours(24));
    if (!health.empty()) {
      known = true;
      const json& a = health.front().attrs;
      std::string line = "• NewRelic";
      const std::pair<const char*, const char*> fields[] = {{"health_status", "health"},
                                                            {"response_time", "response time (ms)"},
                                                            {"error_rate", "error rate"},
                                                            {"throughput", "throughput (rpm)"},
                                                            {"apdex_score", "apdex"}};
      std::string parts;
      for (const auto& [key, label] : fields) {
        auto it = a.find(key);
        if (it == a.end() || it->is_null()) continue;
        parts += (parts.empty() ? ": " : ", ") + std::string(label) + " " + value_text(*it);
      }
      text += line + parts + " (at " + format_rfc3339(health.front().time) + ")\n";
    }

    // Sentry: open issues seen in the last week, the latest report of each.
    const auto issues = seen(c, "sentry.issue", name, c.now - std::chrono::hours(24 * 7));
    if (!issues.empty()) {
      known = true;
      std::map<std::string, const bus::Event*> latest;  // issue → its newest event
      for (const auto& e : issues) {
        std::string key = str(e.attrs, "issue_id");
        if (key.empty()) key = e.attrs.contains("id") ? value_text(e.attrs["id"]) : e.id;
        latest.emplace(key, &e);  // newest first: the first kept is the latest
      }
      std::vector<const bus::Event*> open;
      for (const auto& [key, e] : latest) {
        const std::string st = str(e->attrs, "status");
        if (st == "resolved" || st == "ignored" || st == "resolvedInNextRelease") continue;
        open.push_back(e);
      }
      auto count_of = [](const bus::Event* e) {
        auto it = e->attrs.find("count");
        if (it == e->attrs.end()) return std::int64_t{0};
        if (it->is_number()) return it->get<std::int64_t>();
        if (it->is_string()) return static_cast<std::int64_t>(std::atoll(it->get<std::string>().c_str()));
        return std::int64_t{0};
      };
      std::sort(open.begin(), open.end(), [&](auto* x, auto* y) { return count_of(x) > count_of(y); });
      text += "• Sentry: " + std::to_string(open.size()) + " open issue" + (open.size() == 1 ? "" : "s") + "\n";
      for (std::size_t i = 0; i < open.size() && i < 5; ++i) {
        const json& a = open[i]->attrs;
        std::string id = str(a, "short_id");
        text += "    – " + (id.empty() ? std::string() : id + " ") + one_line(str(a, "title"), 120) + " ×" +
                std::to_string(count_of(open[i])) + "\n";
      }
    }

    // Papertrail: error lines of the last hour.
    const auto lines = seen(c, "papertrail.log", name, c.now - std::chrono::hours(1));
    if (!lines.empty()) known = true;
    std::vector<const bus::Event*> errors;
    for (const auto& e : lines) {
      const std::string level = str(e.attrs, "level");
      if (level == "error" || level == "critical" || level == "alert" || level == "emergency") errors.push_back(&e);
    }
    if (!lines.empty()) {
      text += "• Papertrail: " + std::to_string(errors.size()) + " error line" + (errors.size() == 1 ? "" : "s") +
              " in the last hour (of " + std::to_string(lines.size()) + " lines seen)\n";
      std::string recent;
      for (std::size_t i = 0; i < errors.size() && i < 3; ++i) {
        const json& a = errors[i]->attrs;
        recent += format_rfc3339(errors[i]->time) + " " + str(a, "hostname") + " " + str(a, "program") + ": " +
                  one_line(str(a, "message"), 200) + "\n";
      }
      if (!recent.empty()) text += capped_code_block(recent, c.self.options_.max_reply_lines) + "\n";
    }
    // Any other source that mentions it (webhooks, Alertmanager, custom kinds): counts by kind.
    std::map<std::string, std::pair<std::size_t, TimePoint>> other;
    if (auto recent = c.self.store_.recent_events(std::nullopt, c.now - std::chrono::hours(1), 5000)) {
      for (const auto& e : *recent) {
        if (e.source == "vigie" || e.source == "slack" || e.source == "worker" || e.source == "collector" ||
            e.kind == "newrelic.app_health" || e.kind == "sentry.issue" || e.kind == "papertrail.log" ||
            !about(e.attrs, name)) {
          continue;
        }
        auto& slot = other[e.kind];
        if (slot.first++ == 0) slot.second = e.time;  // newest first: the first seen is the latest
      }
    }
    for (const auto& [kind, n] : other) {
      known = true;
      text += "• " + kind + ": " + std::to_string(n.first) + " in the last hour, latest " + format_rfc3339(n.second) +
              "\n";
    }
    if (!known) text += "• nothing from NewRelic, Sentry or Papertrail about it lately\n";
    c.tell(text);
  }

  // `logs <query> [since]`: a bounded Papertrail search, run by a worker (never HTTP on this
  // thread): a `logs` job whose result the worker posts back as a reply to the asker.
  static void logs(Ctx& c, const std::vector<std::string>& words) {
    const Builtin& b = *find_builtin("logs");
    std::vector<std::string> terms(words.begin() + 1, words.end());
    Duration since = std::chrono::hours(1);
    if (terms.size() > 1) {
      if (auto d = parse_duration(terms.back())) {
        since = *d;
        terms.pop_back();
      }
    }
    if (terms.empty()) {
      return c.tell("Usage: `" + std::string(b.usage) + "` (e.g. `" + std::string(b.example) +
                    "`): the search as in Papertrail, and how far back (default 1h, at most 7d).");
    }
    if (since <= Duration{0} || since > std::chrono::hours(24 * 7)) {
      return c.tell("`logs` looks back between 1s and 7d, not " + format_duration(since) + ".");
    }
    // Words quoted in the chat stay a phrase for Papertrail.
    std::string query;
    for (const auto& t : terms) {
      query += (query.empty() ? "" : " ") + (t.find(' ') != std::string::npos ? "\"" + t + "\"" : t);
    }
    json reply_to = {{"user", c.user}, {"channel", c.channel}};
    if (!c.response_url.empty()) reply_to["response_url"] = c.response_url;
    if (!c.thread_ts.empty()) reply_to["thread_ts"] = c.thread_ts;
    if (c.via == "dm") reply_to["ephemeral"] = false;
    json payload = {{"query", query},
                    {"since", format_duration(since)},
                    {"min_time_ms", to_unix_ms(c.now - since)},
                    {"max_time_ms", to_unix_ms(c.now)},
                    {"limit", kLogsLimit},
                    {"max_lines", c.self.options_.max_reply_lines},
                    {"reply_to", reply_to}};
    c.jobs.push_back(c.new_job("logs", std::move(payload), 0));
    c.record("logs", {{"query", query}, {"since", format_duration(since)}}, "searching");
  }

  // --- entry points --------------------------------------------------------------------------

  static void command(Ctx& c, const std::string& text) {
    auto words = rules::CommandPattern::split_words(text);
    if (!words) return c.tell("A quote is left open in `" + text + "`.");
    if (words->empty()) return help(c);
    std::string head = (*words)[0];
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char ch) { return std::tolower(ch); });
    c.record("command", {{"text", text}}, "received");
    if (const Builtin* b = find_builtin(head)) {
      if (!allowed(c, b->needs)) {
        return deny(c, "use `" + std::string(b->name) + "`",
                    b->needs == Needs::read ? c.self.access_.read_roles() : alert_roles(c), {{"text", text}});
      }
      if (head == "help") return help(c);
      if (head == "alerts") return alerts(c);
      if (head == "ack" || head == "resolve") return ack_or_resolve(c, *words, *b);
      if (head == "silence") return silence(c, *words);
      if (head == "unsilence") return unsilence(c, *words);
      if (head == "silences") return silences(c);
      if (head == "rules") return rules_list(c);
      if (head == "run") return run(c, *words);
      if (head == "status") return status(c, *words);
      if (head == "whoami") return whoami(c);
      if (head == "history") return history(c, *words);
      if (head == "logs") return logs(c, *words);
    }
    // [[command]] aliases.
    std::string expected;
    if (c.self.rules_) {
      for (const auto& cmd : c.self.rules_->commands()) {
        auto m = cmd.pattern.match(*words);
        if (auto* ok = std::get_if<rules::CommandPattern::Match>(&m)) {
          const auto* def = c.self.rules_->find_action(cmd.action);
          if (!def) return c.tell("`" + cmd.pattern.usage() + "` runs `" + cmd.action + "`, which is not defined.");
          json params = json::object();
          for (const auto& [k, v] : ok->values) {
            if (std::find(def->params.begin(), def->params.end(), k) != def->params.end()) params[k] = v;
          }
          return start_action(c, *def, params, nullptr, cmd.allow);
        }
        const auto& miss = std::get<rules::CommandPattern::Mismatch>(m);
        const auto head_words = static_cast<std::size_t>(std::count_if(
            cmd.pattern.parts().begin(), cmd.pattern.parts().end(),
            [](const rules::PatternPart& p) { return p.type == rules::PatternPart::Type::literal; }));
        if (miss.matched_literals > 0 && miss.matched_literals >= std::min<std::size_t>(head_words, 1) &&
            cmd.pattern.head() == head && expected.empty()) {
          expected = "Usage: `" + cmd.pattern.usage() + "` — expected " + miss.expected + ".";
        }
      }
    }
    if (!expected.empty()) return c.tell(expected);
    std::vector<std::string> names;
    for (const auto& b : kBuiltins) names.emplace_back(b.name);
    if (c.self.rules_) {
      for (const auto& cmd : c.self.rules_->commands()) names.push_back(cmd.pattern.head());
    }
    const std::string guess = closest_match(head, names);
    c.tell("I don't know `" + head + "`." + (guess.empty() ? "" : " Did you mean `" + guess + "`?") +
           " `help` lists what you can ask.");
  }

  static void click(Ctx& c, const bus::Event& e) {
    const std::string action_id = str(e.attrs, "action_id");
    const std::string value = str(e.attrs, "value");
    if (action_id == kActionConfirm || action_id == kActionCancel) return confirm(c, value, action_id == kActionConfirm);
    if (action_id == kActionApprove || action_id == kActionDeny) return approve(c, value, action_id == kActionApprove);
    const auto alert_id = parse_id(value).value_or(0);
    if (action_id.rfind(actions::slack::kActionRunPrefix, 0) == 0) {
      const std::string name = action_id.substr(actions::slack::kActionRunPrefix.size());
      c.record("click", {{"action_id", action_id}}, "received", alert_id);
      const auto* def = c.self.rules_ ? c.self.rules_->find_action(name) : nullptr;
      auto alert = c.self.store_.find_alert(alert_id);
      if (!def || !alert || !*alert) return c.tell("That button is out of date: `" + name + "` or its alert is gone.");
      // Parameters come from the alert's labels (an offered action's parameters are label names).
      json params = json::object();
      for (const auto& p : def->params) {
        if ((*alert)->labels.contains(p)) {
          const auto& v = (*alert)->labels[p];
          params[p] = v.is_string() ? v.get<std::string>() : v.dump();
        }
      }
      return start_action(c, *def, params, &**alert, {});
    }
    if (action_id == actions::slack::kActionAck || action_id == actions::slack::kActionResolve ||
        action_id == actions::slack::kActionSilence1h) {
      if (!c.self.access_.may_handle_alerts(c.user, c.channel)) {
        return deny(c, "press that button", alert_roles(c), {{"action_id", action_id}, {"alert_id", alert_id}});
      }
      auto o = apply_alert_button(c.self.engine_, c.self.store_, e, c.now);
      if (!o) return c.tell("That alert is gone.");
      if (!o->ok) {
        c.record("click", {{"action_id", action_id}}, "failed: " + o->error, alert_id);
        return c.tell("That did not work: " + o->error);
      }
      c.merge(std::move(*o));
      return c.record("click", {{"action_id", action_id}}, "ok", alert_id);
    }
    c.record("click", {{"action_id", action_id}, {"value", value}}, "not handled", alert_id);
  }

  static rules::EngineOutput commit(Ctx& c) {
    auto& store = c.self.store_;
    auto ok = store.write([&] {
      for (const auto& j : c.jobs) {
        if (!store.add_job(j)) return false;
      }
      for (const auto& r : c.requests) {
        if (!store.save_chat_request(r)) return false;
      }
      for (const auto& a : c.audit) {
        if (!store.append_audit(a)) return false;
      }
      for (const auto& r : c.runs) {
        if (!store.start_action_run(r)) return false;
      }
      return true;
    });
    if (!ok || !*ok) {
      c.out.ok = false;
      c.out.error = ok ? "chat work rolled back" : ok.error().message;
      c.self.log_.error("chat work not stored", {{"error", c.out.error}});
      return std::move(c.out);
    }
    for (auto& j : c.jobs) c.out.jobs.push_back(std::move(j));
    return std::move(c.out);
  }
};

std::optional<rules::EngineOutput> ChatCommands::handle(const bus::Event& e) {
  if (e.kind != "chat.command" && e.kind != "chat.action") return std::nullopt;
  Ctx c{*this, e.id};
  c.now = clock_.system_now();
  c.user = str(e.attrs, "user");
  c.channel = str(e.attrs, "channel");
  c.thread_ts = str(e.attrs, "thread_ts");
  c.response_url = str(e.attrs, "response_url");
  c.via = str(e.attrs, "via");
  try {
    if (e.kind == "chat.command") {
      ChatCommandsImpl::command(c, str(e.attrs, "text"));
    } else {
      ChatCommandsImpl::click(c, e);
    }
  } catch (const std::exception& ex) {
    // A malformed stored value must not stop the engine loop: say so and keep going.
    log_.error("chat command failed", {{"event", e.id}, {"error", ex.what()}});
    c.tell("Something went wrong handling that; it is in Vigie's log.");
  }
  return ChatCommandsImpl::commit(c);
}

rules::EngineOutput ChatCommands::action_finished(const std::string& job_id, bool ok, const json& output,
                                                  const std::string& reason) {
  auto job = store_.find_job(job_id);
  if (!job || !*job || (*job)->kind != "action") return {};
  const json& p = (*job)->payload;
  Ctx c{*this, job_id};
  c.now = clock_.system_now();
  c.user = str(p, "requested_by");
  const json reply_to = p.value("reply_to", json::object());
  c.channel = str(reply_to, "channel");
  const json params = p.value("params", json::object());
  const std::string what = "`" + str(p, "action") + "`" + params_text(params);
  const std::int64_t alert_id = p.value("alert_id", std::int64_t{0});
  const bool dry_run = output.value("dry_run", p.value("dry_run", false));
  std::string text =
      ok ? (dry_run ? ":mag: " + what + " (dry run)." : ":white_check_mark: " + what + " finished.")
         : ":x: " + what + " failed: " + rules::slack_escape(reason);
  const std::string detail = str(output, "output").empty() ? str(output, "summary") : str(output, "output");
  if (!detail.empty()) text += "\n" + capped_code_block(detail, options_.max_reply_lines);
  c.announce(text, c.channel, str(reply_to, "thread_ts"), alert_id);
  c.record("action_result", {{"action", p.value("action", "")}, {"job", job_id}}, ok ? "ok" : "failed: " + reason,
           alert_id);
  auto out = ChatCommandsImpl::commit(c);
  if (!out.ok) return out;
  if (auto r = store_.finish_action_run(job_id, ok ? "ok" : "failed", c.now); !r) {
    log_.error("action run not recorded as finished", {{"job", job_id}, {"error", r.error().message}});
  }

  // The outcome as an event (`action.finished`), which rules may use — e.g. resolve_when — so the
  // parameters are attributes too (`app`), unless they would hide one of the event's own.
  bus::Event e;
  e.id = "action.finished:" + job_id;
  e.source = "vigie";
  e.kind = "action.finished";
  e.time = e.received_at = c.now;
  const json details = output.value("details", json::object());
  e.attrs = {{"action", p.value("action", "")},
             {"type", p.value("type", "")},
             {"target", p.value("target", "")},
             {"params", params},
             {"status", ok ? "ok" : "failed"},
             {"ok", ok},
             {"dry_run", dry_run},
             {"output", c.redact(actions::cap_output(detail, 4096))},
             {"reason", c.redact(reason)},
             {"alert_id", alert_id},
             {"job", job_id},
             {"requested_by", p.value("requested_by", "")},
             {"details", details.is_object() ? details : json::object()}};
  if (details.is_object() && details.contains("exit_code")) e.attrs["exit_code"] = details["exit_code"];
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (!e.attrs.contains(it.key())) e.attrs[it.key()] = it.value();
  }
  auto ingested = engine_.ingest({e});
  if (!ingested.ok) {
    log_.error("action.finished not stored", {{"job", job_id}, {"error", ingested.error}});
  }
  for (auto& ev : ingested.events) out.events.push_back(std::move(ev));
  for (auto& j : ingested.jobs) out.jobs.push_back(std::move(j));
  return out;
}

rules::EngineOutput ChatCommands::tick() {
  rules::EngineOutput all;
  const TimePoint now = clock_.system_now();
  auto open = store_.open_chat_requests();
  if (!open) return all;
  for (auto& r : *open) {
    if (r.expires > now) continue;
    Ctx c{*this, r.id + ":expired"};
    c.now = now;
    c.user = str(r.data, "requester");
    c.channel = str(r.data, "asked_in");
    const std::string what = "`" + str(r.data, "action") + "`" + params_text(r.data["params"]);
    const std::int64_t alert_id = r.data.value("alert_id", std::int64_t{0});
    const bool approval = r.state == "awaiting_approval";
    r.state = "expired";
    r.updated = now;
    c.requests.push_back(r);
    c.announce(":hourglass: The request to run " + what + " by <@" + c.user + "> expired: no " +
                   (approval ? "approval" : "confirmation") + " in time.",
               str(r.data, "channel"), str(r.data, "thread_ts"), alert_id);
    c.record("expired", {{"request", r.id}}, approval ? "not approved in time" : "not confirmed in time", alert_id);
    auto o = ChatCommandsImpl::commit(c);
    for (auto& j : o.jobs) all.jobs.push_back(std::move(j));
    if (!o.ok) {
      all.ok = false;
      all.error = o.error;
    }
  }
  return all;
}

std::optional<TimePoint> ChatCommands::next_deadline() {
  auto open = store_.open_chat_requests();
  if (!open || open->empty()) return std::nullopt;
  TimePoint first = open->front().expires;
  for (const auto& r : *open) first = std::min(first, r.expires);
  return first;
}

}  // namespace vigie::chat
