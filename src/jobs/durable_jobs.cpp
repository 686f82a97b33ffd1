#include "jobs/durable_jobs.h"

#include <algorithm>
#include <limits>

namespace outpost::jobs {

using std::chrono::milliseconds;

DurableJobs::DurableJobs(store::Store& store, const Clock& clock, std::string kind,
                         resilience::CircuitBreaker* breaker, Handler handler)
    : store_(store),
      clock_(clock),
      kind_(std::move(kind)),
      breaker_(breaker),
      handler_(std::move(handler)) {}

milliseconds DurableJobs::runPass(const StopRequested& stop_requested) {
  auto due = store_.read(
      [&](store::Connection& c) { return dueJobs(c, kind_, clock_.wallMillis(), kJobsPerPass); });
  if (!due) return kStoreDownDelay;
  if (due->empty()) trialWithEarliestJob();
  for (const auto& job : *due) {
    if (stop_requested()) return kIdleDelay;
    if (handler_(job) == Handled::kDependencyRefused) return delayUntilNextJob();
  }
  if (due->size() == static_cast<std::size_t>(kJobsPerPass)) return milliseconds(0);
  return delayUntilNextJob();
}

int DurableJobs::bringForward() {
  int moved = 0;
  auto done = store_.write([&](store::Connection& c) {
    moved = jobs::bringForward(c, kind_, clock_.wallMillis());
    return okStatus();
  });
  return done ? moved : 0;
}

void DurableJobs::trialWithEarliestJob() {
  if (breaker_ == nullptr || breaker_->state() != resilience::BreakerState::kHalfOpen) return;
  auto earliest = store_.read([&](store::Connection& c) {
    return dueJobs(c, kind_, std::numeric_limits<std::int64_t>::max(), 1);
  });
  if (earliest && !earliest->empty()) handler_(earliest->front());
}

milliseconds DurableJobs::delayUntilNextJob() {
  auto next = store_.read([&](store::Connection& c) { return nextDueAt(c, kind_); });
  if (!next) return kStoreDownDelay;
  if (!*next) return kIdleDelay;
  std::int64_t wake_at = **next;
  if (breaker_ != nullptr) {
    const auto breaker = breaker_->snapshot();
    // Nothing goes before the trial time; at it, the trial can go with the earliest job.
    if (breaker.state == resilience::BreakerState::kOpen) wake_at = breaker.next_attempt_wall_ms;
  }
  return std::clamp(milliseconds(wake_at - clock_.wallMillis()), kMinimumDelay, kIdleDelay);
}

}  // namespace outpost::jobs
