// The Slack delivery queue: per-channel pacing, 429s, coalescing, digests, retries.
#include "vigie/actions/slack_delivery.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "../src/provider_http.h"
#include "vigie/actions/slack_message.h"

namespace vigie::actions::slack {
namespace {

using nlohmann::json;

// One job's progress: a job may need several calls (an edit and a thread reply).
struct JobState {
  std::string job_id;
  SlackDelivery::Done done;
  std::size_t remaining = 0;
  json output = json::object();
  std::optional<std::string> failure;
  json failure_event;
};

struct Waiter {
  std::shared_ptr<JobState> job;
  bool primary = false;  // this call's channel and ts are the alert's message
};

// respond: an answer to a person (a chat command's result, a refused click): through the
// request's response_url when there is one, else chat.postEphemeral or chat.postMessage.
enum class Kind { post, update, reply, respond };

struct Item {
  Kind kind = Kind::post;
  std::string channel;
  AlertNotice notice;
  std::string ts;         // update: the message edited
  std::string thread_ts;  // reply: the thread
  std::string text;       // reply
  bool broadcast = false;
  std::string replaces_ts;  // a post standing in for a message that can no longer be edited
  std::vector<Waiter> waiters;
  int attempts = 0;
  SteadyPoint not_before{};
  bool digest = false;
  std::vector<Item> members;  // a digest's alerts
  std::string method;         // respond: "response_url", "chat.postEphemeral" or "chat.postMessage"
  std::string url;            // respond via response_url
  json body;                  // respond: the request body as built from the job
};

struct Channel {
  std::deque<Item> queue;
  double tokens = 0;
  SteadyPoint refilled{};
  SteadyPoint blocked_until{};
  bool initialised = false;
};

struct CallOutcome {
  enum class What { ok, rate_limited, retry, cannot_edit, fail } what = What::fail;
  json body;
  std::string error;
  Duration retry_after{0};
};

constexpr std::pair<std::string_view, std::string_view> kPermanent[] = {
    {"channel_not_found", "the channel id is wrong or the app cannot see it: check `notify` and [slack] default_channel"},
    {"not_in_channel", "invite the app to the channel (/invite @vigie)"},
    {"is_archived", "the channel is archived: unarchive it or change `notify`"},
    {"invalid_auth", "the bot token is wrong: check [slack] token_env / token_file (xoxb-...)"},
    {"not_authed", "no bot token was sent: set [slack] token_env or token_file"},
    {"token_revoked", "the bot token was revoked: reinstall the app and update the token"},
    {"account_inactive", "the app's account was deactivated: reinstall the app"},
    {"missing_scope", "the app lacks a scope: add chat:write (docs/slack-setup.md) and reinstall"},
    {"invalid_blocks", "Slack refused the message layout: a Vigie bug, please report it with this log line"},
    {"msg_too_long", "the message is too long: a Vigie bug, please report it with this log line"},
    {"no_text", "the message was empty: a Vigie bug, please report it with this log line"},
};

constexpr std::string_view kRetryable[] = {"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                                           "request_timeout", "team_added_to_org"};

Duration parse_retry_after(const std::optional<std::string>& header) {
  if (!header) return Duration{1'000};
  std::int64_t seconds = 0;
  auto [p, ec] = std::from_chars(header->data(), header->data() + header->size(), seconds);
  if (ec != std::errc() || seconds < 0) return Duration{1'000};
  return Duration{std::min<std::int64_t>(seconds, 3600) * 1000};
}

}  // namespace

std::optional<std::string> permanent_error_fix(std::string_view error) {
  for (const auto& [code, fix] : kPermanent) {
    if (code == error) return std::string(fix);
  }
  return std::nullopt;
}

bool retryable_error(std::string_view error) {
  return std::find(std::begin(kRetryable), std::end(kRetryable), error) != std::end(kRetryable);
}

struct SlackDelivery::Impl {
  DeliveryOptions options;
  net::HttpClient& http;
  Clock& clock;
  Logger log;
  std::function<double()> random01;
  mutable std::mutex mutex;
  std::condition_variable cv;
  std::map<std::string, Channel> channels;
  // Messages this worker posted, by alert id, until their alert is resolved: the engine's own
  // record (in each notice) serves anything later, and a long-running worker must not grow by one
  // entry per alert ever posted.
  std::map<std::int64_t, MessageRef> known;
  std::set<std::string> reported;            // permanent errors already logged (channel + error)
  Stats stats;
  std::thread driver;
  bool stopping = false;
  bool work_arrived = false;

  Impl(DeliveryOptions o, net::HttpClient& h, Clock& c, Logger l, std::function<double()> r)
      : options(std::move(o)), http(h), clock(c), log(std::move(l)), random01(std::move(r)) {
    if (!random01) {
      random01 = [rng = std::make_shared<std::mt19937_64>(std::random_device{}())] {
        return std::uniform_real_distribution<double>(0.0, 1.0)(*rng);
      };
    }
  }

  Channel& channel(const std::string& name) { return channels[name]; }

  // A pending post or edit of this alert's message in this channel, not yet sent.
  Item* pending_message(const std::string& ch, std::int64_t alert_id) {
    auto it = channels.find(ch);
    if (it == channels.end()) return nullptr;
    for (auto& item : it->second.queue) {
      if ((item.kind == Kind::post || item.kind == Kind::update) && !item.digest && item.notice.alert_id == alert_id &&
          item.replaces_ts.empty()) {
        return &item;
      }
    }
    return nullptr;
  }

  void enqueue_reply(const std::string& ch, const std::string& thread_ts, const std::string& text, bool broadcast,
                     std::optional<Waiter> waiter) {
    auto& q = channel(ch).queue;
    // Replies waiting for the same thread go as one message (a storm resolving makes one reply).
    for (auto& item : q) {
      if (item.kind == Kind::reply && item.thread_ts == thread_ts && item.broadcast == broadcast &&
          item.text.size() + text.size() < kMaxSectionChars) {
        item.text += "\n" + text;
        if (waiter) item.waiters.push_back(*waiter);
        ++stats.coalesced;
        return;
      }
    }
    Item r;
    r.kind = Kind::reply;
    r.channel = ch;
    r.thread_ts = thread_ts;
    r.text = text;
    r.broadcast = broadcast;
    if (waiter) r.waiters.push_back(*waiter);
    q.push_back(std::move(r));
  }

  // A reply job: {text, blocks?, channel?, user?, thread_ts?, response_url?, ephemeral? (true),
  // replace_original? (false)}. One call, paced and retried like the rest of its channel.
  void add_reply_job(const bus::Job& job, Done done) {
    const json& p = job.payload;
    auto state = std::make_shared<JobState>();
    state->job_id = job.id;
    state->done = std::move(done);
    state->remaining = 1;
    const std::string text = truncate_utf8(p.value("text", std::string()), kMaxFallbackChars);
    const bool ephemeral = p.value("ephemeral", true);
    Item item;
    item.kind = Kind::respond;
    item.channel = p.value("channel", options.default_channel);
    item.waiters.push_back({state, true});
    if (const std::string url = p.value("response_url", std::string()); !url.empty()) {
      item.method = "response_url";
      item.url = url;
      item.body = {{"response_type", ephemeral ? "ephemeral" : "in_channel"},
                   {"text", text},
                   {"replace_original", p.value("replace_original", false)}};
      // response_url calls are not counted against a channel's Web API pace.
      if (item.channel.empty()) item.channel = "response_url";
    } else {
      const std::string user = p.value("user", std::string());
      item.method = ephemeral && !user.empty() ? "chat.postEphemeral" : "chat.postMessage";
      item.body = {{"channel", item.channel}, {"text", text}};
      if (item.method == "chat.postEphemeral") item.body["user"] = user;
      if (const std::string t = p.value("thread_ts", std::string()); !t.empty()) item.body["thread_ts"] = t;
    }
    if (p.contains("blocks") && p["blocks"].is_array()) item.body["blocks"] = p["blocks"];
    if (item.channel.empty()) {
      const std::string reason = "a reply job needs a channel or a response_url";
      log.error("Slack reply not sent", {{"job", job.id}, {"error", reason}});
      state->done({job.id, bus::JobOutcome::fail, json::object(), reason, Duration{0}, ""});
      return;
    }
    channel(item.channel).queue.push_back(std::move(item));
  }

  void add_job(const bus::Job& job, Done done) {
    if (job.kind == "reply") {
      add_reply_job(job, std::move(done));
      return;
    }
    AlertNotice n = AlertNotice::from_payload(job.payload);
    auto state = std::make_shared<JobState>();
    state->job_id = job.id;
    state->done = std::move(done);
    const std::string ch = !n.channels.empty() && !n.channels.front().empty() ? n.channels.front() : options.default_channel;
    std::optional<MessageRef> ref = n.message;
    if (auto k = known.find(n.alert_id); k != known.end()) ref = k->second;  // fresher than the engine's

    auto message_call = [&](bool primary) {
      Waiter w{state, primary};
      ++state->remaining;
      const std::string target = ref && !ref->digest ? ref->channel : ch;
      if (Item* pending = pending_message(target, n.alert_id)) {
        // The latest state wins: one call carries every edit that waited.
        pending->notice = n;
        pending->waiters.push_back(w);
        ++stats.coalesced;
        return;
      }
      Item item;
      item.channel = target;
      item.notice = n;
      item.waiters.push_back(w);
      if (ref && !ref->digest) {
        item.kind = Kind::update;
        item.ts = ref->ts;
      } else {
        item.kind = Kind::post;  // never posted (or only inside a digest, or its post failed)
      }
      channel(target).queue.push_back(std::move(item));
    };
    auto reply_call = [&](const std::string& text, bool broadcast) {
      ++state->remaining;
      enqueue_reply(ref->channel, ref->ts, text, broadcast, Waiter{state, false});
    };

    const auto reply = thread_reply(n);
    if (n.type == "post") {
      message_call(true);
    } else if (n.type == "update" || n.type == "resolved") {
      if (ref && ref->digest) {
        if (reply) reply_call(*reply, false);
      } else {
        message_call(true);
        if (reply && ref) reply_call(*reply, false);
      }
    } else if (n.type == "repeat" || n.type == "escalate") {
      if (ref && reply) {
        reply_call(*reply, true);  // also shown in the channel: it is a reminder
      } else if (!ref) {
        message_call(true);
      }
      if (n.type == "escalate") {
        // The escalation's own channels get a message of their own (not tracked for edits).
        for (std::size_t i = 0; i < n.channels.size(); ++i) {
          if (ref && n.channels[i] == ref->channel) continue;
          Item item;
          item.kind = Kind::post;
          item.channel = n.channels[i];
          item.notice = n;
          item.replaces_ts = "escalation";  // never coalesced with the alert's own message
          ++state->remaining;
          item.waiters.push_back({state, false});
          channel(n.channels[i]).queue.push_back(std::move(item));
        }
      }
    }
    if (state->remaining == 0) {
      // Nothing to say under this rule's thread setting: done at once.
      bus::JobResult r{job.id, bus::JobOutcome::ok, {{"alert_id", n.alert_id}, {"skipped", true}}, "", Duration{0}, ""};
      state->done(std::move(r));
    }
  }

  static void finish_waiter(const Waiter& w, const json& output, const std::optional<std::string>& failure,
                            const json& failure_event, std::vector<std::function<void()>>& callbacks) {
    auto& st = *w.job;
    if (failure && !st.failure) {
      st.failure = failure;
      st.failure_event = failure_event;
    }
    if (!failure && w.primary) st.output.update(output);
    if (!failure && !w.primary && !st.output.contains("ts") && output.contains("ts")) st.output["reply_ts"] = output["ts"];
    if (--st.remaining > 0) return;
    bus::JobResult r;
    r.job_id = st.job_id;
    if (st.failure) {
      r.outcome = bus::JobOutcome::fail;
      r.reason = *st.failure;
      r.output = {{"event", st.failure_event}};
    } else {
      r.outcome = bus::JobOutcome::ok;
      r.output = st.output;
      json attrs = {{"job", st.job_id}};
      for (const char* k : {"alert_id", "channel", "ts", "reply_ts", "digest"}) {
        if (st.output.contains(k)) attrs[k] = st.output[k];
      }
      r.output["event"] = {{"kind", "slack.delivered"}, {"attrs", attrs}};
    }
    callbacks.push_back([done = st.done, r = std::move(r)]() mutable { done(std::move(r)); });
  }

  json request_body(const Item& item) const {
    if (item.kind == Kind::respond) return item.body;
    if (item.kind == Kind::reply) {
      json b = {{"channel", item.channel}, {"thread_ts", item.thread_ts}, {"text", truncate_utf8(item.text, kMaxFallbackChars)}};
      if (item.broadcast) b["reply_broadcast"] = true;
      return b;
    }
    if (item.digest) {
      std::vector<AlertNotice> notices;
      for (const auto& m : item.members) notices.push_back(m.notice);
      return {{"channel", item.channel}, {"text", digest_text(notices)}, {"blocks", digest_blocks(notices)}};
    }
    json b = {{"channel", item.channel}, {"text", alert_text(item.notice)}, {"blocks", alert_blocks(item.notice)}};
    if (item.replaces_ts == "escalation" && !item.notice.mention.empty()) {
      b["text"] = item.notice.mention + " " + b["text"].get<std::string>();
    }
    if (item.kind == Kind::update) b["ts"] = item.ts;
    return b;
  }

  CallOutcome call(const std::string& method, const json& body, const std::string& response_url = {}) {
    net::ClientRequest req;
    req.method = "POST";
    if (!response_url.empty()) return call_response_url(response_url, body);
    req.url = net::join(options.base_url, method);
    req.headers["Authorization"] = "Bearer " + options.token;
    req.headers["Content-Type"] = "application/json; charset=utf-8";
    req.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    CallOutcome out;
    auto resp = http.send(req);
    if (!resp) {
      out.what = resp.error().retryable() ? CallOutcome::What::retry : CallOutcome::What::fail;
      out.error = std::string(net::client_error_name(resp.error().kind)) + ": " + resp.error().message;
      return out;
    }
    if (resp->status == 429) {
      out.what = CallOutcome::What::rate_limited;
      out.retry_after = parse_retry_after(resp->header("Retry-After"));
      out.error = "ratelimited";
      return out;
    }
    if (resp->status >= 500) {
      out.what = CallOutcome::What::retry;
      out.error = "HTTP " + std::to_string(resp->status);
      return out;
    }
    out.body = json::parse(resp->body, nullptr, false);
    if (out.body.is_discarded() || !out.body.is_object()) {
      out.what = resp->status >= 400 ? CallOutcome::What::fail : CallOutcome::What::retry;
      out.error = "HTTP " + std::to_string(resp->status) + ", not a Slack answer";
      return out;
    }
    // Slack's answer is read without trusting its field types (nlohmann's value() throws).
    if (const auto ok = out.body.find("ok"); ok != out.body.end() && *ok == true) {
      out.what = CallOutcome::What::ok;
      return out;
    }
    out.error = provider::string_field(out.body, "error");
    if (out.error.empty()) out.error = "unknown_error";
    if (out.error == "ratelimited") {
      out.what = CallOutcome::What::rate_limited;
      out.retry_after = parse_retry_after(resp->header("Retry-After"));
    } else if (out.error == "cant_update_message" || out.error == "message_not_found" ||
               out.error == "edit_window_closed") {
      out.what = CallOutcome::What::cannot_edit;
    } else if (retryable_error(out.error)) {
      out.what = CallOutcome::What::retry;
    } else {
      out.what = CallOutcome::What::fail;
    }
    return out;
  }

  // A response_url is its own credential (no token is sent) and answers "ok" or {"ok":true};
  // an expired or used URL (404, or 410) will not work later either.
  CallOutcome call_response_url(const std::string& url_text, const json& body) {
    CallOutcome out;
    net::ClientRequest req;
    req.method = "POST";
    auto url = net::parse_url(url_text);
    if (!url) {
      out.error = "invalid response_url";
      return out;
    }
    req.url = *url;
    req.headers["Content-Type"] = "application/json; charset=utf-8";
    req.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    auto resp = http.send(req);
    if (!resp) {
      out.what = resp.error().retryable() ? CallOutcome::What::retry : CallOutcome::What::fail;
      out.error = std::string(net::client_error_name(resp.error().kind)) + ": " + resp.error().message;
      return out;
    }
    if (resp->status == 429) {
      out.what = CallOutcome::What::rate_limited;
      out.retry_after = parse_retry_after(resp->header("Retry-After"));
      out.error = "ratelimited";
    } else if (resp->status >= 500) {
      out.what = CallOutcome::What::retry;
      out.error = "HTTP " + std::to_string(resp->status);
    } else if (resp->status >= 200 && resp->status < 300) {
      out.what = CallOutcome::What::ok;
      out.body = json::object();
    } else {
      out.what = CallOutcome::What::fail;
      out.error = resp->status == 404 || resp->status == 410 ? "expired_url" : "HTTP " + std::to_string(resp->status);
    }
    return out;
  }

  Duration backoff(int attempt) {
    double base = static_cast<double>(options.backoff_min.count());
    for (int i = 1; i < attempt && base < static_cast<double>(options.backoff_max.count()); ++i) base *= 2;
    base = std::min(base, static_cast<double>(options.backoff_max.count()));
    // Between half and all of it, so many workers retrying do not arrive together.
    return Duration{static_cast<std::int64_t>(base * (0.5 + 0.5 * random01()))};
  }

  // Takes the next sendable item of a channel (forming a digest in a storm); nullopt with `wait`
  // set when the channel must wait.
  std::optional<Item> take(Channel& c, SteadyPoint now, std::optional<SteadyPoint>& wait) {
    if (c.queue.empty()) return std::nullopt;
    auto later = [&](SteadyPoint t) {
      if (!wait || t < *wait) wait = t;
      return std::nullopt;
    };
    if (c.blocked_until > now) return later(c.blocked_until);
    if (!c.initialised) {
      c.tokens = options.burst;
      c.refilled = now;
      c.initialised = true;
    }
    c.tokens = std::min(options.burst, c.tokens + options.per_second *
                                                     std::chrono::duration<double>(now - c.refilled).count());
    c.refilled = now;
    if (c.queue.front().not_before > now) return later(c.queue.front().not_before);
    if (c.tokens < 1.0) {
      const auto need = std::chrono::duration<double>((1.0 - c.tokens) / options.per_second);
      return later(now + std::chrono::duration_cast<Duration>(need) + Duration{1});
    }
    c.tokens -= 1.0;
    std::size_t posts = 0;
    for (const auto& item : c.queue) posts += item.kind == Kind::post && !item.digest && item.replaces_ts.empty();
    if (c.queue.front().kind == Kind::post && posts > options.storm_threshold && c.queue.front().replaces_ts.empty()) {
      Item digest;
      digest.kind = Kind::post;
      digest.digest = true;
      digest.channel = c.queue.front().channel;
      std::deque<Item> rest;
      for (auto& item : c.queue) {
        if (item.kind == Kind::post && !item.digest && item.replaces_ts.empty()) {
          digest.members.push_back(std::move(item));
        } else {
          rest.push_back(std::move(item));
        }
      }
      c.queue.swap(rest);
      return digest;
    }
    Item item = std::move(c.queue.front());
    c.queue.pop_front();
    return item;
  }

  void settle(Item& item, const CallOutcome& out, SteadyPoint now, std::vector<std::function<void()>>& callbacks) {
    Channel& c = channel(item.channel);
    switch (out.what) {
      case CallOutcome::What::ok: {
        const std::string ts = provider::string_field(out.body, "ts");
        std::string ch = provider::string_field(out.body, "channel");
        if (ch.empty()) ch = item.channel;
        if (item.digest) {
          ++stats.digests;
          for (auto& m : item.members) {
            remember(m.notice, {ch, ts, true});
            const json o = {{"alert_id", m.notice.alert_id}, {"channel", ch}, {"ts", ts}, {"digest", true}};
            for (const auto& w : m.waiters) finish_waiter(w, o, std::nullopt, {}, callbacks);
          }
          return;
        }
        if (item.kind == Kind::respond) {
          ++stats.responses;
          json o = {{"via", item.method}};
          if (!ts.empty()) o["ts"] = ts;
          if (auto m = out.body.find("message_ts"); m != out.body.end()) o["ts"] = *m;
          for (const auto& w : item.waiters) finish_waiter(w, o, std::nullopt, {}, callbacks);
          return;
        }
        if (item.kind == Kind::reply) ++stats.replies;
        if (item.kind == Kind::update) ++stats.updates;
        if (item.kind == Kind::post) ++stats.posts;
        json o = {{"ts", ts}, {"channel", ch}};
        if (item.kind != Kind::reply) o["alert_id"] = item.notice.alert_id;
        if (item.kind == Kind::update) remember(item.notice, {ch, ts, false});
        if (item.kind == Kind::post && item.replaces_ts != "escalation") {
          remember(item.notice, {ch, ts, false});
          edit_instead_of_posting(c, item.notice.alert_id, ch, ts);
          if (!item.replaces_ts.empty()) {
            enqueue_reply(ch, item.replaces_ts, "This alert's message can no longer be edited: it continues in a new message.",
                          false, std::nullopt);
          }
        }
        for (const auto& w : item.waiters) finish_waiter(w, o, std::nullopt, {}, callbacks);
        return;
      }
      case CallOutcome::What::rate_limited:
        ++stats.rate_limited;
        c.blocked_until = now + out.retry_after;
        log.warn("Slack rate limit: waiting", {{"channel", item.channel}, {"retry_after_ms", out.retry_after.count()}});
        requeue_front(c, std::move(item));
        return;
      case CallOutcome::What::cannot_edit:
        if (item.kind == Kind::update) {
          log.warn("Slack message can no longer be edited: posting a new one", {{"channel", item.channel}, {"error", out.error}});
          item.kind = Kind::post;
          item.replaces_ts = item.ts;
          item.ts.clear();
          // Edits of the same message that arrived meanwhile go with the new one, not as posts of
          // their own.
          for (auto it = c.queue.begin(); it != c.queue.end();) {
            if (it->kind == Kind::update && it->ts == item.replaces_ts &&
                it->notice.alert_id == item.notice.alert_id) {
              item.notice = it->notice;  // queued later: the newer state
              item.waiters.insert(item.waiters.end(), it->waiters.begin(), it->waiters.end());
              it = c.queue.erase(it);
            } else {
              ++it;
            }
          }
          requeue_front(c, std::move(item));
          return;
        }
        [[fallthrough]];
      case CallOutcome::What::retry:
        if (out.what == CallOutcome::What::retry && ++item.attempts < options.max_attempts) {
          ++stats.retries;
          item.not_before = now + backoff(item.attempts);
          log.warn("Slack call failed: retrying", {{"channel", item.channel}, {"error", out.error}, {"attempt", item.attempts}});
          requeue_front(c, std::move(item));
          return;
        }
        [[fallthrough]];
      case CallOutcome::What::fail: {
        ++stats.failed;
        const auto fix = permanent_error_fix(out.error);
        if (reported.insert(item.channel + "\n" + out.error).second) {
          log.error("Slack delivery failed", {{"channel", item.channel}, {"error", out.error},
                                              {"fix", fix.value_or("retried " + std::to_string(item.attempts) + " times")}});
        }
        const std::string reason = out.error + (fix ? ": " + *fix : "");
        auto fail_all = [&](const Item& it) {
          const json event = {{"kind", "slack.delivery_failed"},
                              {"attrs", {{"alert_id", it.notice.alert_id}, {"channel", it.channel}, {"error", out.error},
                                         {"fix", fix.value_or("")}}}};
          for (const auto& w : it.waiters) finish_waiter(w, {}, reason, event, callbacks);
        };
        if (item.digest) {
          for (const auto& m : item.members) fail_all(m);
        } else {
          fail_all(item);
        }
        return;
      }
    }
  }

  void remember(const AlertNotice& n, MessageRef ref) {
    if (n.state == "resolved") {
      known.erase(n.alert_id);
    } else {
      known[n.alert_id] = std::move(ref);
    }
  }

  // A notice that arrived while its alert's post was in flight was queued as a post, since no ts
  // was known yet: it edits the message just posted instead of posting the alert twice.
  void edit_instead_of_posting(Channel& c, std::int64_t alert_id, const std::string& ch,
                               const std::string& ts) {
    for (auto it = c.queue.begin(); it != c.queue.end();) {
      if (it->kind != Kind::post || it->digest || !it->replaces_ts.empty() ||
          it->notice.alert_id != alert_id) {
        ++it;
        continue;
      }
      it->kind = Kind::update;
      it->ts = ts;
      if (it->channel == ch) {
        ++it;
        continue;
      }
      // Slack answered with the channel's id: the edit joins that channel's queue, where later
      // edits go.
      Item moved = std::move(*it);
      it = c.queue.erase(it);
      moved.channel = ch;
      if (Item* pending = pending_message(ch, alert_id)) {
        pending->waiters.insert(pending->waiters.end(), moved.waiters.begin(),
                                moved.waiters.end());  // its notice is newer
      } else {
        channel(ch).queue.push_back(std::move(moved));
      }
    }
  }

  static void requeue_front(Channel& c, Item item) {
    if (item.digest) {
      // Put its members back; the next take forms the digest again (with any newcomers).
      for (auto it = item.members.rbegin(); it != item.members.rend(); ++it) c.queue.push_front(std::move(*it));
      return;
    }
    c.queue.push_front(std::move(item));
  }

  std::optional<SteadyPoint> pump() {
    std::optional<SteadyPoint> wait;
    for (;;) {
      std::vector<std::function<void()>> callbacks;
      bool sent = false;
      {
        std::unique_lock lock(mutex);
        const SteadyPoint now = clock.steady_now();
        wait.reset();
        for (auto& [name, c] : channels) {
          auto item = take(c, now, wait);
          if (!item) continue;
          const std::string method = item->kind == Kind::respond ? item->method
                                     : item->kind == Kind::update ? "chat.update"
                                                                  : "chat.postMessage";
          const json body = request_body(*item);
          const std::string url = item->kind == Kind::respond ? item->url : std::string();
          lock.unlock();
          const CallOutcome out = call(method, body, url);
          lock.lock();
          ++stats.calls;
          settle(*item, out, clock.steady_now(), callbacks);
          sent = true;
          break;  // channels may have changed: start over
        }
      }
      for (auto& cb : callbacks) cb();
      if (!sent) return wait;
    }
  }
};

SlackDelivery::SlackDelivery(DeliveryOptions options, net::HttpClient& http, Clock& clock, Logger log,
                             std::function<double()> random01)
    : impl_(std::make_unique<Impl>(std::move(options), http, clock, std::move(log), std::move(random01))) {}

SlackDelivery::~SlackDelivery() { stop(); }

void SlackDelivery::submit(const bus::Job& job, Done done) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->add_job(job, std::move(done));
    impl_->work_arrived = true;
  }
  impl_->cv.notify_all();
}

std::optional<SteadyPoint> SlackDelivery::pump() { return impl_->pump(); }

void SlackDelivery::start() {
  impl_->driver = std::thread([this] {
    for (;;) {
      std::optional<SteadyPoint> next;
      try {
        next = impl_->pump();
      } catch (const std::exception& e) {
        impl_->log.error("Slack delivery error", {{"error", e.what()}});
      }
      std::unique_lock lock(impl_->mutex);
      if (impl_->stopping) return;
      // Wait for new work or the next due time, re-reading the clock at most every 250 ms.
      Duration wait{250};
      if (next) wait = std::clamp(std::chrono::duration_cast<Duration>(*next - impl_->clock.steady_now()), Duration{0}, Duration{250});
      impl_->cv.wait_for(lock, wait, [&] { return impl_->stopping || impl_->work_arrived; });
      impl_->work_arrived = false;
      if (impl_->stopping) return;
    }
  });
}

void SlackDelivery::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->driver.joinable()) impl_->driver.join();
}

std::size_t SlackDelivery::pending() const {
  std::lock_guard lock(impl_->mutex);
  std::size_t n = 0;
  for (const auto& [_, c] : impl_->channels) n += c.queue.size();
  return n;
}

SlackDelivery::Stats SlackDelivery::stats() const {
  std::lock_guard lock(impl_->mutex);
  Stats out = impl_->stats;
  out.messages_known = impl_->known.size();
  return out;
}

}  // namespace vigie::actions::slack
