// Drain: what `outpost drain` and POST /v1/admin/drain do before a box is switched off
// (SPEC §10). Once draining, the node takes no orders (the HTTP layer asks draining()),
// and each drain() brings the waiting work forward (outbox events and delivery
// initiations: their backoff is not waited out, and an open breaker gets its trial now)
// and waits until nothing is pending or its timeout passes. Draining lasts until resume()
// or the end of the process: the flag lives in memory, so a restarted node takes orders.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "outpost/clock.h"
#include "outpost/result.h"
#include "store/connection.h"

namespace outpost::jobs {

struct PendingWork {
  std::int64_t events = 0;      // PENDING outbox events
  std::int64_t deliveries = 0;  // delivery initiations not done yet (PENDING jobs)
  bool none() const { return events == 0 && deliveries == 0; }
};

// Reads the kept outbox count (observability::readStoredFigures) and the pending
// INITIATE_DELIVERY jobs in one snapshot. Throws SQLite::Exception: run it through
// Store::read.
PendingWork readPendingWork(store::Connection& connection);

struct DrainReport {
  bool drained = false;
  PendingWork pending;
  // What is left waits for a destination or service that is not configured: no drain
  // moves it.
  bool stuck = false;
};

struct DrainWork {
  // What is left; an error when the store cannot be read.
  std::function<Result<PendingWork>()> read_pending;
  // Makes every waiting event and delivery initiation due now, lets open breakers try,
  // and wakes the jobs that do the work.
  std::function<void()> forward;
  // Whether any of `pending` can still go: work that waits for a destination or service
  // that is not configured stays however long a drain waits, so the drain answers at once.
  std::function<bool(const PendingWork& pending)> can_move;
};

class Drain {
 public:
  // While a drain() waits, the work is brought forward again this often: a trial that
  // failed reopened its breaker, and the next one should not wait out reset_timeout_ms.
  static constexpr std::chrono::milliseconds kForwardAgainEvery{1000};

  explicit Drain(const Clock& clock) : clock_(clock) {}

  // Before the first drain().
  void setWork(DrainWork work);

  bool draining() const { return draining_; }

  // Starts draining (if not yet), brings the work forward and waits, woken by each commit
  // (workCommitted), until nothing is pending, nothing pending can move, `timeout` passes
  // or stop() is called; then says what is left. An error when the store cannot be read.
  Result<DrainReport> drain(std::chrono::milliseconds timeout);

  // Orders are taken again.
  void resume() { draining_ = false; }

  // Something was committed, so some work may be done: waiting drain() calls count again.
  // Cheap; called on the store's writer thread after each commit.
  void workCommitted();

  // The node is stopping: drain() calls return now (an HTTP worker must not hold up the
  // shutdown), with what is left.
  void stop();

 private:
  const Clock& clock_;
  DrainWork work_;
  std::atomic<bool> draining_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t commits_ = 0;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
};

}  // namespace outpost::jobs
