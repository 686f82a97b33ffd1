#include "jobs/drain.h"

#include <algorithm>

#include "jobs/job_store.h"
#include "observability/reliability.h"

namespace outpost::jobs {

PendingWork readPendingWork(store::Connection& connection) {
  return {observability::readStoredFigures(connection).outbox_events_pending,
          countPending(connection, kInitiateDelivery)};
}

void Drain::setWork(DrainWork work) { work_ = std::move(work); }

Result<DrainReport> Drain::drain(std::chrono::milliseconds timeout) {
  draining_ = true;
  const Clock::SteadyTime deadline = clock_.steadyNow() + timeout;
  work_.forward();
  Clock::SteadyTime forward_at = clock_.steadyNow() + kForwardAgainEvery;
  for (;;) {
    std::uint64_t seen = 0;
    {
      std::lock_guard lock(mutex_);
      seen = commits_;
    }
    // Read after noting the commits: one made in between ends the wait below at once.
    auto pending = work_.read_pending();
    if (!pending) return pending.error();
    if (pending->none()) return DrainReport{true, *pending, false};
    if (!work_.can_move(*pending)) return DrainReport{false, *pending, true};
    {
      std::unique_lock lock(mutex_);
      if (stopping_ || clock_.steadyNow() >= deadline) return DrainReport{false, *pending, false};
      clock_.waitUntil(lock, changed_, std::min(deadline, forward_at),
                       [&] { return stopping_ || commits_ != seen; });
    }
    const Clock::SteadyTime now = clock_.steadyNow();
    if (now >= forward_at && now < deadline) {
      work_.forward();
      forward_at = now + kForwardAgainEvery;
    }
  }
}

void Drain::workCommitted() {
  {
    std::lock_guard lock(mutex_);
    ++commits_;
  }
  changed_.notify_all();
}

void Drain::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
}

}  // namespace outpost::jobs
