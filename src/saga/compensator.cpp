#include "saga/compensator.h"

#include <algorithm>

#include "clients/guarded_call.h"
#include "jobs/job_pacing.h"
#include "orders/order_json.h"
#include "orders/order_repository.h"
#include "resilience/backoff.h"
#include "store/review_records.h"
#include "store/saga_records.h"

namespace outpost::saga {
namespace {

using jobs::kIdleDelay;
using jobs::kJobsPerPass;
using jobs::kStoreDownDelay;

using nlohmann::json;
using std::chrono::milliseconds;

Error alreadyHandled() { return Error::conflict("the compensation job was already handled"); }

std::string reasonOf(const jobs::JobRow& job) {
  auto it = job.payload.find("reason");
  if (it != job.payload.end() && it->is_string()) return it->get<std::string>();
  return "cancelled";
}

json deliveryIdJson(const orders::Order& order) {
  return order.delivery_id ? json(*order.delivery_id) : json(nullptr);
}

}  // namespace

Result<CancelRequest> beginCompensation(store::Connection& connection, const orders::Order& order,
                                        const std::string& reason, std::int64_t now_millis) {
  if (order.status == orders::kCancelled) return CancelRequest::kAlreadyCancelled;
  if (order.status == orders::kShipped || order.status == orders::kDelivered) {
    return Error::conflict("order " + order.id + " is " + order.status +
                           ": it can no longer be cancelled");
  }
  if (order.saga_state == store::kSagaCompensating) return CancelRequest::kAlreadyUnderWay;
  store::setSagaState(connection, order.id, store::kSagaCompensating, now_millis);
  store::recordSagaStep(connection, order.id, store::kStepCompensationStarted, {{"reason", reason}},
                        now_millis);
  orders::appendHistory(connection, order.id,
                        {order.status, now_millis, "cancel requested: " + reason});
  jobs::restartJob(connection, {jobs::kCompensateOrder, order.id, {{"reason", reason}}, now_millis},
                   now_millis);
  return CancelRequest::kStarted;
}

bool cancelOrder(store::Connection& connection, const orders::Order& order,
                 const std::string& reason, const outbox::EventContext& context) {
  const std::int64_t now = context.now_millis;
  if (!orders::changeStatus(connection, order.id, order.status,
                            {orders::kCancelled, now, reason})) {
    return false;
  }
  jobs::stopJob(connection, jobs::kInitiateDelivery, order.id, "order cancelled", now);
  jobs::stopJob(connection, jobs::kCompensateOrder, order.id, "order cancelled", now);
  outbox::appendEvent(connection,
                      {"ORDER_CANCELLED",
                       order.id,
                       {{"orderId", order.id},
                        {"reason", reason},
                        {"previousStatus", order.status},
                        {"deliveryId", deliveryIdJson(order)}}},
                      context);
  store::recordSagaStep(connection, order.id, store::kStepOrderCancelled, {{"reason", reason}},
                        now);
  store::setSagaState(connection, order.id, store::kSagaCompensated, now);
  // A cancel that was taking long, or had been refused, is done now.
  store::resolveReview(connection, order.id, store::kReviewCancellation, "CANCELLED", now);
  return true;
}

Result<Compensator::Cancelled> Compensator::cancel(const std::string& order_id,
                                                   const std::string& reason) {
  CancelRequest outcome = CancelRequest::kStarted;
  auto begun = deps_.node.store.write([&](store::Connection& c) -> Status {
    auto order = orders::findOrder(c, order_id, false);
    if (!order) return Error::notFound("no order with id " + order_id);
    auto request = beginCompensation(c, *order, reason, deps_.node.clock.wallMillis());
    if (!request) return request.error();
    outcome = *request;
    return okStatus();
  });
  if (!begun) return begun.error();
  if (outcome == CancelRequest::kStarted) {
    deps_.node.log.info("order cancel requested", {{"orderId", order_id}, {"reason", reason}});
    attemptNow(order_id);
  }
  auto order =
      deps_.node.store.read([&](store::Connection& c) { return orders::findOrder(c, order_id, true); });
  if (!order) return order.error();
  if (!*order) return Error::notFound("no order with id " + order_id);
  return Cancelled{outcome, std::move(**order)};
}

void Compensator::attemptNow(const std::string& order_id) {
  auto job = deps_.node.store.read([&](store::Connection& c) {
    return jobs::pendingJobFor(c, jobs::kCompensateOrder, order_id);
  });
  if (!job || !*job) return;
  const Outcome outcome = compensate(**job);
  if (outcome != Outcome::kDone && outcome != Outcome::kStopped && deps_.wake_background) {
    deps_.wake_background();
  }
}

Compensator::Compensator(CompensatorDependencies deps)
    : deps_(std::move(deps)),
      jobs_(deps_.node.store, deps_.node.clock, jobs::kCompensateOrder, &deps_.breaker,
            [this](const jobs::JobRow& job) {
              return compensate(job) == Outcome::kBreakerOpen
                         ? jobs::DurableJobs::Handled::kDependencyRefused
                         : jobs::DurableJobs::Handled::kNext;
            }) {}

std::chrono::milliseconds Compensator::runPass(const jobs::StopRequested& stop_requested) {
  return jobs_.runPass(stop_requested);
}

void Compensator::bringRetriesForward() { jobs_.bringForward(); }

Compensator::Outcome Compensator::compensate(const jobs::JobRow& job) {
  // Never beside a delivery initiation of the same order: its answer could carry the
  // delivery id this compensation has to cancel.
  if (!deps_.order_calls.in_flight.tryClaim(job.aggregate_id)) return Outcome::kBusy;
  idempotency::KeyClaim claim(deps_.order_calls.in_flight, job.aggregate_id);
  auto current = deps_.node.store.read([&](store::Connection& c) {
    return jobs::pendingJobFor(c, jobs::kCompensateOrder, job.aggregate_id);
  });
  if (!current || !*current || (*current)->id != job.id || (*current)->attempts != job.attempts) {
    return Outcome::kDone;  // finished by another thread
  }
  auto order = deps_.node.store.read(
      [&](store::Connection& c) { return orders::findOrder(c, job.aggregate_id, false); });
  if (!order || !*order) return Outcome::kRetryLater;
  if ((*order)->status == orders::kShipped || (*order)->status == orders::kDelivered) {
    return stopCompensation(job, **order,
                            "the order is " + (*order)->status + ": it can no longer be cancelled");
  }
  if ((*order)->delivery_id) return cancelDelivery(job, **order, *(*order)->delivery_id);
  if (deliveryMayExist(**order)) {
    if (deps_.client == nullptr) return waitForDeliveryUrl(job);  // to look it up
    return findLostDelivery(job, **order);
  }
  return finishWithoutDelivery(job, **order);
}

bool Compensator::deliveryMayExist(const orders::Order& order) {
  auto initiation = deps_.node.store.read([&](store::Connection& c) {
    return jobs::latestJobFor(c, jobs::kInitiateDelivery, order.id);
  });
  if (!initiation || !*initiation) return false;
  const jobs::JobRow& job = **initiation;
  // An attempt without an answer (a timeout) may have created one, and so may the attempts
  // before staff restarted a given-up initiation. With a delivery service configured, so
  // may an attempt that was in flight when an earlier run of the node died, and one whose
  // outcome could not be written.
  if (job.attempts > 0 || job.payload.value("previousAttempts", 0) > 0) return true;
  if (deps_.client == nullptr) return false;  // zero infrastructure: no call was made
  return (job.status == "PENDING" && job.created_at < deps_.started_at_millis) ||
         deps_.order_calls.unrecorded(order.id);
}

Compensator::Outcome Compensator::finishWithoutDelivery(const jobs::JobRow& job,
                                                        const orders::Order& order) {
  return finish(job, order.id, job.attempts, std::nullopt);
}

Compensator::Outcome Compensator::finish(const jobs::JobRow& job, const std::string& order_id,
                                         int attempts,
                                         const std::optional<nlohmann::json>& delivery_step) {
  const std::int64_t now = deps_.node.clock.wallMillis();
  auto done = deps_.node.store.write([&](store::Connection& c) -> Status {
    if (!jobs::completeJob(c, job, attempts, now)) return alreadyHandled();
    if (delivery_step)
      store::recordSagaStep(c, order_id, store::kStepDeliveryCancelled, *delivery_step, now);
    // The order as it is now, not as read before the call.
    auto order = orders::findOrder(c, order_id, false);
    if (!order) return okStatus();
    if (order->status == orders::kCancelled) {
      store::setSagaState(c, order_id, store::kSagaCompensated,
                          now);  // cancelled by another path meanwhile
      return okStatus();
    }
    if (!orders::isValidTransition(order->status, orders::kCancelled)) return alreadyHandled();
    outbox::EventContext context{deps_.node.node_id, now, deps_.node.random};
    if (!cancelOrder(c, *order, reasonOf(job), context)) return alreadyHandled();
    return okStatus();
  });
  if (!done) return Outcome::kRetryLater;
  deps_.node.log.info("order cancelled", {{"orderId", order_id}});
  return Outcome::kDone;
}

Compensator::Outcome Compensator::findLostDelivery(const jobs::JobRow& job,
                                                   const orders::Order& order) {
  // The same Idempotency-Key as the initiation: the service answers with the delivery it
  // made, if any (or makes one, which is cancelled next).
  const auto called = clients::callThrough(
      deps_.breaker, [&] { return deps_.client->initiate(orders::deliveryRequest(order)); });
  if (!called) return Outcome::kBreakerOpen;
  const clients::DeliveryAnswer& answer = *called;
  if (answer.call_class == clients::CallClass::kPermanent) {
    return finishWithoutDelivery(job, order);  // it refuses the order: none was made
  }
  if (answer.call_class == clients::CallClass::kRetriable) {
    return retryLater(job, order, answer.error);
  }
  const std::int64_t now = deps_.node.clock.wallMillis();
  auto recorded = deps_.node.store.write([&](store::Connection& c) -> Status {
    orders::setDeliveryId(c, order.id, answer.delivery_id, now);
    jobs::stopJob(c, jobs::kInitiateDelivery, order.id, "order cancelled", now);
    store::recordSagaStep(c, order.id, store::kStepDeliveryInitiated,
                          {{"deliveryId", answer.delivery_id}, {"foundByCompensation", true}}, now);
    return okStatus();
  });
  if (!recorded) return Outcome::kRetryLater;
  orders::Order with_delivery = order;
  with_delivery.delivery_id = answer.delivery_id;
  return cancelDelivery(job, with_delivery, answer.delivery_id);
}

Compensator::Outcome Compensator::cancelDelivery(const jobs::JobRow& job,
                                                 const orders::Order& order,
                                                 const std::string& delivery_id) {
  if (deps_.client == nullptr) return waitForDeliveryUrl(job);
  const auto called =
      clients::callThrough(deps_.breaker, [&] { return deps_.client->cancel(delivery_id); });
  if (!called) return Outcome::kBreakerOpen;
  const clients::DeliveryAnswer& answer = *called;
  if (answer.call_class == clients::CallClass::kRetriable) {
    return retryLater(job, order, answer.error);
  }
  if (answer.call_class == clients::CallClass::kPermanent && !answer.no_such_delivery) {
    return stopCompensation(
        job, order,
        "the delivery service refused to cancel delivery " + delivery_id + ": " + answer.error);
  }
  return finish(job, order.id, job.attempts + 1,
                json{{"deliveryId", delivery_id}, {"unknownToService", answer.no_such_delivery}});
}

Compensator::Outcome Compensator::waitForDeliveryUrl(const jobs::JobRow& job) {
  const std::int64_t now = deps_.node.clock.wallMillis();
  (void)deps_.node.store.write([&](store::Connection& c) {
    jobs::rescheduleJob(c, job, job.attempts, now + kIdleDelay.count(),
                        "waiting for delivery_service.url to be configured", now);
    return okStatus();
  });
  return Outcome::kWaiting;
}

Compensator::Outcome Compensator::retryLater(const jobs::JobRow& job, const orders::Order& order,
                                             const std::string& error) {
  const std::int64_t now = deps_.node.clock.wallMillis();
  const int attempts = job.attempts + 1;
  const std::int64_t retry_at =
      now + resilience::backoffDelayMs({deps_.retry.initial_delay_ms, deps_.retry.max_delay_ms},
                                       attempts, deps_.node.random);
  deps_.node.log.warn("order cancellation failed, will retry",
                 {{"orderId", order.id}, {"attempt", attempts}, {"error", error}});
  (void)deps_.node.store.write([&](store::Connection& c) -> Status {
    if (!jobs::rescheduleJob(c, job, attempts, retry_at, error, now)) return alreadyHandled();
    // A cancel is never dropped, but staff should know when one is taking this long.
    if (attempts == deps_.retry.max_attempts) {
      store::flagForReview(c, order.id, store::kReviewCancellation,
                           "cancelling the delivery failed " + std::to_string(attempts) +
                               " times (still retrying); last error: " + error,
                           now);
    }
    return okStatus();
  });
  return Outcome::kRetryLater;
}

Compensator::Outcome Compensator::stopCompensation(const jobs::JobRow& job,
                                                   const orders::Order& order,
                                                   const std::string& reason) {
  const std::int64_t now = deps_.node.clock.wallMillis();
  deps_.node.log.warn("order cannot be cancelled: sent to manual review",
                 {{"orderId", order.id}, {"reason", reason}});
  (void)deps_.node.store.write([&](store::Connection& c) -> Status {
    auto current = orders::findOrder(c, order.id, false);
    if (current && current->status == orders::kCancelled) {
      // Cancelled by another path meanwhile (a refusal to cancel what is cancelled).
      if (!jobs::completeJob(c, job, job.attempts + 1, now)) return alreadyHandled();
      store::setSagaState(c, order.id, store::kSagaCompensated, now);
      return okStatus();
    }
    if (!jobs::failJob(c, job, job.attempts + 1, reason, now)) return alreadyHandled();
    store::setSagaState(c, order.id, store::kSagaCompensationFailed, now);
    store::recordSagaStep(c, order.id, store::kStepCompensationFailed, {{"reason", reason}}, now);
    orders::appendHistory(c, order.id, {order.status, now, "cancel failed: " + reason});
    store::flagForReview(c, order.id, store::kReviewCancellation, reason, now);
    outbox::EventContext context{deps_.node.node_id, now, deps_.node.random};
    outbox::appendEvent(
        c,
        {"ORDER_CANCELLATION_FAILED",
         order.id,
         {{"orderId", order.id}, {"reason", reason}, {"deliveryId", deliveryIdJson(order)}}},
        context);
    return okStatus();
  });
  return Outcome::kStopped;
}

}  // namespace outpost::saga
