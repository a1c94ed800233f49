// The worker side of `action` jobs: builds the action from the job's request through its kind's
// factory, runs its steps, and owns what the contract leaves out of the kinds — retries with
// backoff (Retry), resumptions (Pending) on the injected clock, the overall timeout, dry runs,
// capping the output — then completes the job once with ok or fail (never `retry`: the
// dispatcher would only run it again from scratch, which a half-done remediation must not do).
//
// Passive and clock-driven like the Slack delivery queue: submit() takes a job from any thread;
// pump() runs the steps due now (on the calling thread when `threads` is 0, as tests do) and says
// when to call again. start() runs a driver thread and `threads` step threads in production.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "vigie/actions/action.h"
#include "vigie/bus/jobs.h"

namespace vigie::actions {

struct RunnerOptions {
  std::size_t threads = 2;           // steps run at once (0: inline in pump())
  int max_attempts = 3;              // runs of a step that keeps asking to Retry
  Duration retry_backoff{2'000};     // first wait when a Retry says 0; doubles each time
  std::size_t max_output = 65'536;   // bytes of output a result carries
};

class ActionRunner {
 public:
  using Done = std::function<void(bus::JobResult)>;
  // `factory_of` maps a type to its factory (action_factory in production; fakes in tests).
  ActionRunner(Providers providers, net::HttpClient& http, SecretRegistry& secrets, Clock& clock, Logger log,
               RunnerOptions options = {}, std::function<ActionFactory(std::string_view)> factory_of = {});
  ~ActionRunner();

  // Takes an `action` job; `done` is called exactly once, from a runner thread (or pump()).
  // The result's output: {"output", "details", "dry_run", "attempts", "steps"}; on failure the
  // reason says why (a bad payload, an unknown type, the factory's error, the timeout, Fail).
  void submit(const bus::Job& job, Done done);
  // Runs the steps due now; @return when the next one is due (nullopt: nothing waits).
  std::optional<SteadyPoint> pump();
  void start();
  void stop();  // jobs still held are dropped: the dispatcher re-dispatches them after its deadline
  std::size_t pending() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::actions
