#include "saga/delivery_initiator.h"

#include <algorithm>
#include <limits>

#include "clients/guarded_call.h"
#include "common/text.h"
#include "jobs/job_pacing.h"
#include "orders/order_json.h"
#include "orders/order_repository.h"
#include "outbox/outbox.h"
#include "resilience/backoff.h"
#include "saga/compensator.h"
#include "store/review_records.h"
#include "store/saga_records.h"

namespace outpost::saga {
namespace {

using jobs::kIdleDelay;

using nlohmann::json;
using std::chrono::milliseconds;

// Another thread finished this attempt first; the savepoint drops what was written.
Error alreadyHandled() { return Error::conflict("the delivery job was already handled"); }

// The saga's compensation for a delivery the service will never make: nothing to cancel
// there, so the order is cancelled at once.
void compensateRejection(store::Connection& c, const std::string& order_id,
                         const std::string& reason, const outbox::EventContext& context) {
  auto order = orders::findOrder(c, order_id, false);
  if (!order || !orders::isValidTransition(order->status, orders::kCancelled)) return;
  store::recordSagaStep(c, order_id, store::kStepCompensationStarted, {{"reason", reason}},
                        context.now_millis);
  cancelOrder(c, *order, reason, context);
}

}  // namespace

std::optional<std::string> DeliveryInitiator::attemptAfterCommit(const std::string& order_id) {
  auto job = deps_.node.store.read([&](store::Connection& c) {
    return jobs::pendingJobFor(c, jobs::kInitiateDelivery, order_id);
  });
  if (!job || !*job) return std::nullopt;
  const Attempt result = attempt(**job, true);
  if (result.outcome == Outcome::kInitiated) return result.delivery_id;
  if (deps_.wake_background) deps_.wake_background();
  return std::nullopt;
}

DeliveryInitiator::DeliveryInitiator(DeliveryDependencies deps)
    : deps_(std::move(deps)),
      jobs_(deps_.node.store, deps_.node.clock, jobs::kInitiateDelivery, &deps_.breaker,
            [this](const jobs::JobRow& job) {
              return attempt(job, false).outcome == Outcome::kBreakerOpen
                         ? jobs::DurableJobs::Handled::kDependencyRefused
                         : jobs::DurableJobs::Handled::kNext;
            }) {}

std::chrono::milliseconds DeliveryInitiator::runPass(const jobs::StopRequested& stop_requested) {
  if (deps_.client == nullptr) return kIdleDelay;
  return jobs_.runPass(stop_requested);
}

void DeliveryInitiator::bringRetriesForward(const char* reason) {
  const int moved = jobs_.bringForward();
  if (moved > 0) {
    deps_.node.log.info(std::string(reason) + ": retries brought forward", {{"jobs", moved}});
  }
}

DeliveryInitiator::Attempt DeliveryInitiator::attempt(const jobs::JobRow& job,
                                                      bool first_answer_pending) {
  if (deps_.client == nullptr) return {};
  if (!deps_.order_calls.in_flight.tryClaim(job.aggregate_id)) return {};
  idempotency::KeyClaim claim(deps_.order_calls.in_flight, job.aggregate_id);
  // The row may be stale (read before another thread's attempt finished): only the job
  // as it is now, still pending with the same attempts, may be tried.
  if (!stillPending(job)) return {};
  auto order = deps_.node.store.read(
      [&](store::Connection& c) { return orders::findOrder(c, job.aggregate_id, false); });
  if (!order || !*order) return {};
  // Cancelled: nothing to deliver. Being cancelled: the compensation stops this job
  // rather than undo a new delivery.
  if ((*order)->status == orders::kCancelled) {
    (void)deps_.node.store.write([&](store::Connection& c) {
      jobs::stopJob(c, jobs::kInitiateDelivery, job.aggregate_id, "order cancelled",
                    deps_.node.clock.wallMillis());
      return okStatus();
    });
    return {};
  }
  if ((*order)->saga_state == store::kSagaCompensating) {
    waitForCancellation(job);
    return {};
  }
  const auto called = clients::callThrough(
      deps_.breaker, [&] { return deps_.client->initiate(orders::deliveryRequest(**order)); });
  if (!called) return {Outcome::kBreakerOpen, ""};
  const clients::DeliveryAnswer& answer = *called;
  if (answer.call_class == clients::CallClass::kSuccess) {
    if (!recordInitiated(job, answer.delivery_id, first_answer_pending)) {
      deps_.order_calls.markUnrecorded(job.aggregate_id);
      return {};
    }
    deps_.order_calls.clearUnrecorded(job.aggregate_id);
    return {Outcome::kInitiated, answer.delivery_id};
  }
  const bool permanent = answer.call_class == clients::CallClass::kPermanent;
  const bool give_up = permanent || job.attempts + 1 >= deps_.retry.max_attempts;
  deps_.node.log.warn("delivery initiation failed", {{"orderId", job.aggregate_id},
                                                {"attempt", job.attempts + 1},
                                                {"error", answer.error},
                                                {"willRetry", !give_up}});
  if (!recordFailure(job, answer, give_up)) {
    deps_.order_calls.markUnrecorded(job.aggregate_id);
    return {};
  }
  deps_.order_calls.clearUnrecorded(job.aggregate_id);
  return {give_up ? Outcome::kGaveUp : Outcome::kRetryLater, ""};
}

void DeliveryInitiator::waitForCancellation(const jobs::JobRow& job) {
  // Left due, this job would be picked again at every pass until the compensation ends it.
  const std::int64_t now = deps_.node.clock.wallMillis();
  (void)deps_.node.store.write([&](store::Connection& c) {
    jobs::rescheduleJob(c, job, job.attempts, now + kIdleDelay.count(),
                        "waiting for the order's cancellation", now);
    return okStatus();
  });
}

bool DeliveryInitiator::stillPending(const jobs::JobRow& job) {
  auto current = deps_.node.store.read([&](store::Connection& c) {
    return jobs::pendingJobFor(c, jobs::kInitiateDelivery, job.aggregate_id);
  });
  return current && *current && (*current)->id == job.id && (*current)->attempts == job.attempts;
}

Status DeliveryInitiator::recordInitiated(const jobs::JobRow& job, const std::string& delivery_id,
                                          bool first_answer_pending) {
  const std::int64_t now = deps_.node.clock.wallMillis();
  return deps_.node.store.write([&](store::Connection& c) -> Status {
    if (!jobs::completeJob(c, job, job.attempts + 1, now)) return alreadyHandled();
    orders::setDeliveryId(c, job.aggregate_id, delivery_id, now);
    outbox::EventContext context{deps_.node.node_id, now, deps_.node.random};
    outbox::appendEvent(c,
                        {"DELIVERY_INITIATED",
                         job.aggregate_id,
                         {{"orderId", job.aggregate_id},
                          {"deliveryId", delivery_id},
                          {"attempt", job.attempts + 1}}},
                        context);
    store::recordSagaStep(c, job.aggregate_id, store::kStepDeliveryInitiated,
                          {{"deliveryId", delivery_id}}, now);
    auto order = orders::findOrder(c, job.aggregate_id, false);
    // A cancel that began while this call was under way now cancels this delivery.
    if (order && order->saga_state == store::kSagaRunning) {
      store::recordSagaStep(c, job.aggregate_id, store::kStepSagaCompleted, json::object(), now);
      store::setSagaState(c, job.aggregate_id, store::kSagaCompleted, now);
    }
    if (first_answer_pending && order) {
      idempotency::refreshResponseBody(c, job.aggregate_id,
                                       orders::orderSummaryJson(*order).dump());
    }
    return okStatus();
  });
}

Status DeliveryInitiator::recordFailure(const jobs::JobRow& job,
                                        const clients::DeliveryAnswer& answer, bool give_up) {
  const std::int64_t now = deps_.node.clock.wallMillis();
  const int attempts = job.attempts + 1;
  const bool permanent = answer.call_class == clients::CallClass::kPermanent;
  const std::int64_t retry_at =
      now + resilience::backoffDelayMs({deps_.retry.initial_delay_ms, deps_.retry.max_delay_ms},
                                       attempts, deps_.node.random);
  auto written = deps_.node.store.write([&](store::Connection& c) -> Status {
    const bool updated = give_up
                             ? jobs::failJob(c, job, attempts, answer.error, now)
                             : jobs::rescheduleJob(c, job, attempts, retry_at, answer.error, now);
    if (!updated) return alreadyHandled();
    outbox::EventContext context{deps_.node.node_id, now, deps_.node.random};
    json data = {{"orderId", job.aggregate_id},
                 {"attempt", attempts},
                 {"error", answer.error},
                 {"permanent", permanent},
                 {"retryAfter", give_up ? json(nullptr) : json(formatTimestamp(retry_at))}};
    outbox::appendEvent(c, {"DELIVERY_INITIATION_FAILED", job.aggregate_id, data}, context);
    if (!give_up) return okStatus();
    const std::string reason = permanent
                                   ? "delivery service rejected the order: " + answer.error
                                   : "delivery initiation failed " + std::to_string(attempts) +
                                         " times; last error: " + answer.error;
    store::flagForReview(c, job.aggregate_id, store::kReviewDelivery, reason, now);
    if (permanent) compensateRejection(c, job.aggregate_id, reason, context);
    if (!permanent) {
      outbox::appendEvent(
          c,
          {"DELIVERY_INITIATION_EXHAUSTED",
           job.aggregate_id,
           {{"orderId", job.aggregate_id}, {"attempts", attempts}, {"error", answer.error}}},
          context);
    }
    return okStatus();
  });
  if (written && !give_up) deps_.node.metrics.deliveryRetryScheduled();
  return written;
}

}  // namespace outpost::saga
