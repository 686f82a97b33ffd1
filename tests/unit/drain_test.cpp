// Drain's wait (SPEC §10) on a fake clock: it ends on a commit that leaves nothing
// pending, brings the work forward again while it waits, and never outlasts its timeout
// or a stop.
#include "jobs/drain.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>

#include "jobs/job_store.h"
#include "store/store.h"
#include "support/eventually.h"
#include "support/fake_clock.h"
#include "support/node_process.h"

namespace outpost::jobs {
namespace {

using outpost::testing::eventually;
using std::chrono::milliseconds;

class DrainWait : public ::testing::Test {
 protected:
  DrainWait() {
    drain_.setWork({[this]() -> Result<PendingWork> {
                      std::lock_guard lock(mutex_);
                      if (store_down_) return Error::unavailable("database is down");
                      return pending_;
                    },
                    [this] { ++forwards_; },
                    [this](const PendingWork&) { return can_move_.load(); }});
  }

  void setPending(PendingWork pending) {
    std::lock_guard lock(mutex_);
    pending_ = pending;
  }

  // Runs drain(timeout) on its own thread and returns once it waits on the clock.
  std::future<Result<DrainReport>> drainInBackground(milliseconds timeout) {
    auto report = std::async(std::launch::async, [this, timeout] { return drain_.drain(timeout); });
    EXPECT_TRUE(eventually([&] { return clock_.waiting() == 1; }));
    return report;
  }

  FakeClock clock_;
  Drain drain_{clock_};
  std::mutex mutex_;
  PendingWork pending_{3, 2};
  bool store_down_ = false;
  std::atomic<int> forwards_ = 0;
  std::atomic<bool> can_move_ = true;
};

TEST_F(DrainWait, NothingPendingAnswersDrainedAtOnceAndStopsTakingOrders) {
  setPending({0, 0});
  EXPECT_FALSE(drain_.draining());
  auto report = drain_.drain(milliseconds(60000));
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->drained);
  EXPECT_EQ(forwards_, 1);
  EXPECT_TRUE(drain_.draining());
  drain_.resume();
  EXPECT_FALSE(drain_.draining());
}

TEST_F(DrainWait, ACommitThatLeavesNothingPendingEndsTheWaitWithoutTimePassing) {
  auto report = drainInBackground(milliseconds(60000));
  drain_.workCommitted();  // some work done, not all: it waits on
  ASSERT_TRUE(eventually([&] { return clock_.waiting() == 1; }));
  setPending({0, 0});
  drain_.workCommitted();
  const auto answer = report.get();
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->drained);
  EXPECT_EQ(answer->pending.events, 0);
  EXPECT_EQ(forwards_, 1);  // no time passed: the work was brought forward once
}

TEST_F(DrainWait, BringsTheWorkForwardAgainEverySecondAndAnswersAtTheTimeout) {
  auto report = drainInBackground(milliseconds(2500));
  EXPECT_EQ(forwards_, 1);
  clock_.advance(Drain::kForwardAgainEvery - milliseconds(1));
  ASSERT_TRUE(eventually([&] { return clock_.waiting() == 1; }));
  EXPECT_EQ(forwards_, 1);
  clock_.advance(milliseconds(1));
  ASSERT_TRUE(eventually([&] { return forwards_ == 2 && clock_.waiting() == 1; }));
  clock_.advance(milliseconds(1000));
  ASSERT_TRUE(eventually([&] { return forwards_ == 3 && clock_.waiting() == 1; }));
  clock_.advance(milliseconds(499));
  ASSERT_TRUE(eventually([&] { return clock_.waiting() == 1; }));
  EXPECT_EQ(report.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  clock_.advance(milliseconds(1));  // 2500 ms: the timeout
  const auto answer = report.get();
  ASSERT_TRUE(answer);
  EXPECT_FALSE(answer->drained);
  EXPECT_EQ(answer->pending.events, 3);
  EXPECT_EQ(answer->pending.deliveries, 2);
  EXPECT_FALSE(answer->stuck);
  EXPECT_EQ(forwards_, 3);  // not again at the deadline
  EXPECT_TRUE(drain_.draining());
}

TEST_F(DrainWait, AZeroTimeoutBringsTheWorkForwardAndSaysWhatIsLeft) {
  auto report = drain_.drain(milliseconds(0));
  ASSERT_TRUE(report);
  EXPECT_FALSE(report->drained);
  EXPECT_EQ(report->pending.deliveries, 2);
  EXPECT_EQ(forwards_, 1);
}

TEST_F(DrainWait, WorkThatNothingCanMoveIsLeftAtOnceAndAfterTheCommitThatLeavesOnlyIt) {
  can_move_ = false;  // say, events without a destination
  auto report = drain_.drain(milliseconds(60000));
  ASSERT_TRUE(report);
  EXPECT_FALSE(report->drained);
  EXPECT_TRUE(report->stuck);
  EXPECT_EQ(report->pending.events, 3);

  can_move_ = true;
  auto waiting = drainInBackground(milliseconds(60000));
  can_move_ = false;
  drain_.workCommitted();
  const auto answer = waiting.get();
  ASSERT_TRUE(answer);
  EXPECT_FALSE(answer->drained);
  EXPECT_TRUE(answer->stuck);
  EXPECT_EQ(answer->pending.deliveries, 2);
}

TEST_F(DrainWait, StopEndsAWaitingDrainAtOnce) {
  auto report = drainInBackground(milliseconds(60000));
  drain_.stop();
  const auto answer = report.get();
  ASSERT_TRUE(answer);
  EXPECT_FALSE(answer->drained);
  EXPECT_EQ(answer->pending.events, 3);
}

TEST_F(DrainWait, AnUnreadableStoreIsAnError) {
  {
    std::lock_guard lock(mutex_);
    store_down_ = true;
  }
  auto report = drain_.drain(milliseconds(60000));
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().kind, ErrorKind::kUnavailable);
}

TEST(PendingWork, CountsPendingEventsAndDeliveryInitiationsNotDone) {
  outpost::testing::TempDir dir;
  auto store = store::Store::open({dir.file("drain.db"), 2000});
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE((*store)->write([](store::Connection& c) {
    scheduleJob(c, {kInitiateDelivery, "ORD-1"}, 1);
    scheduleJob(c, {kInitiateDelivery, "ORD-2"}, 1);
    scheduleJob(c, {kCompensateOrder, "ORD-3"}, 1);
    c.exec(
        "INSERT INTO outbox_events (id, event_type, aggregate_id, event_data, status,"
        " created_at, next_attempt_at) VALUES ('e1', 'T', 'ORD-1', '{}', 'PENDING', 1, 1),"
        " ('e2', 'T', 'ORD-1', '{}', 'SENT', 1, 1)");
    return okStatus();
  }));
  auto pending = (*store)->read([](store::Connection& c) { return readPendingWork(c); });
  ASSERT_TRUE(pending) << pending.error().message;
  EXPECT_EQ(pending->events, 1);
  EXPECT_EQ(pending->deliveries, 2);
  (*store)->shutdown();
}

}  // namespace
}  // namespace outpost::jobs
