// The action contract (Envoy's extension factories, fluent-bit's output plugins): a kind is a
// factory that turns one rendered request — its options with every {{param}} already filled in
// by the engine — into an instance; the instance's run() performs one bounded step and says how it
// went: Ok (done, with output), Retry (a transient failure: run again from scratch later), Pending
// (started, not finished: call again later with this state, e.g. polling a DigitalOcean action) or
// Fail (retrying will not help). An action never sleeps, spawns threads or sets timers: the runner
// (runner.h) owns retries, the overall timeout and the clock.
//
// Long-lived credentials and caches (a Heroku token, a Rackspace identity token) live in a
// Provider, built once per [providers.<name>] section when the worker starts and handed to every
// factory through ActionContext::providers.
//
// Everything an action needs travels in the job payload (ActionRequest), because a worker may run
// on another host without the rule files: type, rendered options, secret *references* (env/file
// names, never values), timeout and dry_run. Secrets are resolved on the worker.
#pragma once

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vigie/config/options.h"
#include "vigie/core/clock.h"
#include "vigie/core/log.h"
#include "vigie/core/time.h"
#include "vigie/net/http_client.h"

namespace vigie::actions {

// ---- what runs: the request in an `action` job's payload ---------------------------------------

// A kind's options as they travel: a JSON object, option name → value. Strings, integers, booleans
// and string lists as such; durations as text ("30s"); tables as objects of strings; secrets as
// {"env": "VAR"} or {"file": "/abs/path"}.
class ActionOptions {
 public:
  ActionOptions() = default;
  explicit ActionOptions(nlohmann::json values);

  bool has(std::string_view name) const;
  std::string string(std::string_view name, std::string fallback = {}) const;
  std::int64_t integer(std::string_view name, std::int64_t fallback = 0) const;
  bool boolean(std::string_view name, bool fallback = false) const;
  Duration duration(std::string_view name, Duration fallback = Duration{0}) const;
  std::vector<std::string> strings(std::string_view name) const;
  std::map<std::string, std::string> table(std::string_view name) const;
  std::optional<config::SecretRef> secret(std::string_view name) const;
  const nlohmann::json& values() const { return values_; }

  // Checks the values against the kind's option table: required options present, each value of
  // its declared type, no unknown option. The message names the option, never a value.
  tl::expected<void, std::string> check(const config::OptionTable& table) const;

 private:
  nlohmann::json values_ = nlohmann::json::object();
};

struct ActionRequest {
  std::string job_id;
  std::string name;    // the [[action]] name ("restart-shop-api")
  std::string type;    // its kind ("exec", "heroku.restart")
  ActionOptions options;
  nlohmann::json params = nlohmann::json::object();  // validated parameter values: the target
  Duration timeout{60'000};                          // the whole run: every retry and pending wait
  bool dry_run = false;

  // Reads the fields the engine put in the job payload (action, type, options, params,
  // timeout_ms, dry_run). An error names the missing or malformed field.
  static tl::expected<ActionRequest, std::string> from_payload(const std::string& job_id,
                                                                const nlohmann::json& payload);
};

// ---- providers ---------------------------------------------------------------------------------

// A long-lived object per [providers.<name>]: credentials, endpoints, caches. Shared by every
// action that names it, possibly from several runner threads at once: implementations lock what
// they cache.
class Provider {
 public:
  virtual ~Provider() = default;
};

struct ProviderSpec {
  std::string name;  // [providers.<name>]
  std::string type;  // its kind: "heroku", "digitalocean", ...
  config::OptionValues options;  // validated by the config loader
};

// What a provider factory may use. `secret` reads a secret reference and registers the value for
// redaction; its error names the option and the variable or file, never the value.
struct ProviderContext {
  net::HttpClient& http;
  Clock& clock;
  SecretRegistry& secrets;
  Logger log;
  tl::expected<std::string, std::string> secret(const config::SecretRef& ref, std::string_view option) const;
};

using ProviderFactory = std::function<tl::expected<std::shared_ptr<Provider>, std::string>(
    const ProviderSpec& spec, ProviderContext& ctx)>;

// The providers a worker built at start, by section name.
class Providers {
 public:
  void add(std::string name, std::string type, std::shared_ptr<Provider> provider);
  // nullptr when there is no such section.
  Provider* find(std::string_view name) const;
  std::string type_of(std::string_view name) const;  // "" when unknown
  // The provider named `name` as a `T` (its kind's class), or an error a user can act on:
  // "no [providers.heroku] section in vigie.toml" or "[providers.x] is a docker provider, not ...".
  template <class T>
  tl::expected<T*, std::string> get(std::string_view name, std::string_view expected_type) const {
    Provider* p = find(name);
    if (!p) return tl::unexpected(std::string("no [providers.") + std::string(name) + "] section in vigie.toml");
    auto* t = dynamic_cast<T*>(p);
    if (!t) {
      return tl::unexpected(std::string("[providers.") + std::string(name) + "] is a " + type_of(name) + " provider, not " +
                            std::string(expected_type));
    }
    return t;
  }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string type;
    std::shared_ptr<Provider> provider;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

// ---- actions -----------------------------------------------------------------------------------

struct Ok {
  std::string output;  // for people: what happened (capped by the runner before it travels)
  nlohmann::json details = nlohmann::json::object();  // for rules: exit_code, status, ids ...
};
struct Retry {
  Duration after{0};   // wait at least this long (0: the runner's backoff)
  std::string reason;  // without secrets
};
struct Pending {
  Duration after{1000};  // call run() again after this long, with `state`
  nlohmann::json state = nlohmann::json::object();
  std::string note;  // "droplet action 123 in-progress"
};
struct Fail {
  std::string reason;  // without secrets
  std::string output;
  nlohmann::json details = nlohmann::json::object();
};
using StepResult = std::variant<Ok, Retry, Pending, Fail>;

struct RunContext {
  Clock& clock;
  SteadyPoint deadline;  // the whole run's end, on the injected clock
  int attempt = 1;       // 1, then 2 after a Retry...
  // The last Pending's state, or nullptr on a first call (and after a Retry).
  const nlohmann::json* state = nullptr;
  // Time left before the deadline (never negative): bound each blocking call by it.
  Duration remaining() const;
};

class Action {
 public:
  virtual ~Action() = default;
  // One step. May block (HTTP, a child process) but never beyond ctx.remaining(). Never throws:
  // failures are results.
  virtual StepResult run(const RunContext& ctx) = 0;
  // The exact argv or request it would send, secret values masked: what dry_run shows.
  virtual std::string describe() const = 0;
};

// What an action factory may use: the providers (by the request's `provider` option, usually),
// the shared HTTP client, the secrets of its own options (see `secret`).
struct ActionContext {
  Providers& providers;
  net::HttpClient& http;
  Clock& clock;
  SecretRegistry& secrets;
  Logger log;
  tl::expected<std::string, std::string> secret(const config::SecretRef& ref, std::string_view option) const;
};

using ActionFactory = std::function<tl::expected<std::unique_ptr<Action>, std::string>(
    const ActionRequest& request, ActionContext& ctx)>;

// The factories of the registered kinds, or nullptr (kinds.cpp holds the one explicit list; a kind
// listed without a factory exists in the rule files but this build cannot run it).
ActionFactory action_factory(std::string_view type);
ProviderFactory provider_factory(std::string_view type);
// The option table of a registered action kind, or nullptr.
const config::OptionTable* action_option_table(std::string_view type);

// Builds every [providers.<name>] section; an error names the section.
tl::expected<Providers, std::string> build_providers(const std::vector<ProviderSpec>& specs, ProviderContext& ctx);

// `text` cut to `max_bytes` (at a UTF-8 boundary) with "… (N more bytes)" appended when cut.
std::string cap_output(const std::string& text, std::size_t max_bytes);

}  // namespace vigie::actions
