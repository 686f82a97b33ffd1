#include "resilience/backoff.h"

#include <gtest/gtest.h>

namespace outpost::resilience {
namespace {

// Returns a fixed value: 0 gives the lowest jitter (0.8), 400 the highest (1.2).
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(std::uint64_t value) : value_(value) {}
  std::uint64_t next64() override { return value_; }

 private:
  std::uint64_t value_;
};

TEST(Backoff, DoublesFromOneMinuteAndCapsAtFive) {
  const BackoffPolicy policy{60000, 300000};
  FixedRandom middle(200);  // factor 1.0
  EXPECT_EQ(backoffDelayMs(policy, 1, middle), 60000);
  EXPECT_EQ(backoffDelayMs(policy, 2, middle), 120000);
  EXPECT_EQ(backoffDelayMs(policy, 3, middle), 240000);
  EXPECT_EQ(backoffDelayMs(policy, 4, middle), 300000);
  EXPECT_EQ(backoffDelayMs(policy, 50, middle), 300000);
}

TEST(Backoff, JitterStaysWithinTwentyPercentAndUnderTheCap) {
  const BackoffPolicy policy{60000, 300000};
  FixedRandom lowest(0), highest(400);
  EXPECT_EQ(backoffDelayMs(policy, 1, lowest), 48000);
  EXPECT_EQ(backoffDelayMs(policy, 1, highest), 72000);
  EXPECT_EQ(backoffDelayMs(policy, 4, lowest), 240000);
  EXPECT_EQ(backoffDelayMs(policy, 4, highest), 300000);  // capped after jitter
}

TEST(Backoff, NeverZero) {
  FixedRandom lowest(0);
  EXPECT_EQ(backoffDelayMs({1, 1}, 1, lowest), 1);
}

}  // namespace
}  // namespace outpost::resilience
