// Logging: a spdlog sink that redacts registered secrets from each formatted line.
#include "vigie/core/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <mutex>

namespace vigie {
namespace {

// Formats with spdlog's pattern, then redacts the whole line: a secret that reached the message
// through any path (a field, an error string, an upstream's echo) is caught here.
class RedactingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  RedactingSink(std::shared_ptr<SecretRegistry> secrets, std::ostream& out)
      : secrets_(std::move(secrets)), out_(out) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    out_ << secrets_->redact(std::string_view(formatted.data(), formatted.size()));
  }
  void flush_() override { out_.flush(); }

 private:
  std::shared_ptr<SecretRegistry> secrets_;
  std::ostream& out_;
};

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  return std::any_of(v.begin(), v.end(), [](char c) {
    return c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t' || c == '\\';
  });
}

void append_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  out += '"';
}

spdlog::level::level_enum to_spdlog(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
    case LogLevel::off: return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

void SecretRegistry::add(std::string value) {
  if (value.size() < kMinLength) return;
  std::unique_lock lock(mutex_);
  if (std::find(values_.begin(), values_.end(), value) != values_.end()) return;
  values_.push_back(std::move(value));
  std::sort(values_.begin(), values_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string SecretRegistry::redact(std::string_view text) const {
  std::string out(text);
  std::shared_lock lock(mutex_);
  for (const auto& secret : values_) {
    std::size_t pos = 0;
    while ((pos = out.find(secret, pos)) != std::string::npos) {
      out.replace(pos, secret.size(), kRedacted);
      pos += kRedacted.size();
    }
  }
  return out;
}

std::size_t SecretRegistry::size() const {
  std::shared_lock lock(mutex_);
  return values_.size();
}

std::string format_log_line(std::string_view component, std::string_view message,
                            std::initializer_list<LogField> fields) {
  std::string line;
  line.reserve(component.size() + message.size() + 16 * fields.size() + 4);
  line += '[';
  line += component;
  line += "] ";
  line += message;
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    append_value(line, f.value);
  }
  return line;
}

Logger::Logger(std::shared_ptr<spdlog::logger> impl, std::string component)
    : impl_(std::move(impl)), component_(std::move(component)) {}

void Logger::log(LogLevel level, std::string_view message,
                 std::initializer_list<LogField> fields) const {
  const auto l = to_spdlog(level);
  if (!impl_->should_log(l)) return;
  impl_->log(l, "{}", format_log_line(component_, message, fields));
}

void Logger::debug(std::string_view m, std::initializer_list<LogField> f) const {
  log(LogLevel::debug, m, f);
}
void Logger::info(std::string_view m, std::initializer_list<LogField> f) const {
  log(LogLevel::info, m, f);
}
void Logger::warn(std::string_view m, std::initializer_list<LogField> f) const {
  log(LogLevel::warn, m, f);
}
void Logger::error(std::string_view m, std::initializer_list<LogField> f) const {
  log(LogLevel::error, m, f);
}

Logging::Logging(LogLevel level, std::shared_ptr<SecretRegistry> secrets)
    : Logging(level, std::move(secrets), std::cerr) {}

Logging::Logging(LogLevel level, std::shared_ptr<SecretRegistry> secrets, std::ostream& out)
    : secrets_(std::move(secrets)) {
  auto sink = std::make_shared<RedactingSink>(secrets_, out);
  // Not registered with spdlog's global registry: each Logging owns its logger.
  impl_ = std::make_shared<spdlog::logger>("vigie", std::move(sink));
  impl_->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  impl_->set_level(to_spdlog(level));
  impl_->flush_on(spdlog::level::warn);
}

Logging::~Logging() { impl_->flush(); }

Logger Logging::logger(std::string component) const { return Logger(impl_, std::move(component)); }

void Logging::flush() const { impl_->flush(); }

std::optional<LogLevel> parse_log_level(std::string_view name) {
  if (name == "debug") return LogLevel::debug;
  if (name == "info") return LogLevel::info;
  if (name == "warn" || name == "warning") return LogLevel::warn;
  if (name == "error") return LogLevel::error;
  if (name == "off") return LogLevel::off;
  return std::nullopt;
}

}  // namespace vigie
