// type = "http": one HTTP request built from the action's templates (rendered by the engine:
// parameters are percent-encoded in the URL and JSON-escaped in the body), with secret headers
// read on the worker, expected statuses, and Retry when the upstream says "not now" (429, 503).
#include <algorithm>

#include "../src/factories.h"
#include "vigie/actions/kinds.h"

namespace vigie::actions {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxBodyShown = 4096;

class HttpAction final : public Action {
 public:
  HttpAction(net::HttpClient& http, net::ClientRequest request, std::vector<std::string> secret_names,
             std::vector<int> expect)
      : http_(http), request_(std::move(request)), secret_names_(std::move(secret_names)), expect_(std::move(expect)) {}

  StepResult run(const RunContext& ctx) override {
    if (ctx.remaining() <= Duration{0}) return Fail{"no time left", "", json::object()};
    auto r = http_.send(request_);
    // Where, without the query (it may carry a token).
    const std::string where =
        request_.method + " " + request_.url.host + request_.url.target.substr(0, request_.url.target.find('?'));
    if (!r) {
      const bool idempotent = request_.method != "POST" && request_.method != "PATCH";
      const bool before_sending = r.error().kind == net::ClientErrorKind::resolve ||
                                  r.error().kind == net::ClientErrorKind::connect;
      std::string why = where + ": " + std::string(net::client_error_name(r.error().kind)) + ": " + r.error().message;
      // A request that may have reached the upstream is not sent twice unless it is idempotent.
      if (r.error().retryable() && (before_sending || idempotent)) return Retry{Duration{0}, why};
      return Fail{why, "", json::object()};
    }
    const int status = r->status;
    json details = {{"status", status}};
    std::string body = r->body.substr(0, kMaxBodyShown);
    if (r->body.size() > kMaxBodyShown) body += "\n… (" + std::to_string(r->body.size() - kMaxBodyShown) + " more bytes)";
    const std::string output = "HTTP " + std::to_string(status) + (body.empty() ? "" : "\n" + body);
    if (expected(status)) return Ok{output, details};
    if (status == 429 || status == 503) {
      Duration after{0};
      if (auto ra = r->header("Retry-After")) {
        try {
          after = Duration{std::clamp<std::int64_t>(std::stoll(*ra), 0, 3600) * 1000};
        } catch (const std::exception&) {
        }
      }
      return Retry{after, where + " answered " + std::to_string(status)};
    }
    return Fail{where + " answered " + std::to_string(status), output, details};
  }

  std::string describe() const override {
    std::string out = request_.method + " " + request_.url.to_string() + "\n";
    for (const auto& header : request_.headers) {
      // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
      const std::string& name = header.first;
      const std::string& value = header.second;
      const net::CaseInsensitiveLess less;
      const bool secret = std::any_of(secret_names_.begin(), secret_names_.end(),
                                      [&](const std::string& s) { return !less(s, name) && !less(name, s); });
      out += name + ": " + (secret ? std::string("(secret)") : value) + "\n";
    }
    if (!request_.body.empty()) out += "\n" + request_.body;
    return out;
  }

 private:
  bool expected(int status) const {
    if (expect_.empty()) return status >= 200 && status < 300;
    return std::find(expect_.begin(), expect_.end(), status) != expect_.end();
  }

  net::HttpClient& http_;
  net::ClientRequest request_;
  std::vector<std::string> secret_names_;
  std::vector<int> expect_;
};

// A status code as written in expect_status ("200"), or nothing.
std::optional<int> http_status(const std::string& s) {
  if (s.size() != 3 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const int v = std::stoi(s);
  if (v < 100 || v > 599) return std::nullopt;
  return v;
}

// make_http_action's checks of what it sends, every problem found, in the option table's order.
// Before rendering (`rendered` false, for `vigie check`) a value that still holds a {{param}} is
// judged only at run time.
std::vector<config::OptionProblem> http_problems(
    const std::string& url, const std::map<std::string, std::string>& headers,
    const std::map<std::string, std::string>& secret_headers, const std::string& body,
    const std::vector<std::string>& expect_status, bool rendered) {
  std::vector<config::OptionProblem> out;
  auto pending = [&](const std::string& v) {
    return !rendered && v.find("{{") != std::string::npos;
  };
  if (!pending(url)) {
    auto parsed = net::parse_url(url);
    if (!parsed || (parsed->scheme != "http" && parsed->scheme != "https")) {
      out.push_back({"url", "'url' is not an http(s) URL" +
                                std::string(rendered ? " after rendering" : "") + ": '" + url +
                                "'"});
    }
  } else if (url.rfind("{{", 0) != 0 && url.rfind("http://", 0) != 0 &&
             url.rfind("https://", 0) != 0) {
    out.push_back(
        {"url", "'url' must start with http:// or https:// (or with a {{param}} holding it): '" +
                    url + "'"});
  }
  for (const auto& [name, value] : headers) {
    if (value.find_first_of("\r\n") != std::string::npos) {
      out.push_back({"headers", "header '" + name + "' holds a line break" +
                                    std::string(rendered ? " after rendering" : "")});
    }
  }
  if (!body.empty() && !pending(body) && json::parse(body, nullptr, false).is_discarded()) {
    out.push_back(
        {"body", std::string("'body' is not JSON") + (rendered ? " after rendering" : "")});
  }
  for (const auto& s : expect_status) {
    if (!http_status(s))
      out.push_back(
          {"expect_status", "'expect_status' holds '" + s + "', which is not an HTTP status"});
  }
  for (const auto& [name, source] : secret_headers) {
    if (source.rfind("env:", 0) != 0 && source.rfind("file:", 0) != 0) {
      out.push_back(
          {"secret_headers", "secret header '" + name + "' must be \"env:VAR\" or \"file:/path\""});
    }
  }
  return out;
}

}  // namespace

tl::expected<std::unique_ptr<Action>, std::string> make_http_action(const ActionRequest& request, ActionContext& ctx) {
  const ActionOptions& o = request.options;
  if (auto ok = o.check(http_options()); !ok) return tl::unexpected(ok.error());
  const auto headers = o.table("headers");
  const auto secret_headers = o.table("secret_headers");
  const auto expect_status = o.strings("expect_status");
  if (auto problems =
          http_problems(o.string("url"), headers, secret_headers, o.string("body"), expect_status,
                        /*rendered=*/true);
      !problems.empty()) {
    return tl::unexpected(std::move(problems.front().message));
  }
  net::ClientRequest req;
  req.method = o.string("method", "POST");
  req.url = *net::parse_url(o.string("url"));
  for (const auto& [name, value] : headers) req.headers[name] = value;
  std::vector<std::string> secret_names;
  if (auto auth = o.secret("auth")) {
    auto v = ctx.secret(*auth, "auth");
    if (!v) return tl::unexpected(v.error());
    req.headers["Authorization"] = *v;
    secret_names.push_back("Authorization");
  }
  for (const auto& [name, source] : secret_headers) {
    config::SecretRef ref;
    if (source.rfind("env:", 0) == 0) {
      ref.env = source.substr(4);
    } else {
      ref.file = source.substr(5);
    }
    auto v = ctx.secret(ref, name);
    if (!v) return tl::unexpected(v.error());
    req.headers[name] = *v;
    secret_names.push_back(name);
  }
  req.body = o.string("body");
  if (!req.body.empty() && !req.headers.count("Content-Type"))
    req.headers["Content-Type"] = "application/json";
  std::vector<int> expect;
  for (const auto& s : expect_status) expect.push_back(*http_status(s));
  return std::make_unique<HttpAction>(ctx.http, std::move(req), std::move(secret_names), std::move(expect));
}

std::vector<config::OptionProblem> check_http_options(const config::OptionValues& options) {
  auto table = [&](std::string_view name) {
    std::map<std::string, std::string> out;
    if (auto node = options.node(name); node && node->is_table()) {
      for (const auto& e : node->entries()) {
        if (e.value->is_string()) out[e.key] = e.value->string();
      }
    }
    return out;
  };
  return http_problems(options.string("url"), table("headers"), table("secret_headers"),
                       options.string("body"), options.strings("expect_status"),
                       /*rendered=*/false);
}

}  // namespace vigie::actions
