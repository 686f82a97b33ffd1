// CircuitBreaker: guards one dependency (delivery-service, product-service, database,
// events). Thread-safe; time comes only from the injected Clock.
//
// CLOSED: calls pass; each result lands in a rolling window of buckets. The breaker opens
// when the window holds at least volume_threshold calls and the failure percentage is at
// or above error_threshold_percentage (>=, as resilience4j and Polly; opossum uses >), or
// after consecutive_failures failures in a row whatever the window holds (a kiosk making
// one call a minute never fills a 10 s window). Only a failure is judged against these
// rules: a success never opens the breaker, whatever the window then holds.
// OPEN: calls are rejected without reaching the dependency, and do not count.
// HALF_OPEN: after reset_timeout_ms exactly one trial call is let through, however many
// callers race. The trial has a deadline (timeout_ms): if no result arrives by then, it
// counts as a failure, so a hung probe cannot wedge the breaker. Trial success closes the
// breaker and clears the window; failure opens it for another reset_timeout_ms.
// Results of calls admitted before the last state change are ignored (generation counter),
// so a late success cannot close a breaker that opened after the call began.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "outpost/clock.h"

namespace outpost::resilience {

enum class BreakerState { kClosed, kOpen, kHalfOpen };
const char* toString(BreakerState state);

// What a guarded call's caller reports. Only outcomes of calls that reached the
// dependency are reported; a permanent rejection by the dependency (a 4xx) is a success
// for the breaker: the dependency is up and answering.
enum class CallResult { kSuccess, kFailure, kTimeout };

struct BreakerOptions {
  std::string name;
  int error_threshold_percentage = 50;
  std::int64_t reset_timeout_ms = 30000;
  int volume_threshold = 5;
  int consecutive_failures = 5;
  std::int64_t rolling_window_ms = 10000;
  std::int64_t timeout_ms = 10000;  // the half-open trial's deadline
  int buckets = 10;                 // the rolling window is split into this many buckets
};

// A ticket to make one call; hand it back to record().
struct Permit {
  std::uint64_t generation = 0;
  bool trial = false;
};

// What survives a restart: an open breaker stays open until its next trial time.
struct PersistedBreaker {
  BreakerState state = BreakerState::kClosed;
  std::int64_t next_attempt_wall_ms = 0;  // when an OPEN breaker may try again
};

struct BreakerTransition {
  std::string name;
  BreakerState from;
  BreakerState to;
  std::string reason;  // e.g. "3 of 5 calls failed (60% >= 50%)", "trial succeeded"
  std::int64_t at_wall_ms = 0;
  std::int64_t next_attempt_wall_ms = 0;  // set when `to` is OPEN
};

struct BreakerSnapshot {
  BreakerState state = BreakerState::kClosed;
  int calls_in_window = 0;
  int failures_in_window = 0;
  int consecutive_failures = 0;
  std::uint64_t transitions = 0;
  std::int64_t next_attempt_wall_ms = 0;  // 0 unless OPEN
};

class CircuitBreaker {
 public:
  using Listener = std::function<void(const BreakerTransition&)>;

  CircuitBreaker(BreakerOptions options, const Clock& clock,
                 std::optional<PersistedBreaker> restored = std::nullopt);

  // Called after every state change, outside the breaker's lock; set before first use.
  void setListener(Listener listener);

  // A permit to call the dependency now, or nullopt: OPEN, or HALF_OPEN with its one
  // trial already out. Moves OPEN to HALF_OPEN once the reset timeout has passed.
  std::optional<Permit> tryAcquire();
  void record(const Permit& permit, CallResult result);

  // `outpost drain`: an OPEN breaker moves to HALF_OPEN now, so that the next call is its
  // trial instead of waiting out reset_timeout_ms (the box is about to be switched off).
  // Returns whether it was OPEN; a CLOSED or HALF_OPEN breaker is left as it is.
  bool allowTrialNow();

  // The state as a caller would find it now (OPEN past its reset timeout reads HALF_OPEN).
  BreakerState state();
  BreakerSnapshot snapshot();
  const BreakerOptions& options() const { return options_; }

 private:
  struct Bucket {
    std::int64_t start_ms = 0;
    int calls = 0;
    int failures = 0;
  };
  // Every private method but notifyPending() expects mutex_ to be held; transitions are
  // queued in `pending_` and delivered to the listener after the lock is released.
  void refresh(std::int64_t now_ms);
  std::optional<Permit> admit(std::int64_t now_ms);
  void finishTrial(CallResult result, std::int64_t now_ms);
  void recordWhileClosed(bool failed, std::int64_t now_ms);
  std::optional<std::string> tripReason(std::int64_t now_ms) const;
  void recordInWindow(std::int64_t now_ms, bool failed);
  std::pair<int, int> windowTotals(std::int64_t now_ms) const;
  void transition(BreakerState to, std::string reason, std::int64_t now_ms);
  // Takes mutex_ itself. One thread delivers at a time, so the listener sees transitions
  // in the order they happened (the store keeps only the last one).
  void notifyPending();

  BreakerOptions options_;
  const Clock& clock_;
  Listener listener_;
  std::mutex mutex_;
  BreakerState state_ = BreakerState::kClosed;
  std::uint64_t generation_ = 0;
  std::uint64_t transitions_ = 0;
  std::vector<Bucket> buckets_;
  std::int64_t bucket_ms_ = 1;
  int consecutive_failures_ = 0;
  std::int64_t open_until_ms_ = 0;         // steady ms: OPEN until then
  std::int64_t next_attempt_wall_ms_ = 0;  // open_until_ms_ on the wall clock, while OPEN
  bool trial_out_ = false;
  std::int64_t trial_deadline_ms_ = 0;  // steady ms
  std::vector<BreakerTransition> pending_;
  bool delivering_ = false;  // a thread is inside notifyPending() handing out `pending_`
};

}  // namespace outpost::resilience
