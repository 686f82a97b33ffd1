#include "resilience/circuit_breaker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <latch>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_clock.h"

namespace outpost::resilience {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kResetMs = 60000;
constexpr std::int64_t kTrialTimeoutMs = 10000;
constexpr std::int64_t kWindowMs = 10000;

// delivery-service as in SPEC §2: 40 %, 60 s reset, volume 5 (= consecutive failures).
BreakerOptions deliveryOptions() {
  BreakerOptions options;
  options.name = "delivery-service";
  options.error_threshold_percentage = 40;
  options.reset_timeout_ms = kResetMs;
  options.volume_threshold = 5;
  options.consecutive_failures = 5;
  options.rolling_window_ms = kWindowMs;
  options.timeout_ms = kTrialTimeoutMs;
  options.buckets = 10;
  return options;
}

// The same, with the consecutive-failure rule out of the way of the rate rule.
BreakerOptions rateOnlyOptions() {
  auto options = deliveryOptions();
  options.consecutive_failures = 1000;
  return options;
}

void advance(FakeClock& clock, std::int64_t ms) { clock.advance(milliseconds(ms)); }

void call(CircuitBreaker& breaker, CallResult result) {
  auto permit = breaker.tryAcquire();
  ASSERT_TRUE(permit) << "rejected while " << toString(breaker.state());
  breaker.record(*permit, result);
}

void calls(CircuitBreaker& breaker, int count, CallResult result) {
  for (int i = 0; i < count; ++i) call(breaker, result);
}

void trip(CircuitBreaker& breaker) {
  calls(breaker, breaker.options().volume_threshold, CallResult::kFailure);
  ASSERT_EQ(breaker.state(), BreakerState::kOpen);
}

// Trips the breaker and waits out its reset timeout: the next caller gets the trial.
void tripAndWaitForTrial(CircuitBreaker& breaker, FakeClock& clock) {
  trip(breaker);
  advance(clock, breaker.options().reset_timeout_ms);
}

struct Recorder {
  std::vector<BreakerTransition> seen;
  CircuitBreaker::Listener listener() {
    return [this](const BreakerTransition& t) { seen.push_back(t); };
  }
};

TEST(CircuitBreaker, NamesEveryState) {
  EXPECT_STREQ(toString(BreakerState::kClosed), "CLOSED");
  EXPECT_STREQ(toString(BreakerState::kOpen), "OPEN");
  EXPECT_STREQ(toString(BreakerState::kHalfOpen), "HALF_OPEN");
}

TEST(CircuitBreaker, StartsClosedAndLetsCallsThrough) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  auto permit = breaker.tryAcquire();
  ASSERT_TRUE(permit);
  EXPECT_FALSE(permit->trial);
  const auto snapshot = breaker.snapshot();
  EXPECT_EQ(snapshot.calls_in_window, 0);
  EXPECT_EQ(snapshot.transitions, 0u);
  EXPECT_EQ(snapshot.next_attempt_wall_ms, 0);
}

TEST(CircuitBreaker, DoesNotOpenBelowTheVolumeThreshold) {
  FakeClock clock;
  CircuitBreaker breaker(rateOnlyOptions(), clock);
  calls(breaker, 4, CallResult::kFailure);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  EXPECT_EQ(breaker.snapshot().calls_in_window, 4);
  EXPECT_EQ(breaker.snapshot().failures_in_window, 4);

  call(breaker, CallResult::kFailure);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
}

TEST(CircuitBreaker, OpensAtExactlyTheThresholdPercentage) {
  FakeClock clock;
  Recorder recorder;
  CircuitBreaker breaker(rateOnlyOptions(), clock);
  breaker.setListener(recorder.listener());
  calls(breaker, 3, CallResult::kSuccess);
  calls(breaker, 2, CallResult::kFailure);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  ASSERT_EQ(recorder.seen.size(), 1u);
  EXPECT_EQ(recorder.seen[0].reason, "2 of 5 calls failed in 10000 ms (40% >= 40%)");
}

TEST(CircuitBreaker, StaysClosedBelowTheThresholdPercentage) {
  FakeClock clock;
  CircuitBreaker breaker(rateOnlyOptions(), clock);
  calls(breaker, 4, CallResult::kSuccess);
  call(breaker, CallResult::kFailure);  // 1 of 5: 20 %
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  call(breaker, CallResult::kFailure);  // 2 of 6: 33 %
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  call(breaker, CallResult::kFailure);  // 3 of 7: 42 %
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
}

TEST(CircuitBreaker, ASuccessNeverOpensItEvenAtTheThreshold) {
  FakeClock clock;
  CircuitBreaker breaker(rateOnlyOptions(), clock);
  calls(breaker, 2, CallResult::kFailure);
  calls(breaker, 2, CallResult::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);  // 4 calls: below the volume
  call(breaker, CallResult::kSuccess);                // 2 of 5 failed: 40 %, at the threshold
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  EXPECT_EQ(breaker.snapshot().calls_in_window, 5);
  EXPECT_EQ(breaker.snapshot().failures_in_window, 2);
}

TEST(CircuitBreaker, AFailureAtTheThresholdOpensIt) {
  FakeClock clock;
  CircuitBreaker breaker(rateOnlyOptions(), clock);
  calls(breaker, 3, CallResult::kSuccess);
  call(breaker, CallResult::kFailure);  // 1 of 4: below the volume
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  call(breaker, CallResult::kFailure);  // 2 of 5 failed: 40 %
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
}

TEST(CircuitBreaker, AfterSuccessesAtTheThresholdTheNextFailureOpensIt) {
  FakeClock clock;
  CircuitBreaker breaker(rateOnlyOptions(), clock);
  calls(breaker, 2, CallResult::kFailure);
  calls(breaker, 3, CallResult::kSuccess);  // 40 % over 5 calls, reached by successes
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  call(breaker, CallResult::kFailure);  // 3 of 6: 50 %
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
}

TEST(CircuitBreaker, OpensOnConsecutiveFailuresAtOneCallAMinute) {
  FakeClock clock;
  Recorder recorder;
  CircuitBreaker breaker(deliveryOptions(), clock);
  breaker.setListener(recorder.listener());
  for (int i = 0; i < 4; ++i) {
    call(breaker, CallResult::kFailure);
    EXPECT_EQ(breaker.snapshot().calls_in_window, 1);  // the window never fills
    advance(clock, 60000);
  }
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  EXPECT_EQ(breaker.snapshot().consecutive_failures, 4);

  call(breaker, CallResult::kFailure);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  ASSERT_EQ(recorder.seen.size(), 1u);
  EXPECT_EQ(recorder.seen[0].reason, "5 consecutive failures");
}

TEST(CircuitBreaker, ASuccessEndsAFailureStreak) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  for (int i = 0; i < 9; ++i) {
    call(breaker, i == 4 ? CallResult::kSuccess : CallResult::kFailure);
    advance(clock, 60000);
  }
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  EXPECT_EQ(breaker.snapshot().consecutive_failures, 4);
}

TEST(CircuitBreaker, FailuresStayInTheWindowUntilItsLastBucket) {
  FakeClock clock;
  CircuitBreaker breaker(rateOnlyOptions(), clock);
  calls(breaker, 2, CallResult::kFailure);
  advance(clock, kWindowMs - 1);  // still in the oldest of the 10 buckets
  EXPECT_EQ(breaker.snapshot().failures_in_window, 2);
  calls(breaker, 2, CallResult::kSuccess);
  call(breaker, CallResult::kFailure);  // 3 of 5 only with the two old failures
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
}

TEST(CircuitBreaker, OldFailuresAgeOutOfTheWindow) {
  FakeClock clock;
  CircuitBreaker breaker(rateOnlyOptions(), clock);
  calls(breaker, 2, CallResult::kFailure);
  advance(clock, kWindowMs);
  EXPECT_EQ(breaker.snapshot().calls_in_window, 0);
  calls(breaker, 3, CallResult::kSuccess);
  calls(breaker, 1, CallResult::kFailure);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);  // 1 of 4
}

TEST(CircuitBreaker, RejectsWithoutCountingWhileOpen) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  trip(breaker);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(breaker.tryAcquire());
  const auto snapshot = breaker.snapshot();
  EXPECT_EQ(snapshot.calls_in_window, 5);
  EXPECT_EQ(snapshot.failures_in_window, 5);
  EXPECT_EQ(snapshot.transitions, 1u);
}

TEST(CircuitBreaker, LetsOneTrialThroughOnlyOnceTheResetTimeoutHasPassed) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  trip(breaker);
  advance(clock, kResetMs - 1);
  EXPECT_FALSE(breaker.tryAcquire());
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);

  advance(clock, 1);
  auto trial = breaker.tryAcquire();
  ASSERT_TRUE(trial);
  EXPECT_TRUE(trial->trial);
  EXPECT_FALSE(breaker.tryAcquire());
  EXPECT_FALSE(breaker.tryAcquire());
}

TEST(CircuitBreaker, HalfOpenIsReportedAsHalfOpen) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  tripAndWaitForTrial(breaker, clock);
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  EXPECT_EQ(breaker.snapshot().state, BreakerState::kHalfOpen);
  EXPECT_EQ(breaker.snapshot().next_attempt_wall_ms, 0);

  ASSERT_TRUE(breaker.tryAcquire());  // the trial is out: still half-open
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  EXPECT_EQ(breaker.snapshot().state, BreakerState::kHalfOpen);
}

TEST(CircuitBreaker, ExactlyOneOfManyRacingCallersGetsTheTrial) {
  constexpr int kThreads = 16;
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  trip(breaker);
  for (int round = 0; round < 20; ++round) {
    advance(clock, kResetMs);
    std::atomic<int> permits{0};
    std::vector<Permit> trials(kThreads);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        if (auto permit = breaker.tryAcquire()) {
          trials[static_cast<std::size_t>(i)] = *permit;
          ++permits;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    ASSERT_EQ(permits.load(), 1) << "round " << round;
    const auto trial = std::find_if(trials.begin(), trials.end(), [](auto& p) { return p.trial; });
    ASSERT_NE(trial, trials.end());
    breaker.record(*trial, CallResult::kFailure);
    ASSERT_EQ(breaker.state(), BreakerState::kOpen);
  }
}

TEST(CircuitBreaker, AHungTrialIsReleasedByItsDeadline) {
  FakeClock clock;
  Recorder recorder;
  CircuitBreaker breaker(deliveryOptions(), clock);
  breaker.setListener(recorder.listener());
  tripAndWaitForTrial(breaker, clock);
  auto hung = breaker.tryAcquire();
  ASSERT_TRUE(hung);

  advance(clock, kTrialTimeoutMs - 1);
  EXPECT_FALSE(breaker.tryAcquire());
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);

  advance(clock, 1);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  ASSERT_EQ(recorder.seen.size(), 3u);
  EXPECT_EQ(recorder.seen[2].from, BreakerState::kHalfOpen);
  EXPECT_EQ(recorder.seen[2].to, BreakerState::kOpen);
  EXPECT_EQ(recorder.seen[2].reason, "trial call timed out: no result within 10000 ms");

  advance(clock, kResetMs - 1);
  EXPECT_FALSE(breaker.tryAcquire());
  advance(clock, 1);
  auto next = breaker.tryAcquire();
  ASSERT_TRUE(next);
  EXPECT_FALSE(breaker.tryAcquire());

  breaker.record(*hung, CallResult::kSuccess);  // far too late: ignored
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  breaker.record(*next, CallResult::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST(CircuitBreaker, TheDeadlineIsFoundByTryAcquireStateAndSnapshotAlike) {
  const std::vector<std::function<void(CircuitBreaker&)>> observers = {
      [](CircuitBreaker& b) { EXPECT_FALSE(b.tryAcquire()); },
      [](CircuitBreaker& b) { EXPECT_EQ(b.state(), BreakerState::kOpen); },
      [](CircuitBreaker& b) { EXPECT_EQ(b.snapshot().state, BreakerState::kOpen); },
  };
  for (std::size_t i = 0; i < observers.size(); ++i) {
    SCOPED_TRACE("observer " + std::to_string(i));
    FakeClock clock;
    CircuitBreaker breaker(deliveryOptions(), clock);
    tripAndWaitForTrial(breaker, clock);
    ASSERT_TRUE(breaker.tryAcquire());
    advance(clock, kTrialTimeoutMs);
    observers[i](breaker);
    EXPECT_EQ(breaker.snapshot().transitions, 3u);
  }
}

TEST(CircuitBreaker, ATrialResultJustBeforeTheDeadlineCounts) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  tripAndWaitForTrial(breaker, clock);
  auto trial = breaker.tryAcquire();
  ASSERT_TRUE(trial);
  advance(clock, kTrialTimeoutMs - 1);
  breaker.record(*trial, CallResult::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST(CircuitBreaker, ATrialResultAtTheDeadlineIsTooLate) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  tripAndWaitForTrial(breaker, clock);
  auto trial = breaker.tryAcquire();
  ASSERT_TRUE(trial);
  advance(clock, kTrialTimeoutMs);
  breaker.record(*trial, CallResult::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
}

TEST(CircuitBreaker, ALateSuccessFromBeforeTheTripIsIgnored) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  auto early = breaker.tryAcquire();
  ASSERT_TRUE(early);
  trip(breaker);
  breaker.record(*early, CallResult::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(breaker.snapshot().calls_in_window, 5);
  EXPECT_EQ(breaker.snapshot().transitions, 1u);
}

TEST(CircuitBreaker, ALateResultDuringTheTrialDoesNotDecideIt) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  auto early = breaker.tryAcquire();
  ASSERT_TRUE(early);
  tripAndWaitForTrial(breaker, clock);
  ASSERT_TRUE(breaker.tryAcquire());
  breaker.record(*early, CallResult::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  breaker.record(*early, CallResult::kFailure);
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
}

TEST(CircuitBreaker, ALateFailureDoesNotCountAfterTheBreakerClosedAgain) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  auto early = breaker.tryAcquire();
  ASSERT_TRUE(early);
  tripAndWaitForTrial(breaker, clock);
  call(breaker, CallResult::kSuccess);
  ASSERT_EQ(breaker.state(), BreakerState::kClosed);
  breaker.record(*early, CallResult::kFailure);
  EXPECT_EQ(breaker.snapshot().calls_in_window, 0);
  EXPECT_EQ(breaker.snapshot().consecutive_failures, 0);
}

TEST(CircuitBreaker, ATrialFailureRestartsTheResetTimer) {
  FakeClock clock;
  Recorder recorder;
  CircuitBreaker breaker(deliveryOptions(), clock);
  breaker.setListener(recorder.listener());
  tripAndWaitForTrial(breaker, clock);
  auto trial = breaker.tryAcquire();
  ASSERT_TRUE(trial);
  advance(clock, 5000);
  breaker.record(*trial, CallResult::kFailure);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(recorder.seen.back().reason, "trial call failed");

  advance(clock, kResetMs - 1);
  EXPECT_FALSE(breaker.tryAcquire());
  advance(clock, 1);
  EXPECT_TRUE(breaker.tryAcquire());
  EXPECT_FALSE(breaker.tryAcquire());
}

TEST(CircuitBreaker, ATrialSuccessClosesAndClearsTheStatistics) {
  FakeClock clock;
  Recorder recorder;
  CircuitBreaker breaker(deliveryOptions(), clock);
  breaker.setListener(recorder.listener());
  tripAndWaitForTrial(breaker, clock);
  call(breaker, CallResult::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  EXPECT_EQ(recorder.seen.back().reason, "trial call succeeded");
  auto snapshot = breaker.snapshot();
  EXPECT_EQ(snapshot.calls_in_window, 0);
  EXPECT_EQ(snapshot.failures_in_window, 0);
  EXPECT_EQ(snapshot.consecutive_failures, 0);

  calls(breaker, 4, CallResult::kFailure);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  call(breaker, CallResult::kFailure);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
}

TEST(CircuitBreaker, TimeoutsCountAsFailures) {
  FakeClock clock;
  Recorder recorder;
  CircuitBreaker breaker(rateOnlyOptions(), clock);
  breaker.setListener(recorder.listener());
  calls(breaker, 3, CallResult::kSuccess);
  call(breaker, CallResult::kTimeout);
  EXPECT_EQ(breaker.snapshot().failures_in_window, 1);
  call(breaker, CallResult::kTimeout);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);

  advance(clock, kResetMs);
  call(breaker, CallResult::kTimeout);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(recorder.seen.back().reason, "trial call timed out");
}

TEST(CircuitBreaker, TimeoutsCountTowardsConsecutiveFailures) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(breaker.state(), BreakerState::kClosed);
    advance(clock, 60000);
    call(breaker, i % 2 == 0 ? CallResult::kTimeout : CallResult::kFailure);
  }
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
}

TEST(CircuitBreaker, ListenerReceivesEveryTransition) {
  FakeClock clock;
  Recorder recorder;
  CircuitBreaker breaker(deliveryOptions(), clock);
  breaker.setListener(recorder.listener());
  const std::int64_t start = clock.wallMillis();

  trip(breaker);
  advance(clock, kResetMs);
  call(breaker, CallResult::kFailure);
  advance(clock, kResetMs);
  call(breaker, CallResult::kSuccess);

  struct Expected {
    BreakerState from, to;
    const char* reason;
    std::int64_t at, next_attempt;
  };
  const std::int64_t second_open = start + kResetMs;
  const std::vector<Expected> expected = {
      {BreakerState::kClosed, BreakerState::kOpen, "5 of 5 calls failed in 10000 ms (100% >= 40%)",
       start, start + kResetMs},
      {BreakerState::kOpen, BreakerState::kHalfOpen, "reset timeout passed: one trial call allowed",
       second_open, 0},
      {BreakerState::kHalfOpen, BreakerState::kOpen, "trial call failed", second_open,
       second_open + kResetMs},
      {BreakerState::kOpen, BreakerState::kHalfOpen, "reset timeout passed: one trial call allowed",
       second_open + kResetMs, 0},
      {BreakerState::kHalfOpen, BreakerState::kClosed, "trial call succeeded",
       second_open + kResetMs, 0},
  };
  ASSERT_EQ(recorder.seen.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("transition " + std::to_string(i));
    EXPECT_EQ(recorder.seen[i].name, "delivery-service");
    EXPECT_EQ(recorder.seen[i].from, expected[i].from);
    EXPECT_EQ(recorder.seen[i].to, expected[i].to);
    EXPECT_EQ(recorder.seen[i].reason, expected[i].reason);
    EXPECT_EQ(recorder.seen[i].at_wall_ms, expected[i].at);
    EXPECT_EQ(recorder.seen[i].next_attempt_wall_ms, expected[i].next_attempt);
  }
  EXPECT_EQ(breaker.snapshot().transitions, expected.size());
}

TEST(CircuitBreaker, SnapshotShowsWhenAnOpenBreakerTriesAgain) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  trip(breaker);
  const std::int64_t next_attempt = clock.wallMillis() + kResetMs;
  EXPECT_EQ(breaker.snapshot().next_attempt_wall_ms, next_attempt);
  advance(clock, 1000);
  EXPECT_EQ(breaker.snapshot().next_attempt_wall_ms, next_attempt);
}

TEST(CircuitBreaker, TheListenerIsCalledOutsideTheLock) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  std::vector<BreakerState> seen_from_listener;
  breaker.setListener([&](const BreakerTransition&) {
    seen_from_listener.push_back(breaker.state());  // would deadlock under the lock
  });
  trip(breaker);
  ASSERT_EQ(seen_from_listener.size(), 1u);
  EXPECT_EQ(seen_from_listener[0], BreakerState::kOpen);
}

TEST(CircuitBreaker, TransitionsCausedInsideTheListenerAreDeliveredInOrder) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  std::vector<BreakerState> delivered;
  breaker.setListener([&](const BreakerTransition& t) {
    delivered.push_back(t.to);
    if (t.to == BreakerState::kOpen && delivered.size() == 1) {
      advance(clock, kResetMs);
      auto trial = breaker.tryAcquire();  // OPEN -> HALF_OPEN, queued behind this one
      ASSERT_TRUE(trial);
      breaker.record(*trial, CallResult::kSuccess);  // -> CLOSED
    }
  });
  calls(breaker, 5, CallResult::kFailure);
  EXPECT_EQ(delivered, (std::vector<BreakerState>{BreakerState::kOpen, BreakerState::kHalfOpen,
                                                  BreakerState::kClosed}));
}

// --- restart ---

TEST(CircuitBreaker, RestoredOpenKeepsRejectingUntilItsNextAttempt) {
  FakeClock clock;
  const std::int64_t next_attempt = clock.wallMillis() + 20000;
  CircuitBreaker breaker(deliveryOptions(), clock,
                         PersistedBreaker{BreakerState::kOpen, next_attempt});
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(breaker.snapshot().next_attempt_wall_ms, next_attempt);
  EXPECT_FALSE(breaker.tryAcquire());

  advance(clock, 19999);
  EXPECT_FALSE(breaker.tryAcquire());
  advance(clock, 1);
  EXPECT_TRUE(breaker.tryAcquire());
  EXPECT_FALSE(breaker.tryAcquire());
}

TEST(CircuitBreaker, RestoredOpenPastItsNextAttemptAllowsExactlyOneTrial) {
  FakeClock clock;
  Recorder recorder;
  CircuitBreaker breaker(deliveryOptions(), clock,
                         PersistedBreaker{BreakerState::kOpen, clock.wallMillis() - 5000});
  breaker.setListener(recorder.listener());
  auto trial = breaker.tryAcquire();
  ASSERT_TRUE(trial);
  EXPECT_TRUE(trial->trial);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(breaker.tryAcquire());
  ASSERT_EQ(recorder.seen.size(), 1u);
  EXPECT_EQ(recorder.seen[0].from, BreakerState::kOpen);
  EXPECT_EQ(recorder.seen[0].to, BreakerState::kHalfOpen);

  breaker.record(*trial, CallResult::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST(CircuitBreaker, RestoredOpenAtExactlyItsNextAttemptAllowsOneTrial) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock,
                         PersistedBreaker{BreakerState::kOpen, clock.wallMillis()});
  EXPECT_TRUE(breaker.tryAcquire());
  EXPECT_FALSE(breaker.tryAcquire());
}

TEST(CircuitBreaker, RestoredHalfOpenAllowsExactlyOneTrial) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock, PersistedBreaker{BreakerState::kHalfOpen, 0});
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  EXPECT_TRUE(breaker.tryAcquire());
  EXPECT_FALSE(breaker.tryAcquire());
}

TEST(CircuitBreaker, RestoredClosedIsFresh) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock, PersistedBreaker{BreakerState::kClosed, 0});
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  EXPECT_EQ(breaker.snapshot().transitions, 0u);
  calls(breaker, 4, CallResult::kFailure);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST(CircuitBreaker, ARestoredNextAttemptIsNeverFurtherThanOneResetTimeout) {
  FakeClock clock;
  const std::int64_t far_future = clock.wallMillis() + 365LL * 24 * 3600 * 1000;
  CircuitBreaker breaker(deliveryOptions(), clock,
                         PersistedBreaker{BreakerState::kOpen, far_future});
  EXPECT_EQ(breaker.snapshot().next_attempt_wall_ms, clock.wallMillis() + kResetMs);
  advance(clock, kResetMs - 1);
  EXPECT_FALSE(breaker.tryAcquire());
  advance(clock, 1);
  EXPECT_TRUE(breaker.tryAcquire());
}

// --- randomized comparison with a reference model ---

// The breaker's rules written as plainly as possible: every result kept in a list with
// its time, the window being the results whose bucket (time / bucket_ms) is one of the
// last `buckets` buckets.
class ReferenceBreaker {
 public:
  struct Ticket {
    std::uint64_t generation;
    bool trial;
  };

  explicit ReferenceBreaker(const BreakerOptions& o)
      : o_(o),
        buckets_(std::clamp<std::int64_t>(o.buckets, 1, o.rolling_window_ms)),
        bucket_ms_(o.rolling_window_ms / buckets_) {}

  void refresh(std::int64_t now) {
    if (state_ == BreakerState::kHalfOpen && trial_out_ && now >= trial_deadline_) {
      moveTo(BreakerState::kOpen, now);
    }
    if (state_ == BreakerState::kOpen && now >= open_until_) moveTo(BreakerState::kHalfOpen, now);
  }

  std::optional<Ticket> acquire(std::int64_t now) {
    refresh(now);
    if (state_ == BreakerState::kClosed) return Ticket{generation_, false};
    if (state_ == BreakerState::kHalfOpen && !trial_out_) {
      trial_out_ = true;
      trial_deadline_ = now + o_.timeout_ms;
      return Ticket{generation_, true};
    }
    return std::nullopt;
  }

  void record(const Ticket& ticket, CallResult result, std::int64_t now) {
    refresh(now);
    if (ticket.generation != generation_) return;
    const bool failed = result != CallResult::kSuccess;
    if (state_ == BreakerState::kHalfOpen) {
      moveTo(failed ? BreakerState::kOpen : BreakerState::kClosed, now);
      return;
    }
    results_.push_back({now, failed});
    streak_ = failed ? streak_ + 1 : 0;
    if (!failed) return;
    const auto [calls, failures] = window(now);
    if ((calls >= o_.volume_threshold && failures * 100 >= o_.error_threshold_percentage * calls) ||
        streak_ >= o_.consecutive_failures) {
      moveTo(BreakerState::kOpen, now);
    }
  }

  std::pair<int, int> window(std::int64_t now) const {
    int calls = 0, failures = 0;
    for (const auto& [at, failed] : results_) {
      if (at / bucket_ms_ > now / bucket_ms_ - buckets_) {
        ++calls;
        failures += failed ? 1 : 0;
      }
    }
    return {calls, failures};
  }

  BreakerState state() const { return state_; }
  int streak() const { return streak_; }
  std::uint64_t transitions() const { return transitions_; }

 private:
  void moveTo(BreakerState to, std::int64_t now) {
    state_ = to;
    ++generation_;
    ++transitions_;
    trial_out_ = false;
    if (to == BreakerState::kOpen) open_until_ = now + o_.reset_timeout_ms;
    if (to == BreakerState::kClosed) {
      results_.clear();
      streak_ = 0;
    }
  }

  BreakerOptions o_;
  std::int64_t buckets_;
  std::int64_t bucket_ms_;
  BreakerState state_ = BreakerState::kClosed;
  std::uint64_t generation_ = 0;
  std::uint64_t transitions_ = 0;
  std::vector<std::pair<std::int64_t, bool>> results_;
  int streak_ = 0;
  std::int64_t open_until_ = 0;
  bool trial_out_ = false;
  std::int64_t trial_deadline_ = 0;
};

class SeededRandom {
 public:
  explicit SeededRandom(std::uint64_t seed) : engine_(seed) {}
  std::int64_t below(std::int64_t n) { return static_cast<std::int64_t>(engine_() % n); }
  std::int64_t between(std::int64_t lo, std::int64_t hi) { return lo + below(hi - lo + 1); }

 private:
  std::mt19937_64 engine_;
};

BreakerOptions randomOptions(SeededRandom& random) {
  BreakerOptions o;
  o.name = "random";
  o.error_threshold_percentage = static_cast<int>(random.between(1, 100));
  o.reset_timeout_ms = random.between(1, 3000);
  o.volume_threshold = static_cast<int>(random.between(1, 12));
  o.consecutive_failures = static_cast<int>(random.between(1, 12));
  o.rolling_window_ms = random.between(1, 5000);
  o.timeout_ms = random.between(1, 2000);
  o.buckets = static_cast<int>(random.between(1, 12));
  return o;
}

std::int64_t steadyMs(const FakeClock& clock) {
  return std::chrono::duration_cast<milliseconds>(clock.steadyNow().time_since_epoch()).count();
}

// What the random runs went through, so the comparison cannot pass by testing nothing.
struct Coverage {
  int opened = 0, trials_timed_out = 0, trials_failed = 0, closed = 0;
  void count(const BreakerTransition& t) {
    if (t.from == BreakerState::kClosed) ++opened;
    if (t.reason.starts_with("trial call timed out: no result")) ++trials_timed_out;
    if (t.from == BreakerState::kHalfOpen && t.to == BreakerState::kOpen) ++trials_failed;
    if (t.to == BreakerState::kClosed) ++closed;
  }
};

void runAgainstReference(std::uint64_t seed, int steps, Coverage& coverage) {
  SeededRandom random(seed);
  FakeClock clock;
  const BreakerOptions options = randomOptions(random);
  CircuitBreaker breaker(options, clock);
  breaker.setListener([&](const BreakerTransition& t) { coverage.count(t); });
  ReferenceBreaker model(options);
  const int failure_percent = static_cast<int>(random.between(0, 100));
  struct Outstanding {
    Permit permit;
    ReferenceBreaker::Ticket ticket;
  };
  std::vector<Outstanding> outstanding;

  for (int step = 0; step < steps; ++step) {
    const auto op = random.below(100);
    std::string did;
    if (op < 40) {
      auto permit = breaker.tryAcquire();
      auto ticket = model.acquire(steadyMs(clock));
      ASSERT_EQ(permit.has_value(), ticket.has_value()) << "seed " << seed << " step " << step;
      if (permit) outstanding.push_back({*permit, *ticket});
      if (outstanding.size() > 8) outstanding.erase(outstanding.begin());  // hung for good
      did = "acquire";
    } else if (op < 75 && !outstanding.empty()) {
      const auto index = static_cast<std::size_t>(random.below(std::ssize(outstanding)));
      const auto roll = random.below(100);
      const CallResult result = roll >= failure_percent ? CallResult::kSuccess
                                : roll % 2 == 0         ? CallResult::kFailure
                                                        : CallResult::kTimeout;
      breaker.record(outstanding[index].permit, result);
      model.record(outstanding[index].ticket, result, steadyMs(clock));
      outstanding.erase(outstanding.begin() + static_cast<std::ptrdiff_t>(index));
      did = "record";
    } else {
      // Mostly small steps, sometimes past a window, a reset timeout or a deadline.
      const std::int64_t by =
          random.below(4) == 0 ? random.between(0, 6000) : random.between(0, 200);
      advance(clock, by);
      did = "advance " + std::to_string(by);
    }
    model.refresh(steadyMs(clock));
    const auto snapshot = breaker.snapshot();
    const auto [calls, failures] = model.window(steadyMs(clock));
    const std::string where = "seed " + std::to_string(seed) + " step " + std::to_string(step) +
                              " after " + did + " at " + std::to_string(steadyMs(clock)) + " ms";
    ASSERT_EQ(breaker.state(), model.state()) << where;
    ASSERT_EQ(snapshot.state, model.state()) << where;
    ASSERT_EQ(snapshot.calls_in_window, calls) << where;
    ASSERT_EQ(snapshot.failures_in_window, failures) << where;
    ASSERT_EQ(snapshot.consecutive_failures, model.streak()) << where;
    ASSERT_EQ(snapshot.transitions, model.transitions()) << where;
  }
}

TEST(CircuitBreaker, AgreesWithAReferenceModelOnRandomSequences) {
  Coverage coverage;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    runAgainstReference(seed, 2000, coverage);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(coverage.opened, 20);
  EXPECT_GT(coverage.trials_timed_out, 0);
  EXPECT_GT(coverage.trials_failed, coverage.trials_timed_out);
  EXPECT_GT(coverage.closed, 20);
}

TEST(CircuitBreaker, AllowTrialNowMakesTheNextCallOfAnOpenBreakerItsTrial) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  Recorder recorder;
  breaker.setListener(recorder.listener());
  trip(breaker);
  advance(clock, 1);  // far from the reset timeout
  EXPECT_FALSE(breaker.tryAcquire());

  EXPECT_TRUE(breaker.allowTrialNow());
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  ASSERT_EQ(recorder.seen.size(), 2u);
  EXPECT_EQ(recorder.seen[1].to, BreakerState::kHalfOpen);
  EXPECT_EQ(recorder.seen[1].reason, "draining: one trial call allowed now");
  auto trial = breaker.tryAcquire();
  ASSERT_TRUE(trial);
  EXPECT_TRUE(trial->trial);
  EXPECT_FALSE(breaker.tryAcquire());  // still exactly one trial
  breaker.record(*trial, CallResult::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST(CircuitBreaker, AllowTrialNowIsRepeatableAfterAFailedTrial) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  trip(breaker);
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(breaker.allowTrialNow());
    auto trial = breaker.tryAcquire();
    ASSERT_TRUE(trial);
    breaker.record(*trial, CallResult::kFailure);
    EXPECT_EQ(breaker.state(), BreakerState::kOpen);
    EXPECT_FALSE(breaker.tryAcquire());
  }
}

TEST(CircuitBreaker, AllowTrialNowLeavesAClosedOrHalfOpenBreakerAlone) {
  FakeClock clock;
  CircuitBreaker breaker(deliveryOptions(), clock);
  EXPECT_FALSE(breaker.allowTrialNow());
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  EXPECT_EQ(breaker.snapshot().transitions, 0u);

  tripAndWaitForTrial(breaker, clock);
  auto trial = breaker.tryAcquire();
  ASSERT_TRUE(trial);
  // The trial is out: a drain does not let a second one through.
  EXPECT_FALSE(breaker.allowTrialNow());
  EXPECT_FALSE(breaker.tryAcquire());
  breaker.record(*trial, CallResult::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

}  // namespace
}  // namespace outpost::resilience
