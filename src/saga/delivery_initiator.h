// DeliveryInitiator: gets every order a delivery (SPEC §4.1). The order's commit already
// holds an INITIATE_DELIVERY job, so nothing is lost if the node dies at any point. One
// attempt is made right after the commit (bounded by the client's timeout, skipped while
// the breaker is open); the rest happen in the background with backoff. Outages never
// lose the order; max_attempts sends it to manual review. A permanent rejection
// compensates the saga: the order is cancelled (and flagged for review). Success records
// the saga's DELIVERY_INITIATED step and completes it.
// Thread-safe: an order is attempted by one thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "clients/delivery_client.h"
#include "idempotency/idempotency.h"
#include "jobs/background_job.h"
#include "jobs/durable_jobs.h"
#include "jobs/job_store.h"
#include "node/context.h"
#include "observability/logger.h"
#include "observability/metrics.h"
#include "outpost/clock.h"
#include "outpost/config.h"
#include "resilience/circuit_breaker.h"
#include "saga/order_calls.h"
#include "store/store.h"

namespace outpost::saga {

struct DeliveryDependencies {
  const node::Context& node;  // the metrics count the retries scheduled
  resilience::CircuitBreaker& breaker;
  clients::DeliveryClient* client;  // nullptr: no delivery URL, jobs wait
  RetryConfig retry;
  OrderCalls& order_calls;  // shared with saga compensation
  // Wakes the background pass: the attempt after commit did not deliver, so a retry is
  // now waiting that the sleeping pass does not know about.
  std::function<void()> wake_background;
};

class DeliveryInitiator final : public jobs::BackgroundJob {
 public:
  explicit DeliveryInitiator(DeliveryDependencies deps);
  // Its job loop calls back into it: it stays where it was made.
  DeliveryInitiator(const DeliveryInitiator&) = delete;
  DeliveryInitiator& operator=(const DeliveryInitiator&) = delete;

  // The one attempt after POST /v1/orders committed; the delivery id on success. A
  // success also updates the stored idempotent response, which is this answer.
  std::optional<std::string> attemptAfterCommit(const std::string& order_id);

  // One background pass over the due initiations (jobs::DurableJobs); without a delivery
  // URL the jobs wait, spending no attempts.
  std::chrono::milliseconds runPass(const jobs::StopRequested& stop_requested) override;

  // The breaker closed again (SPEC §4.1 fix), or the node drains (SPEC §10): every waiting
  // retry is due now. `reason` goes into the log line.
  void bringRetriesForward(const char* reason = "delivery service is back");

 private:
  enum class Outcome { kInitiated, kRetryLater, kGaveUp, kSkipped, kBreakerOpen };
  struct Attempt {
    Outcome outcome = Outcome::kSkipped;
    std::string delivery_id;
  };

  Attempt attempt(const jobs::JobRow& job, bool first_answer_pending);
  bool stillPending(const jobs::JobRow& job);
  void waitForCancellation(const jobs::JobRow& job);
  Status recordInitiated(const jobs::JobRow& job, const std::string& delivery_id,
                         bool first_answer_pending);
  Status recordFailure(const jobs::JobRow& job, const clients::DeliveryAnswer& answer,
                       bool give_up);
  DeliveryDependencies deps_;
  jobs::DurableJobs jobs_;
};

}  // namespace outpost::saga
