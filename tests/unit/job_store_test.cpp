#include "jobs/job_store.h"

#include <gtest/gtest.h>

#include "store/store.h"
#include "support/node_process.h"

namespace outpost::jobs {
namespace {

using outpost::testing::TempDir;

class JobStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Store::open({dir_.file("jobs.db"), 2000});
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->write([](store::Connection& c) {
      scheduleJob(c, {"TEST", "order-1", nlohmann::json::object(), 100}, 0);
      return okStatus();
    }));
  }

  JobRow onlyJob() {
    auto due = store_->read([](store::Connection& c) { return dueJobs(c, "TEST", 1000, 10); });
    EXPECT_TRUE(due && due->size() == 1);
    return due->front();
  }

  bool write(const std::function<bool(store::Connection&)>& work) {
    bool changed = false;
    EXPECT_TRUE(store_->write([&](store::Connection& c) {
      changed = work(c);
      return okStatus();
    }));
    return changed;
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(JobStore, DueJobsRespectTheRunTime) {
  auto early = store_->read([](store::Connection& c) { return dueJobs(c, "TEST", 99, 10); });
  ASSERT_TRUE(early);
  EXPECT_TRUE(early->empty());
  EXPECT_EQ(onlyJob().aggregate_id, "order-1");
}

TEST_F(JobStore, AStaleRowCannotFinishAJobTwice) {
  const JobRow seen_by_both = onlyJob();
  EXPECT_TRUE(write([&](store::Connection& c) { return completeJob(c, seen_by_both, 1, 5); }));
  EXPECT_FALSE(write([&](store::Connection& c) { return failJob(c, seen_by_both, 1, "x", 6); }));
  EXPECT_FALSE(
      write([&](store::Connection& c) { return rescheduleJob(c, seen_by_both, 1, 50, "x", 6); }));
  auto pending =
      store_->read([](store::Connection& c) { return pendingJobFor(c, "TEST", "order-1"); });
  ASSERT_TRUE(pending);
  EXPECT_FALSE(*pending);  // DONE, not reopened
}

TEST_F(JobStore, ARescheduledJobNeedsItsNewAttemptCount) {
  const JobRow first = onlyJob();
  EXPECT_TRUE(write([&](store::Connection& c) { return rescheduleJob(c, first, 1, 200, "e", 5); }));
  EXPECT_FALSE(write([&](store::Connection& c) { return completeJob(c, first, 1, 6); }));
  auto due = store_->read([](store::Connection& c) { return dueJobs(c, "TEST", 1000, 10); });
  ASSERT_TRUE(due && due->size() == 1);
  EXPECT_EQ(due->front().attempts, 1);
  EXPECT_TRUE(write([&](store::Connection& c) { return completeJob(c, due->front(), 2, 7); }));
}

TEST_F(JobStore, BringForwardMakesWaitingJobsDueNow) {
  const JobRow first = onlyJob();
  ASSERT_TRUE(
      write([&](store::Connection& c) { return rescheduleJob(c, first, 1, 90000, "e", 5); }));
  int moved = 0;
  ASSERT_TRUE(store_->write([&](store::Connection& c) {
    moved = bringForward(c, "TEST", 1000);
    return okStatus();
  }));
  EXPECT_EQ(moved, 1);
  EXPECT_EQ(onlyJob().next_run_at, 1000);
}

}  // namespace
}  // namespace outpost::jobs
