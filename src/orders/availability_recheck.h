// AvailabilityRechecker: SPEC §4.2 beyond the design. Orders taken on the fallback carry a
// RECHECK_AVAILABILITY job; once the product service answers again, each is checked:
// everything available clears the availability review (AVAILABILITY_CONFIRMED), anything
// short keeps the review item with the reason. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "clients/product_client.h"
#include "jobs/background_job.h"
#include "jobs/durable_jobs.h"
#include "jobs/job_store.h"
#include "node/context.h"
#include "observability/logger.h"
#include "outpost/clock.h"
#include "resilience/circuit_breaker.h"
#include "store/store.h"

namespace outpost::orders {

inline constexpr const char* kRecheckAvailability = "RECHECK_AVAILABILITY";

struct RecheckDependencies {
  const node::Context& node;
  clients::ProductClient& client;
  resilience::CircuitBreaker& breaker;
  std::int64_t recheck_interval_ms;
};

class AvailabilityRechecker final : public jobs::BackgroundJob {
 public:
  explicit AvailabilityRechecker(RecheckDependencies deps);
  // Its job loop calls back into it: it stays where it was made.
  AvailabilityRechecker(const AvailabilityRechecker&) = delete;
  AvailabilityRechecker& operator=(const AvailabilityRechecker&) = delete;

  // One pass over the due re-checks (jobs::DurableJobs).
  std::chrono::milliseconds runPass(const jobs::StopRequested& stop_requested) override;
  // The product service is back: every waiting re-check is due now.
  void bringRetriesForward();

 private:
  // False when the product service could not answer (the job waits for the next pass).
  bool recheck(const jobs::JobRow& job);

  RecheckDependencies deps_;
  jobs::DurableJobs jobs_;
};

}  // namespace outpost::orders
