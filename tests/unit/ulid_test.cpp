#include "orders/ulid.h"

#include <gtest/gtest.h>

#include <set>

#include "support/fake_clock.h"

namespace outpost::orders {
namespace {

class CountingRandom final : public Random {
 public:
  std::uint64_t next64() override { return value_++; }

 private:
  std::uint64_t value_ = 0x123456789abcdefULL;
};

TEST(UlidGenerator, IdsAre26CrockfordCharacters) {
  FakeClock clock;
  CountingRandom random;
  UlidGenerator ids(clock, random);
  const std::string id = ids.next();
  EXPECT_EQ(id.size(), 26u);
  EXPECT_TRUE(isUlid(id)) << id;
}

TEST(UlidGenerator, MonotonicWithinOneMillisecond) {
  FakeClock clock;
  CountingRandom random;
  UlidGenerator ids(clock, random);
  std::string previous = ids.next();
  for (int i = 0; i < 1000; ++i) {
    const std::string next = ids.next();
    EXPECT_LT(previous, next);
    previous = next;
  }
}

TEST(UlidGenerator, LaterMillisecondSortsAfterEarlier) {
  FakeClock clock;
  CountingRandom random;
  UlidGenerator ids(clock, random);
  const std::string first = ids.next();
  clock.advance(std::chrono::milliseconds(1));
  EXPECT_LT(first, ids.next());
}

TEST(UlidGenerator, StaysMonotonicWhenTheWallClockStepsBack) {
  FakeClock clock;
  CountingRandom random;
  UlidGenerator ids(clock, random);
  clock.advance(std::chrono::milliseconds(5000));
  const std::string before = ids.next();
  clock.advance(std::chrono::milliseconds(-2000));
  EXPECT_LT(before, ids.next());
}

TEST(UlidGenerator, TimePrefixEncodesMilliseconds) {
  FakeClock clock(Clock::WallTime(std::chrono::milliseconds(0)));
  CountingRandom random;
  UlidGenerator ids(clock, random);
  EXPECT_EQ(ids.next().substr(0, 10), "0000000000");
}

TEST(IsUlid, RejectsWrongLengthAndAlphabet) {
  EXPECT_FALSE(isUlid(""));
  EXPECT_FALSE(isUlid("01ARZ3NDEKTSV4RRFFQ69G5FA"));    // 25
  EXPECT_FALSE(isUlid("01ARZ3NDEKTSV4RRFFQ69G5FAVU"));  // 27, U is not in the alphabet
  EXPECT_FALSE(isUlid("01ARZ3NDEKTSV4RRFFQ69G5FAI"));   // I is not in the alphabet
  EXPECT_FALSE(isUlid("81ARZ3NDEKTSV4RRFFQ69G5FAV"));   // overflows 128 bits
  EXPECT_TRUE(isUlid("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
}

}  // namespace
}  // namespace outpost::orders
