// Compensator: the saga's way back (SPEC §5). A cancel (POST /v1/orders/{id}/cancel, a
// staff "cancel" from the review queue) commits the saga as COMPENSATING together with a
// durable COMPENSATE_ORDER job, then compensates in reverse: the delivery is cancelled at
// the delivery service, then the order (CANCELLED, ORDER_CANCELLED event), each step
// recorded in the transaction of its change. A delivery service that is down is retried
// with backoff through the delivery breaker, for as long as it takes: a cancel is never
// lost. One that refuses (the parcel has left) ends the saga COMPENSATION_FAILED with a
// review item. Thread-safe; an order is worked on by one thread at a time, shared with
// delivery initiation through `order_calls`.
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
#include "orders/order.h"
#include "outbox/outbox.h"
#include "outpost/clock.h"
#include "outpost/config.h"
#include "outpost/result.h"
#include "resilience/circuit_breaker.h"
#include "saga/order_calls.h"
#include "store/store.h"

namespace outpost::saga {

enum class CancelRequest { kStarted, kAlreadyUnderWay, kAlreadyCancelled };

// Starts compensation inside the caller's transaction: kNotFound for an unknown order,
// kConflict when it has shipped or been delivered. `reason` goes to the history and the
// ORDER_CANCELLED event. Throws SQLite::Exception.
Result<CancelRequest> beginCompensation(store::Connection& connection, const orders::Order& order,
                                        const std::string& reason, std::int64_t now_millis);

// The last step of compensation, in the caller's transaction: the order becomes CANCELLED
// (history, ORDER_CANCELLED event), the saga COMPENSATED, a waiting delivery initiation is
// stopped. False when the order was not in `order.status` any more.
bool cancelOrder(store::Connection& connection, const orders::Order& order,
                 const std::string& reason, const outbox::EventContext& context);

struct CompensatorDependencies {
  const node::Context& node;
  resilience::CircuitBreaker& breaker;  // the delivery service's
  clients::DeliveryClient* client;      // nullptr: no delivery URL
  RetryConfig retry;
  saga::OrderCalls& order_calls;  // shared with delivery initiation
  // When this process started: a delivery initiation left PENDING from before may have
  // been in flight when the node died, so a delivery may exist without our knowing its id.
  std::int64_t started_at_millis = 0;
  std::function<void()> wake_background;
};

class Compensator final : public jobs::BackgroundJob {
 public:
  explicit Compensator(CompensatorDependencies deps);
  // Its job loop calls back into it: it stays where it was made.
  Compensator(const Compensator&) = delete;
  Compensator& operator=(const Compensator&) = delete;

  // POST /v1/orders/{id}/cancel: begins compensation and makes one attempt at once
  // (bounded by the delivery timeout); the rest happens in the background. Returns what
  // happened and the order as it is now.
  struct Cancelled {
    CancelRequest outcome;
    orders::Order order;
  };
  Result<Cancelled> cancel(const std::string& order_id, const std::string& reason);

  // One attempt at the order's compensation now (after beginCompensation committed
  // elsewhere, e.g. by the review queue).
  void attemptNow(const std::string& order_id);

  // The delivery breaker closed again: every waiting compensation is due now.
  void bringRetriesForward();

  // One background pass over the due compensation jobs (jobs::DurableJobs).
  std::chrono::milliseconds runPass(const jobs::StopRequested& stop_requested) override;

 private:
  enum class Outcome { kDone, kRetryLater, kStopped, kBusy, kBreakerOpen, kWaiting };
  Outcome compensate(const jobs::JobRow& job);
  Outcome finishWithoutDelivery(const jobs::JobRow& job, const orders::Order& order);
  // The transaction that ends a compensation; `delivery_step` is recorded first when set.
  Outcome finish(const jobs::JobRow& job, const std::string& order_id, int attempts,
                 const std::optional<nlohmann::json>& delivery_step);
  Outcome cancelDelivery(const jobs::JobRow& job, const orders::Order& order,
                         const std::string& delivery_id);
  Outcome findLostDelivery(const jobs::JobRow& job, const orders::Order& order);
  Outcome retryLater(const jobs::JobRow& job, const orders::Order& order, const std::string& error);
  Outcome waitForDeliveryUrl(const jobs::JobRow& job);
  Outcome stopCompensation(const jobs::JobRow& job, const orders::Order& order,
                           const std::string& reason);
  bool deliveryMayExist(const orders::Order& order);

  CompensatorDependencies deps_;
  jobs::DurableJobs jobs_;
};

}  // namespace outpost::saga
