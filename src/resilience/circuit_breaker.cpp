#include "resilience/circuit_breaker.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace outpost::resilience {
namespace {

std::int64_t steadyMillis(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.steadyNow().time_since_epoch())
      .count();
}

bool isFailure(CallResult result) { return result != CallResult::kSuccess; }

// How long a restored breaker stays OPEN. Capped at one reset timeout: an edge node's wall
// clock may be far off at boot (no RTC, NTP not yet synced), and a next attempt years
// away must not keep the dependency cut off.
std::int64_t restoredOpenMs(const PersistedBreaker& restored, std::int64_t wall_now_ms,
                            std::int64_t reset_timeout_ms) {
  if (restored.state != BreakerState::kOpen) return 0;  // HALF_OPEN: its timeout had passed
  return std::clamp<std::int64_t>(restored.next_attempt_wall_ms - wall_now_ms, 0,
                                  std::max<std::int64_t>(0, reset_timeout_ms));
}

std::string rateReason(int failures, int calls, const BreakerOptions& options) {
  return std::to_string(failures) + " of " + std::to_string(calls) + " calls failed in " +
         std::to_string(options.rolling_window_ms) + " ms (" +
         std::to_string(std::int64_t{failures} * 100 / calls) +
         "% >= " + std::to_string(options.error_threshold_percentage) + "%)";
}

}  // namespace

const char* toString(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "CLOSED";
    case BreakerState::kOpen:
      return "OPEN";
    case BreakerState::kHalfOpen:
      return "HALF_OPEN";
  }
  return "UNKNOWN";
}

CircuitBreaker::CircuitBreaker(BreakerOptions options, const Clock& clock,
                               std::optional<PersistedBreaker> restored)
    : options_(std::move(options)), clock_(clock) {
  // At least 1 ms per bucket; the window then spans buckets x bucket_ms_ (<= the window).
  const auto window_ms = std::max<std::int64_t>(1, options_.rolling_window_ms);
  const auto bucket_count = std::clamp<std::int64_t>(options_.buckets, 1, window_ms);
  bucket_ms_ = window_ms / bucket_count;
  buckets_.resize(static_cast<std::size_t>(bucket_count));

  if (restored && restored->state != BreakerState::kClosed) {
    const std::int64_t wall_now = clock_.wallMillis();
    const std::int64_t open_ms = restoredOpenMs(*restored, wall_now, options_.reset_timeout_ms);
    state_ = BreakerState::kOpen;
    open_until_ms_ = steadyMillis(clock_) + open_ms;
    next_attempt_wall_ms_ = wall_now + open_ms;
  }
}

void CircuitBreaker::setListener(Listener listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

std::optional<Permit> CircuitBreaker::tryAcquire() {
  std::optional<Permit> permit;
  {
    std::lock_guard lock(mutex_);
    const std::int64_t now = steadyMillis(clock_);
    refresh(now);
    permit = admit(now);
  }
  notifyPending();
  return permit;
}

void CircuitBreaker::record(const Permit& permit, CallResult result) {
  {
    std::lock_guard lock(mutex_);
    const std::int64_t now = steadyMillis(clock_);
    // First, so that a trial result arriving after its deadline is already stale.
    refresh(now);
    if (permit.generation == generation_) {
      if (state_ == BreakerState::kHalfOpen && permit.trial) {
        finishTrial(result, now);
      } else if (state_ == BreakerState::kClosed && !permit.trial) {
        recordWhileClosed(isFailure(result), now);
      }
    }
  }
  notifyPending();
}

bool CircuitBreaker::allowTrialNow() {
  bool was_open = false;
  {
    std::lock_guard lock(mutex_);
    const std::int64_t now = steadyMillis(clock_);
    refresh(now);
    was_open = state_ == BreakerState::kOpen;
    if (was_open) transition(BreakerState::kHalfOpen, "draining: one trial call allowed now", now);
  }
  notifyPending();
  return was_open;
}

BreakerState CircuitBreaker::state() {
  BreakerState current;
  {
    std::lock_guard lock(mutex_);
    refresh(steadyMillis(clock_));
    current = state_;
  }
  notifyPending();
  return current;
}

BreakerSnapshot CircuitBreaker::snapshot() {
  BreakerSnapshot out;
  {
    std::lock_guard lock(mutex_);
    const std::int64_t now = steadyMillis(clock_);
    refresh(now);
    const auto [calls, failures] = windowTotals(now);
    out.state = state_;
    out.calls_in_window = calls;
    out.failures_in_window = failures;
    out.consecutive_failures = consecutive_failures_;
    out.transitions = transitions_;
    out.next_attempt_wall_ms = state_ == BreakerState::kOpen ? next_attempt_wall_ms_ : 0;
  }
  notifyPending();
  return out;
}

void CircuitBreaker::refresh(std::int64_t now_ms) {
  if (state_ == BreakerState::kHalfOpen && trial_out_ && now_ms >= trial_deadline_ms_) {
    transition(
        BreakerState::kOpen,
        "trial call timed out: no result within " + std::to_string(options_.timeout_ms) + " ms",
        now_ms);
  }
  if (state_ == BreakerState::kOpen && now_ms >= open_until_ms_) {
    transition(BreakerState::kHalfOpen, "reset timeout passed: one trial call allowed", now_ms);
  }
}

std::optional<Permit> CircuitBreaker::admit(std::int64_t now_ms) {
  switch (state_) {
    case BreakerState::kClosed:
      return Permit{generation_, false};
    case BreakerState::kHalfOpen:
      if (trial_out_) return std::nullopt;
      trial_out_ = true;
      trial_deadline_ms_ = now_ms + options_.timeout_ms;
      return Permit{generation_, true};
    case BreakerState::kOpen:
      return std::nullopt;
  }
  return std::nullopt;
}

void CircuitBreaker::finishTrial(CallResult result, std::int64_t now_ms) {
  switch (result) {
    case CallResult::kSuccess:
      transition(BreakerState::kClosed, "trial call succeeded", now_ms);
      break;
    case CallResult::kFailure:
      transition(BreakerState::kOpen, "trial call failed", now_ms);
      break;
    case CallResult::kTimeout:
      transition(BreakerState::kOpen, "trial call timed out", now_ms);
      break;
  }
}

// Only a failure can trip the breaker (SPEC §5): a success is evidence that the service is
// up, even when it brings the window to the volume threshold at a failure rate at or above
// the threshold. The next failure then trips it.
void CircuitBreaker::recordWhileClosed(bool failed, std::int64_t now_ms) {
  recordInWindow(now_ms, failed);
  consecutive_failures_ = failed ? consecutive_failures_ + 1 : 0;
  if (!failed) return;
  if (auto reason = tripReason(now_ms)) transition(BreakerState::kOpen, std::move(*reason), now_ms);
}

std::optional<std::string> CircuitBreaker::tripReason(std::int64_t now_ms) const {
  const auto [calls, failures] = windowTotals(now_ms);
  if (calls > 0 && calls >= options_.volume_threshold &&
      std::int64_t{failures} * 100 >= std::int64_t{options_.error_threshold_percentage} * calls) {
    return rateReason(failures, calls, options_);
  }
  if (options_.consecutive_failures > 0 && consecutive_failures_ >= options_.consecutive_failures) {
    return std::to_string(consecutive_failures_) + " consecutive failures";
  }
  return std::nullopt;
}

// Buckets are aligned to multiples of bucket_ms_ on the steady clock; slot i holds the
// bucket whose index is i modulo the bucket count, and a slot still holding an older
// bucket is reset when reused.
void CircuitBreaker::recordInWindow(std::int64_t now_ms, bool failed) {
  const std::int64_t start = now_ms - now_ms % bucket_ms_;
  const auto slot =
      static_cast<std::size_t>((start / bucket_ms_) % static_cast<std::int64_t>(buckets_.size()));
  Bucket& bucket = buckets_[slot];
  if (bucket.start_ms != start) bucket = Bucket{start, 0, 0};
  ++bucket.calls;
  if (failed) ++bucket.failures;
}

std::pair<int, int> CircuitBreaker::windowTotals(std::int64_t now_ms) const {
  const std::int64_t current = now_ms - now_ms % bucket_ms_;
  const std::int64_t oldest =
      current - (static_cast<std::int64_t>(buckets_.size()) - 1) * bucket_ms_;
  int calls = 0;
  int failures = 0;
  for (const Bucket& bucket : buckets_) {
    if (bucket.start_ms < oldest || bucket.start_ms > current) continue;
    calls += bucket.calls;
    failures += bucket.failures;
  }
  return {calls, failures};
}

void CircuitBreaker::transition(BreakerState to, std::string reason, std::int64_t now_ms) {
  BreakerTransition change{options_.name, state_, to, std::move(reason), clock_.wallMillis(), 0};
  state_ = to;
  ++generation_;
  ++transitions_;
  trial_out_ = false;
  next_attempt_wall_ms_ = 0;
  if (to == BreakerState::kOpen) {
    open_until_ms_ = now_ms + options_.reset_timeout_ms;
    next_attempt_wall_ms_ = change.at_wall_ms + options_.reset_timeout_ms;
    change.next_attempt_wall_ms = next_attempt_wall_ms_;
  } else if (to == BreakerState::kClosed) {
    std::fill(buckets_.begin(), buckets_.end(), Bucket{});
    consecutive_failures_ = 0;
  }
  pending_.push_back(std::move(change));
}

void CircuitBreaker::notifyPending() {
  std::unique_lock lock(mutex_);
  if (delivering_) return;  // that thread delivers ours too, after its own
  delivering_ = true;
  while (!pending_.empty()) {
    const auto batch = std::exchange(pending_, {});
    lock.unlock();
    try {
      for (const auto& change : batch) {
        if (listener_) listener_(change);
      }
    } catch (...) {
      lock.lock();
      delivering_ = false;
      throw;
    }
    lock.lock();
  }
  delivering_ = false;
}

}  // namespace outpost::resilience
