// AvailabilityRechecker: SPEC §4.2 beyond the design. Orders taken on the fallback carry a
// RECHECK_AVAILABILITY job; once the product service answers again, each is checked:
// everything available clears the availability review (AVAILABILITY_CONFIRMED), anything
// short keeps the review item with the reason. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "clients/product_client.h"
#include "jobs/job_store.h"
#include "observability/logger.h"
#include "outpost/clock.h"
#include "resilience/circuit_breaker.h"
#include "store/store.h"

namespace outpost::orders {

inline constexpr const char* kRecheckAvailability = "RECHECK_AVAILABILITY";

struct RecheckDependencies {
  store::Store& store;
  const Clock& clock;
  Random& random;
  clients::ProductClient& client;
  resilience::CircuitBreaker& breaker;
  std::int64_t recheck_interval_ms;
  std::string node_id;
  observability::Logger& log;
};

class AvailabilityRechecker {
 public:
  explicit AvailabilityRechecker(RecheckDependencies deps) : deps_(std::move(deps)) {}

  // One pass over the due re-checks; returns how long to wait before the next.
  // `stop_requested` is checked between jobs, so shutdown does not wait for a whole pass.
  std::chrono::milliseconds runDueJobs(const std::function<bool()>& stop_requested);

 private:
  // False when the product service could not answer (the job waits for the next pass).
  bool recheck(const jobs::JobRow& job);

  RecheckDependencies deps_;
};

}  // namespace outpost::orders
