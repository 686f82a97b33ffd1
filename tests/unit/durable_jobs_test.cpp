// The one durable-job loop (jobs::DurableJobs) on a fake clock and a real store: what a
// pass runs, where it stops, and when it asks to run again.
#include "jobs/durable_jobs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "support/fake_clock.h"
#include "support/node_process.h"

namespace outpost::jobs {
namespace {

using outpost::testing::TempDir;
using std::chrono::milliseconds;
using Handled = DurableJobs::Handled;

constexpr const char* kKind = "TEST_JOB";

resilience::BreakerOptions breakerOptions() {
  resilience::BreakerOptions options;
  options.name = "test-service";
  options.volume_threshold = 100;
  options.consecutive_failures = 1;
  options.reset_timeout_ms = 30000;
  return options;
}

class DurableJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Store::open({dir_.file("jobs.db"), 2000});
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  // A job for `aggregate` due `in_ms` from now.
  void schedule(const std::string& aggregate, std::int64_t in_ms) {
    const std::int64_t now = clock_.wallMillis();
    ASSERT_TRUE(store_->write([&](store::Connection& c) {
      scheduleJob(c, {kKind, aggregate, nlohmann::json::object(), now + in_ms}, now);
      return okStatus();
    }));
  }

  // Handles every job by finishing it, or refuses those listed in `refuse`.
  DurableJobs jobs(resilience::CircuitBreaker* breaker, std::vector<std::string> refuse = {}) {
    return DurableJobs(*store_, clock_, kKind, breaker, [this, refuse](const JobRow& job) {
      handled_.push_back(job.aggregate_id);
      if (std::find(refuse.begin(), refuse.end(), job.aggregate_id) != refuse.end()) {
        return Handled::kDependencyRefused;
      }
      EXPECT_TRUE(store_->write([&](store::Connection& c) {
        completeJob(c, job, job.attempts + 1, clock_.wallMillis());
        return okStatus();
      }));
      return Handled::kNext;
    });
  }

  static bool keepGoing() { return false; }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::vector<std::string> handled_;
};

TEST_F(DurableJobsTest, RunsTheDueJobsOldestFirstAndWaitsForTheNext) {
  schedule("b", -10);
  schedule("a", -20);
  schedule("later", 5000);
  auto loop = jobs(nullptr);
  EXPECT_EQ(loop.runPass(keepGoing), milliseconds(5000));
  EXPECT_EQ(handled_, (std::vector<std::string>{"a", "b"}));
}

TEST_F(DurableJobsTest, AFullBatchRunsAgainAtOnce) {
  for (int i = 0; i < kJobsPerPass + 1; ++i) schedule("order-" + std::to_string(i), -1);
  auto loop = jobs(nullptr);
  EXPECT_EQ(loop.runPass(keepGoing), milliseconds(0));
  EXPECT_EQ(handled_.size(), static_cast<std::size_t>(kJobsPerPass));
  EXPECT_EQ(loop.runPass(keepGoing), kIdleDelay);
  EXPECT_EQ(handled_.size(), static_cast<std::size_t>(kJobsPerPass + 1));
}

TEST_F(DurableJobsTest, ARefusedDependencyEndsThePass) {
  schedule("a", -30);
  schedule("b", -20);
  schedule("c", -10);
  auto loop = jobs(nullptr, {"b"});
  const milliseconds delay = loop.runPass(keepGoing);
  EXPECT_EQ(handled_, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(delay, kMinimumDelay);  // b is still due: the floor keeps the pass from spinning
}

TEST_F(DurableJobsTest, StopsBetweenJobsWhenTheNodeStops) {
  schedule("a", -20);
  schedule("b", -10);
  auto loop = jobs(nullptr);
  EXPECT_EQ(loop.runPass([this] { return handled_.size() == 1; }), kIdleDelay);
  EXPECT_EQ(handled_, (std::vector<std::string>{"a"}));
}

TEST_F(DurableJobsTest, WaitsForTheTrialTimeWhileTheBreakerIsOpen) {
  resilience::CircuitBreaker breaker(breakerOptions(), clock_);
  breaker.record(*breaker.tryAcquire(), resilience::CallResult::kFailure);
  ASSERT_EQ(breaker.state(), resilience::BreakerState::kOpen);
  schedule("a", 1000);
  auto loop = jobs(&breaker);
  EXPECT_EQ(loop.runPass(keepGoing), milliseconds(30000));
  EXPECT_TRUE(handled_.empty());
}

TEST_F(DurableJobsTest, TheEarliestJobGoesAsTheTrialWhenNothingIsDue) {
  resilience::CircuitBreaker breaker(breakerOptions(), clock_);
  breaker.record(*breaker.tryAcquire(), resilience::CallResult::kFailure);
  schedule("soon", 40000);
  schedule("later", 50000);
  clock_.advance(milliseconds(30000));
  ASSERT_EQ(breaker.state(), resilience::BreakerState::kHalfOpen);
  auto loop = jobs(&breaker);
  loop.runPass(keepGoing);
  EXPECT_EQ(handled_, (std::vector<std::string>{"soon"}));
  // A closed breaker tries nothing early.
  handled_.clear();
  resilience::CircuitBreaker closed(breakerOptions(), clock_);
  auto calm = jobs(&closed);
  EXPECT_EQ(calm.runPass(keepGoing), milliseconds(50000 - 30000));
  EXPECT_TRUE(handled_.empty());
}

TEST_F(DurableJobsTest, TheDelayIsBoundedByTheIdleDelay) {
  schedule("far", 3600000);
  auto loop = jobs(nullptr);
  EXPECT_EQ(loop.runPass(keepGoing), kIdleDelay);
}

TEST_F(DurableJobsTest, BringingForwardMakesEveryWaitingJobDue) {
  schedule("a", 60000);
  schedule("b", 120000);
  auto loop = jobs(nullptr);
  EXPECT_EQ(loop.bringForward(), 2);
  loop.runPass(keepGoing);
  EXPECT_EQ(handled_, (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace outpost::jobs
