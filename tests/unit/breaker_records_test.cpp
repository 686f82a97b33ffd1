#include "store/breaker_records.h"

#include <gtest/gtest.h>

#include "store/store.h"
#include "support/fake_clock.h"
#include "support/node_process.h"

namespace outpost::resilience {
namespace {

using outpost::testing::TempDir;

constexpr std::int64_t kAt = 1'700'000'000'000;

std::unique_ptr<store::Store> openStore(const std::string& path) {
  auto opened = store::Store::open({path, 2000});
  EXPECT_TRUE(opened) << opened.error().message;
  return opened ? std::move(*opened) : nullptr;
}

void save(store::Store& store, const BreakerTransition& transition) {
  auto saved = store.write([&](store::Connection& c) {
    store::saveBreakerTransition(c, transition);
    return okStatus();
  });
  ASSERT_TRUE(saved) << saved.error().message;
}

std::map<std::string, PersistedBreaker> load(store::Store& store) {
  auto states = store.read([](store::Connection& c) { return store::loadBreakerStates(c); });
  EXPECT_TRUE(states) << states.error().message;
  return states ? *states : std::map<std::string, PersistedBreaker>{};
}

TEST(BreakerStore, AnEmptyTableLoadsNothing) {
  TempDir dir;
  auto store = openStore(dir.file("outpost.db"));
  ASSERT_TRUE(store);
  EXPECT_TRUE(load(*store).empty());
}

TEST(BreakerStore, RoundTripsEachBreakersLastTransition) {
  TempDir dir;
  auto store = openStore(dir.file("outpost.db"));
  ASSERT_TRUE(store);
  save(*store, {"delivery-service", BreakerState::kClosed, BreakerState::kOpen,
                "5 consecutive failures", kAt, kAt + 60000});
  save(*store, {"product-service", BreakerState::kOpen, BreakerState::kHalfOpen,
                "reset timeout passed: one trial call allowed", kAt, 0});

  const auto states = load(*store);
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states.at("delivery-service").state, BreakerState::kOpen);
  EXPECT_EQ(states.at("delivery-service").next_attempt_wall_ms, kAt + 60000);
  EXPECT_EQ(states.at("product-service").state, BreakerState::kHalfOpen);
  EXPECT_EQ(states.at("product-service").next_attempt_wall_ms, 0);
}

TEST(BreakerStore, ALaterTransitionReplacesTheRow) {
  TempDir dir;
  auto store = openStore(dir.file("outpost.db"));
  ASSERT_TRUE(store);
  save(*store, {"events", BreakerState::kClosed, BreakerState::kOpen, "5 consecutive failures", kAt,
                kAt + 30000});
  save(*store, {"events", BreakerState::kHalfOpen, BreakerState::kClosed, "trial call succeeded",
                kAt + 31000, 0});

  const auto states = load(*store);
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states.at("events").state, BreakerState::kClosed);
  EXPECT_EQ(states.at("events").next_attempt_wall_ms, 0);

  auto row = store->read([](store::Connection& c) {
    auto query = c.prepare("SELECT reason, updated_at FROM breaker_state WHERE name = 'events'");
    EXPECT_TRUE(query->executeStep());
    return std::make_pair(query->getColumn(0).getString(), query->getColumn(1).getInt64());
  });
  ASSERT_TRUE(row) << row.error().message;
  EXPECT_EQ(row->first, "trial call succeeded");
  EXPECT_EQ(row->second, kAt + 31000);
}

TEST(BreakerStore, TheTableRefusesAnUnknownState) {
  TempDir dir;
  auto store = openStore(dir.file("outpost.db"));
  ASSERT_TRUE(store);
  auto inserted = store->write([](store::Connection& c) {
    c.exec("INSERT INTO breaker_state (name, state, updated_at) VALUES ('x', 'AJAR', 0)");
    return okStatus();
  });
  EXPECT_FALSE(inserted);
}

// The point of the table: a breaker that opened keeps rejecting after a restart.
TEST(BreakerStore, AnOpenBreakerStaysOpenAcrossARestart) {
  TempDir dir;
  FakeClock clock;
  BreakerOptions options;
  options.name = "delivery-service";
  options.reset_timeout_ms = 60000;
  options.volume_threshold = 5;
  options.consecutive_failures = 5;
  {
    auto store = openStore(dir.file("outpost.db"));
    ASSERT_TRUE(store);
    CircuitBreaker breaker(options, clock);
    breaker.setListener([&](const BreakerTransition& t) { save(*store, t); });
    for (int i = 0; i < 5; ++i) {
      auto permit = breaker.tryAcquire();
      ASSERT_TRUE(permit);
      breaker.record(*permit, CallResult::kFailure);
    }
    ASSERT_EQ(breaker.state(), BreakerState::kOpen);
  }
  clock.advance(std::chrono::milliseconds(20000));  // the node was down for 20 s

  auto store = openStore(dir.file("outpost.db"));
  ASSERT_TRUE(store);
  const auto states = load(*store);
  ASSERT_EQ(states.count("delivery-service"), 1u);
  CircuitBreaker restarted(options, clock, states.at("delivery-service"));
  EXPECT_EQ(restarted.state(), BreakerState::kOpen);
  clock.advance(std::chrono::milliseconds(39999));
  EXPECT_FALSE(restarted.tryAcquire());
  clock.advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(restarted.tryAcquire());
  EXPECT_FALSE(restarted.tryAcquire());
}

}  // namespace
}  // namespace outpost::resilience
