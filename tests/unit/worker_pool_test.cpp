// WorkerPool: a job never waits behind busy workers while the pool is under its cap; the
// pool shrinks back to its kept threads after a burst; past the cap jobs queue; shutdown
// runs what is queued.
#include "http/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>

#include "support/eventually.h"

namespace outpost::http {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

// Jobs that hold their worker until released, as a slow client holds its connection.
class Gate {
 public:
  std::function<void()> job() {
    return [this] {
      std::unique_lock lock(mutex_);
      ++holding_;
      changed_.notify_all();
      changed_.wait(lock, [this] { return open_; });
      --holding_;
    };
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  int holding() {
    std::lock_guard lock(mutex_);
    return holding_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int holding_ = 0;
  bool open_ = false;
};

// Opens the gate when the test ends, however it ends, so the pool can join its workers.
struct OpenOnExit {
  Gate& gate;
  ~OpenOnExit() { gate.open(); }
};

TEST(WorkerPool, AJobRunsAtOnceWhileEveryKeptWorkerIsHeld) {
  Gate gate;  // before the pool: its workers use it until the pool has joined them
  WorkerPool pool({.kept_threads = 4, .max_threads = 512, .idle_timeout = 30s});
  OpenOnExit open_at_exit{gate};
  for (int i = 0; i < 200; ++i) pool.enqueue(gate.job());
  ASSERT_TRUE(eventually([&] { return gate.holding() == 200; }));

  std::promise<void> ran;
  pool.enqueue([&] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_GE(pool.threads(), 201u);
  gate.open();
}

TEST(WorkerPool, ShrinksBackToItsKeptWorkersOnceIdle) {
  Gate gate;
  WorkerPool pool({.kept_threads = 2, .max_threads = 64, .idle_timeout = 50ms});
  OpenOnExit open_at_exit{gate};
  for (int i = 0; i < 20; ++i) pool.enqueue(gate.job());
  ASSERT_TRUE(eventually([&] { return gate.holding() == 20; }));
  EXPECT_EQ(pool.threads(), 20u);
  gate.open();
  EXPECT_TRUE(eventually([&] { return pool.threads() == 2; }));
  // The workers that ended are joined by the next enqueue, and the pool still serves.
  std::promise<void> ran;
  pool.enqueue([&] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(5s), std::future_status::ready);
}

TEST(WorkerPool, PastItsCapJobsWaitForAWorker) {
  Gate gate;
  WorkerPool pool({.kept_threads = 1, .max_threads = 3, .idle_timeout = 30s});
  OpenOnExit open_at_exit{gate};
  for (int i = 0; i < 3; ++i) pool.enqueue(gate.job());
  ASSERT_TRUE(eventually([&] { return gate.holding() == 3; }));
  std::atomic<bool> ran{false};
  pool.enqueue([&] { ran = true; });
  EXPECT_FALSE(eventually([&] { return ran.load(); }, 200ms));
  EXPECT_EQ(pool.threads(), 3u);
  gate.open();
  EXPECT_TRUE(eventually([&] { return ran.load(); }));
}

TEST(WorkerPool, ShutdownRunsWhatIsQueuedAndJoinsEveryWorker) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool({.kept_threads = 1, .max_threads = 1, .idle_timeout = 30s});
    for (int i = 0; i < 50; ++i) pool.enqueue([&] { ++ran; });
    pool.shutdown();
    EXPECT_EQ(ran.load(), 50);
    EXPECT_EQ(pool.threads(), 0u);
  }
  EXPECT_EQ(ran.load(), 50);
}

}  // namespace
}  // namespace outpost::http
