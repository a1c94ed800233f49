// Structured logging (spdlog behind a narrow header) with secret redaction. Each component gets a
// Logger naming it (`[collector:sentry.main]`); lines read `message key=value ...`. Every value
// read from a secret is registered in SecretRegistry and replaced by `[redacted]` in every line,
// whatever path it took into the message.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace spdlog {
class logger;
}

namespace vigie {

inline constexpr std::string_view kRedacted = "[redacted]";

// Values that must never be printed. Thread-safe; shared by the loggers and the error printers.
class SecretRegistry {
 public:
  // Values shorter than kMinLength are not registered: redacting "1" everywhere would garble
  // every line while protecting nothing a real credential looks like.
  static constexpr std::size_t kMinLength = 4;
  void add(std::string value);
  std::string redact(std::string_view text) const;
  std::size_t size() const;

 private:
  mutable std::shared_mutex mutex_;
  std::vector<std::string> values_;  // longest first, so a secret containing another is whole
};

struct LogField {
  std::string_view key;
  std::string value;

  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  LogField(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
};

enum class LogLevel { debug, info, warn, error, off };

class Logger {
 public:
  Logger(std::shared_ptr<spdlog::logger> impl, std::string component);

  void debug(std::string_view message, std::initializer_list<LogField> fields = {}) const;
  void info(std::string_view message, std::initializer_list<LogField> fields = {}) const;
  void warn(std::string_view message, std::initializer_list<LogField> fields = {}) const;
  void error(std::string_view message, std::initializer_list<LogField> fields = {}) const;

  const std::string& component() const { return component_; }

 private:
  void log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) const;
  std::shared_ptr<spdlog::logger> impl_;
  std::string component_;
};

// `message key=value key="quoted value"`: values with spaces, quotes or `=` are quoted.
std::string format_log_line(std::string_view component, std::string_view message,
                            std::initializer_list<LogField> fields);

// Owns the output and the redaction of one process (or one test). No global logger registry is
// touched: every Logger comes from here.
class Logging {
 public:
  // Logs to stderr.
  Logging(LogLevel level, std::shared_ptr<SecretRegistry> secrets);
  // Logs to `out` (tests capture output this way); `out` must outlive this object.
  Logging(LogLevel level, std::shared_ptr<SecretRegistry> secrets, std::ostream& out);
  ~Logging();

  Logger logger(std::string component) const;
  SecretRegistry& secrets() const { return *secrets_; }
  const std::shared_ptr<SecretRegistry>& shared_secrets() const { return secrets_; }
  void flush() const;

 private:
  std::shared_ptr<SecretRegistry> secrets_;
  std::shared_ptr<spdlog::logger> impl_;
};

std::optional<LogLevel> parse_log_level(std::string_view name);

}  // namespace vigie
