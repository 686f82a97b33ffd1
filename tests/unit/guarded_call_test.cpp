#include "clients/guarded_call.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"

namespace outpost::clients {
namespace {

using resilience::BreakerState;
using resilience::CallResult;

struct Answer {
  CallClass call_class = CallClass::kSuccess;
  bool timed_out = false;
};

resilience::BreakerOptions opensAfterTwoFailures() {
  resilience::BreakerOptions options;
  options.name = "delivery-service";
  options.volume_threshold = 100;
  options.consecutive_failures = 2;
  options.reset_timeout_ms = 60000;
  return options;
}

TEST(BreakerResult, OnlyARetriableCallIsAFailure) {
  EXPECT_EQ(breakerResult(CallClass::kSuccess, false), CallResult::kSuccess);
  EXPECT_EQ(breakerResult(CallClass::kPermanent, false), CallResult::kSuccess);
  EXPECT_EQ(breakerResult(CallClass::kRetriable, false), CallResult::kFailure);
  EXPECT_EQ(breakerResult(CallClass::kRetriable, true), CallResult::kTimeout);
}

TEST(CallThrough, RecordsEachAnswerAndStopsCallingOnceTheBreakerOpens) {
  FakeClock clock;
  resilience::CircuitBreaker breaker(opensAfterTwoFailures(), clock);
  int calls = 0;
  auto failing = [&] {
    ++calls;
    return Answer{CallClass::kRetriable, false};
  };
  EXPECT_TRUE(callThrough(breaker, failing));
  EXPECT_TRUE(callThrough(breaker, failing));
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  EXPECT_FALSE(callThrough(breaker, failing));
  EXPECT_EQ(calls, 2);
}

TEST(CallThrough, APermanentRefusalKeepsTheBreakerClosed) {
  FakeClock clock;
  resilience::CircuitBreaker breaker(opensAfterTwoFailures(), clock);
  for (int i = 0; i < 5; ++i) {
    const auto answer = callThrough(breaker, [] { return Answer{CallClass::kPermanent, false}; });
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->call_class, CallClass::kPermanent);
  }
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

}  // namespace
}  // namespace outpost::clients
