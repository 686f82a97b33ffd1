#include "saga/saga_recovery.h"

#include "jobs/job_store.h"
#include "store/saga_records.h"

namespace outpost::saga {

Result<RecoveryReport> resumeInterruptedSagas(store::Store& store, std::int64_t now_millis) {
  RecoveryReport report;
  auto done = store.write([&](store::Connection& c) {
    jobs::bringForward(c, jobs::kInitiateDelivery, now_millis);
    report.resumed = jobs::countPending(c, jobs::kInitiateDelivery);
    for (const auto& order_id : store::compensatingSagas(c)) {
      ++report.compensating;
      if (jobs::pendingJobFor(c, jobs::kCompensateOrder, order_id)) continue;
      jobs::restartJob(
          c, {jobs::kCompensateOrder, order_id, {{"reason", "cancel resumed"}}, now_millis},
          now_millis);
      ++report.repaired;
    }
    jobs::bringForward(c, jobs::kCompensateOrder, now_millis);
    return okStatus();
  });
  if (!done) return done.error();
  return report;
}

}  // namespace outpost::saga
