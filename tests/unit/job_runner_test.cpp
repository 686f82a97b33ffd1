#include "jobs/job_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/eventually.h"
#include "support/fake_clock.h"

namespace outpost::jobs {
namespace {

using outpost::testing::eventually;

struct Fixture {
  FakeClock clock;
  std::FILE* sink = std::tmpfile();
  observability::Logger log{clock, sink};
  ~Fixture() { std::fclose(sink); }
};

TEST(JobRunner, WakeRunsAJobThatIsWaitingAnHour) {
  Fixture f;
  JobRunner runner(f.clock, f.log);
  std::atomic<int> runs = 0;
  runner.add("slow", [&](const StopRequested&) {
    ++runs;
    return std::chrono::hours(1);
  });
  runner.start();
  ASSERT_TRUE(eventually([&] { return runs == 1; }));
  runner.wake("slow");
  EXPECT_TRUE(eventually([&] { return runs == 2; }));
  runner.stop();
}

TEST(JobRunner, StopEndsWaitingJobsAtOnce) {
  Fixture f;
  JobRunner runner(f.clock, f.log);
  std::atomic<int> runs = 0;
  runner.add("a", [&](const StopRequested&) {
    ++runs;
    return std::chrono::hours(1);
  });
  runner.add("b", [&](const StopRequested&) {
    ++runs;
    return std::chrono::hours(1);
  });
  runner.start();
  ASSERT_TRUE(eventually([&] { return runs == 2; }));
  const auto started = std::chrono::steady_clock::now();
  runner.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST(JobRunner, AJobThatThrowsRunsAgainASecondLater) {
  Fixture f;
  JobRunner runner(f.clock, f.log);
  std::atomic<int> runs = 0;
  runner.add("flaky", [&](const StopRequested&) -> std::chrono::milliseconds {
    if (++runs == 1) throw std::runtime_error("boom");
    return std::chrono::hours(1);
  });
  runner.start();
  // It waits a second rather than spin on a fault.
  ASSERT_TRUE(eventually([&] { return runs == 1 && f.clock.waiting() == 1; }));
  f.clock.advance(std::chrono::seconds(1));
  EXPECT_TRUE(eventually([&] { return runs == 2; }));
  runner.stop();
}

TEST(JobRunner, WaitsOutADelayOnTheClockNotInRealTime) {
  Fixture f;
  JobRunner runner(f.clock, f.log);
  std::atomic<int> runs = 0;
  runner.add("hourly", [&](const StopRequested&) {
    ++runs;
    return std::chrono::hours(1);
  });
  runner.start();
  ASSERT_TRUE(eventually([&] { return runs == 1 && f.clock.waiting() == 1; }));
  f.clock.advance(std::chrono::minutes(59));
  ASSERT_TRUE(eventually([&] { return f.clock.waiting() == 1; }));
  EXPECT_EQ(runs, 1);
  f.clock.advance(std::chrono::minutes(1));
  EXPECT_TRUE(eventually([&] { return runs == 2; }));
  runner.stop();
}

}  // namespace
}  // namespace outpost::jobs
