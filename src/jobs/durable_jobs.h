// DurableJobs: the one loop over durable jobs of one kind (a job row committed with the
// change that needs it: delivery initiation, saga compensation, availability re-checks),
// so that every such job is paced alike. One pass:
// - runs the due jobs through the handler, oldest due first, kJobsPerPass at a time,
//   checking stop_requested between jobs; a full batch means more may be due, so the next
//   pass is at once;
// - ends at a job whose dependency refused (its breaker is open, or the service is down):
//   the rest would fail too;
// - with nothing due while the dependency's breaker is ready for its trial (HALF_OPEN),
//   sends the earliest waiting job now as that trial, so recovery does not wait out a
//   long backoff (a success closes the breaker; the composition root then brings every
//   job forward);
// - says when to run again: when the next job is due or, while the breaker is OPEN, when
//   its trial may go; never sooner than kMinimumDelay nor later than kIdleDelay, and after
//   kStoreDownDelay when the store could not be read.
// Thread-safe as far as the handler is.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "jobs/background_job.h"
#include "jobs/job_pacing.h"
#include "jobs/job_store.h"
#include "outpost/clock.h"
#include "resilience/circuit_breaker.h"
#include "store/store.h"

namespace outpost::jobs {

class DurableJobs {
 public:
  enum class Handled {
    kNext,               // done with this job for now (whatever became of it)
    kDependencyRefused,  // its dependency refused the call: end the pass
  };
  using Handler = std::function<Handled(const JobRow& job)>;

  // `breaker` guards the jobs' dependency; nullptr when they call none.
  DurableJobs(store::Store& store, const Clock& clock, std::string kind,
              resilience::CircuitBreaker* breaker, Handler handler);

  std::chrono::milliseconds runPass(const StopRequested& stop_requested);

  // Makes every waiting job due now (their dependency is back); how many were moved.
  int bringForward();

 private:
  void trialWithEarliestJob();
  std::chrono::milliseconds delayUntilNextJob();

  store::Store& store_;
  const Clock& clock_;
  std::string kind_;
  resilience::CircuitBreaker* breaker_;
  Handler handler_;
};

}  // namespace outpost::jobs
