// What the provider presets (Heroku, DigitalOcean, Rackspace, Docker, Sentry, NewRelic) share
// when they talk HTTP: turning a provider's error body into one line a person understands,
// reading how long a 429 asks to wait (Retry-After, or the provider's reset header), and
// mapping a transport failure or an HTTP status to a step result (429 and 5xx: Retry; 4xx: Fail
// with the provider's own words and, for 401/403, which credentials to check).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "vigie/actions/action.h"
#include "vigie/net/http_client.h"

namespace vigie::actions::provider {

// `text` on one line: line breaks become ". " (or " " after punctuation), runs of spaces one,
// cut to `max` bytes with "…". Provider messages are shown to people in Slack.
std::string one_line(std::string_view text, std::size_t max = 300);

// Reading provider answers, which are untrusted: a string field (a number as its text) of a JSON
// object, "" when `j` is no object or the field is missing or of another type; an array field,
// empty when it is not one. nlohmann's value() would throw on a field of another type.
std::string string_field(const nlohmann::json& j, const char* key);
const nlohmann::json& array_field(const nlohmann::json& j, const char* key);

// The provider's explanation in an error body, whichever documented shape it has:
// {"id","message"} (Heroku, DigitalOcean) → "not_found: Couldn't find that app.";
// {"message"} (Docker); {"detail"} (Sentry); {"error":{"title"}} (NewRelic);
// {"<faultName>":{"message","code"}} (OpenStack/Rackspace) → "conflictingRequest: ...".
// A body of another shape gives its first line (capped); an empty body gives "".
std::string error_text(const std::string& body);

// How long a 429 asks to wait: Retry-After (seconds), else `reset_header` (epoch seconds: DO's
// ratelimit-reset, Sentry's X-Sentry-Rate-Limit-Reset) minus `now`, else `fallback`. At least 1s.
Duration retry_wait(const net::ClientResponse& response, TimePoint now,
                    std::string_view reset_header, Duration fallback);

// A transport failure: Retry when ClientError::retryable(), else Fail. `service` names the
// upstream ("Heroku"); the message never carries a header value.
StepResult transport_failure(std::string_view service, const net::ClientError& error);

// A non-2xx answer: 429 → Retry after retry_wait; 5xx → Retry; else Fail with
// "<service> answered <status>: <error_text>" plus `hint` for 401/403 (which credential to
// check) and `not_found_hint` for 404.
struct FailureHints {
  std::string_view reset_header;  // see retry_wait
  Duration rate_limit_fallback{60'000};
  std::string_view auth_hint;  // "check [providers.heroku] token"
  std::string not_found_hint;  // "app 'shop-api' or dyno 'web.1'"
};
StepResult http_failure(std::string_view service, const net::ClientResponse& response,
                        TimePoint now, const FailureHints& hints);

// A provider's secret read when the worker starts. A secret that cannot be read (its variable
// unset, its file missing) does not stop the worker: alerts and the other providers still work.
// It is logged once, and every action using the provider fails saying why.
struct ProviderSecret {
  std::string value;
  std::string error;  // non-empty: unusable, and why (never the value)
};
ProviderSecret read_provider_secret(const ProviderSpec& spec, ProviderContext& ctx,
                                    std::string_view option);

// The base of the presets' providers: remembers why its secret could not be read.
class SecretProvider : public Provider {
 public:
  const std::string& secret_error() const { return secret_error_; }
  void set_secret_error(std::string error) { secret_error_ = std::move(error); }

 private:
  std::string secret_error_;
};

// The provider `name` (the action's `provider` option or `fallback`) as a T, usable: an error
// naming the section when it is missing, of another kind, or its secret could not be read.
template <class T>
tl::expected<T*, std::string> usable_provider(const ActionRequest& request, ActionContext& ctx,
                                              std::string_view kind) {
  const std::string name = request.options.string("provider", std::string(kind));
  auto p = ctx.providers.get<T>(name, kind);
  if (!p) return p;
  if (!(*p)->secret_error().empty()) {
    return tl::unexpected("[providers." + name + "] is unusable: " + (*p)->secret_error());
  }
  return p;
}

// The value of a string option, or an error naming it when empty (after templating).
tl::expected<std::string, std::string> required(const ActionOptions& options,
                                                std::string_view name);

// base_url with `path` appended, or an error naming the option when it does not parse.
tl::expected<net::Url, std::string> endpoint(const std::string& base_url, std::string_view path,
                                             std::string_view option = "base_url");

}  // namespace vigie::actions::provider
