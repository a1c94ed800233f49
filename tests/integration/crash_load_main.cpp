// vigie-load: posts Alertmanager alerts to a running `vigie run` at a steady rate for a while
// (scripts/soak). Usage: vigie-load PORT RATE SECONDS [THREADS] [BATCH]. Prints one summary line.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "crash_load.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: vigie-load PORT RATE SECONDS [THREADS] [BATCH]\n");
    return 2;
  }
  vigie::testing::LoadOptions o;
  o.port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  o.rate = std::atof(argv[2]);
  const int seconds = std::atoi(argv[3]);
  if (argc > 4) o.threads = std::atoi(argv[4]);
  if (argc > 5) o.batch = std::atoi(argv[5]);
  o.stop_on_connection_error = false;
  o.record_acked = false;
  vigie::testing::LoadGenerator load(o);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end && !load.finished()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  load.stop();
  const auto s = load.stats();
  std::printf("sent=%lld acked=%lld refused=%lld failed=%lld rate=%.0f/s last_status=%d\n",
              static_cast<long long>(s.sent), static_cast<long long>(s.acked),
              static_cast<long long>(s.refused), static_cast<long long>(s.failed),
              static_cast<double>(s.sent) / seconds, s.last_status);
  if (s.refused + s.failed > 0 && !s.last_error_body.empty())
    std::printf("last error: %s\n", s.last_error_body.c_str());
  return s.failed + s.refused == 0 ? 0 : 1;
}
