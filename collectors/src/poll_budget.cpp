// PollBudget: every request of one poll held to the poll's `timeout` (collector.h).
#include <algorithm>

#include "vigie/collectors/collector.h"

namespace vigie::collectors {

void PollBudget::start(Duration budget) {
  std::lock_guard lock(mutex_);
  budget_ = budget;
  deadline_ = clock_.steady_now() + budget;
}

tl::expected<net::ClientResponse, net::ClientError> PollBudget::send(const net::ClientRequest& request) {
  std::optional<SteadyPoint> deadline;
  Duration budget{0};
  {
    std::lock_guard lock(mutex_);
    deadline = deadline_;
    budget = budget_;
  }
  if (!deadline) return inner_.send(request);  // no poll started: the client's own timeouts
  const auto left = std::chrono::duration_cast<Duration>(*deadline - clock_.steady_now());
  if (left <= Duration{0}) {
    return tl::unexpected(net::ClientError{
        net::ClientErrorKind::timeout, "the poll's timeout (" + format_duration(budget) + ") was used up"});
  }
  net::ClientRequest bounded = request;
  bounded.timeout = request.timeout ? std::min(*request.timeout, left) : left;
  return inner_.send(bounded);
}

}  // namespace vigie::collectors
