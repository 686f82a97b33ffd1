#include "orders/availability_recheck.h"

#include "clients/guarded_call.h"
#include "jobs/job_pacing.h"
#include "orders/availability.h"
#include "orders/order_repository.h"
#include "outbox/outbox.h"
#include "store/review_records.h"

namespace outpost::orders {
using jobs::kJobsPerPass;

std::chrono::milliseconds AvailabilityRechecker::runDueJobs(
    const std::function<bool()>& stop_requested) {
  const std::chrono::milliseconds interval(deps_.recheck_interval_ms);
  auto due = deps_.store.read([&](store::Connection& c) {
    return jobs::dueJobs(c, kRecheckAvailability, deps_.clock.wallMillis(), kJobsPerPass);
  });
  if (!due) return interval;
  for (const auto& job : *due) {
    if (stop_requested()) return interval;
    if (!recheck(job)) return interval;  // the service is still down: the rest would fail too
  }
  // A full batch: more may be due (a long outage leaves many); go on at once.
  return due->size() == static_cast<std::size_t>(kJobsPerPass) ? std::chrono::milliseconds(0)
                                                               : interval;
}

bool AvailabilityRechecker::recheck(const jobs::JobRow& job) {
  auto order =
      deps_.store.read([&](store::Connection& c) { return findOrder(c, job.aggregate_id, false); });
  if (!order) return false;
  const std::int64_t now = deps_.clock.wallMillis();
  if (!*order) {
    (void)deps_.store.write([&](store::Connection& c) {
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
    (void)deps_.store.write([&](store::Connection& c) {
      (void)jobs::rescheduleJob(c, job, job.attempts + 1, now + deps_.recheck_interval_ms,
                                answer.error, now);
      return okStatus();
    });
    return false;
  }
  const AvailabilityVerdict verdict = judgeAvailability(requested, answer);
  const bool confirmed = verdict.kind == AvailabilityVerdict::Kind::kAvailable;
  auto written = deps_.store.write([&](store::Connection& c) -> Status {
    if (!jobs::completeJob(c, job, job.attempts + 1, now)) {
      return Error::conflict("the re-check was already handled");
    }
    outbox::EventContext context{deps_.node_id, now, deps_.random};
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
    deps_.log.info(confirmed ? "availability confirmed" : "availability re-check found shortages",
                   {{"orderId", job.aggregate_id}, {"reason", verdict.reason}});
  }
  return true;
}

}  // namespace outpost::orders
