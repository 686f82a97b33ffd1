// The contract of every background job the JobRunner runs (delivery initiation,
// compensation, re-checks, reconciliation, the relay, retention, alerts): one pass, which
// checks `stop_requested` between its items, so shutdown does not wait for a whole pass,
// and returns how long to wait before the next pass.
#pragma once

#include <chrono>
#include <functional>

namespace outpost::jobs {

// True once the node is stopping.
using StopRequested = std::function<bool()>;

class BackgroundJob {
 public:
  virtual ~BackgroundJob() = default;
  virtual std::chrono::milliseconds runPass(const StopRequested& stop_requested) = 0;
};

}  // namespace outpost::jobs
