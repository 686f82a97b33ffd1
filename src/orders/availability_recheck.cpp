#include "orders/availability_recheck.h"

#include "clients/guarded_call.h"
#include "orders/availability.h"
#include "orders/order_repository.h"
#include "outbox/outbox.h"
#include "store/review_records.h"

namespace outpost::orders {

AvailabilityRechecker::AvailabilityRechecker(RecheckDependencies deps)
    : deps_(std::move(deps)),
      jobs_(deps_.node.store, deps_.node.clock, kRecheckAvailability, &deps_.breaker,
            [this](const jobs::JobRow& job) {
              // The service could not answer: the rest would fail too.
              return recheck(job) ? jobs::DurableJobs::Handled::kNext
                                  : jobs::DurableJobs::Handled::kDependencyRefused;
            }) {}

std::chrono::milliseconds AvailabilityRechecker::runPass(
    const jobs::StopRequested& stop_requested) {
  return jobs_.runPass(stop_requested);
}

void AvailabilityRechecker::bringRetriesForward() { jobs_.bringForward(); }

bool AvailabilityRechecker::recheck(const jobs::JobRow& job) {
  auto order =
      deps_.node.store.read([&](store::Connection& c) { return findOrder(c, job.aggregate_id, false); });
  if (!order) return false;
  const std::int64_t now = deps_.node.clock.wallMillis();
  if (!*order) {
    (void)deps_.node.store.write([&](store::Connection& c) {
      (void)jobs::completeJob(c, job, job.attempts, now);
      return okStatus();
    });
    return true;
  }
  const auto requested = requestedQuantities((*order)->items);
  std::vector<std::string> ids;
  for (const auto& [product, quantity] : requested) ids.push_back(product);
  const auto called = clients::callThrough(deps_.breaker, [&] { return deps_.client.check(ids); });
  if (!called) return false;
  const clients::AvailabilityAnswer& answer = *called;
  const bool answered = answer.call_class == clients::CallClass::kSuccess;
  if (!answered) {
    (void)deps_.node.store.write([&](store::Connection& c) {
      (void)jobs::rescheduleJob(c, job, job.attempts + 1, now + deps_.recheck_interval_ms,
                                answer.error, now);
      return okStatus();
    });
    return false;
  }
  const AvailabilityVerdict verdict = judgeAvailability(requested, answer);
  const bool confirmed = verdict.kind == AvailabilityVerdict::Kind::kAvailable;
  auto written = deps_.node.store.write([&](store::Connection& c) -> Status {
    if (!jobs::completeJob(c, job, job.attempts + 1, now)) {
      return Error::conflict("the re-check was already handled");
    }
    outbox::EventContext context{deps_.node.node_id, now, deps_.node.random};
    if (confirmed) {
      store::resolveReview(c, job.aggregate_id, store::kReviewAvailability,
                           "availability confirmed by the product service", now);
      outbox::appendEvent(c,
                          {"AVAILABILITY_CONFIRMED",
                           job.aggregate_id,
                           {{"orderId", job.aggregate_id}, {"productIds", ids}}},
                          context);
    } else {
      store::flagForReview(c, job.aggregate_id, store::kReviewAvailability, verdict.reason, now);
    }
    return okStatus();
  });
  if (written) {
    deps_.node.log.info(confirmed ? "availability confirmed" : "availability re-check found shortages",
                   {{"orderId", job.aggregate_id}, {"reason", verdict.reason}});
  }
  return true;
}

}  // namespace outpost::orders
