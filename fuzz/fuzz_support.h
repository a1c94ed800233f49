// What every fuzz target shares: a logger that writes nowhere, a fixed clock, and a helper to
// turn the fuzzer's bytes into a file for loaders that read paths. Fuzz targets are test code:
// their statics are fine here (libFuzzer calls one function, in one process, many times).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "vigie/core/clock.h"
#include "vigie/core/log.h"

namespace vigie::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A logger whose output is dropped (the targets run millions of times).
inline Logging& quiet_logging() {
  static std::ostringstream sink;
  static Logging logging(LogLevel::error, std::make_shared<SecretRegistry>(), sink);
  sink.str({});
  return logging;
}

inline FakeClock& fixed_clock() {
  static FakeClock clock;
  return clock;
}

// A private file holding `text`, rewritten on every call (loaders that take paths).
inline const std::string& as_file(std::string_view text, const char* name) {
  static std::string path;
  path = "/tmp/vigie-fuzz-" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(text.data(), static_cast<std::streamsize>(text.size()));
  return path;
}

// Loaders follow paths found in their input (rule globs, rule files of a test): keep the fuzzer
// away from device files that never end.
inline bool names_device_files(std::string_view text) {
  return text.find("/dev") != std::string_view::npos || text.find("/proc") != std::string_view::npos ||
         text.find("/sys") != std::string_view::npos;
}

}  // namespace vigie::fuzz
