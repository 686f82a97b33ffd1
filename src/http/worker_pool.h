// WorkerPool: the threads that serve connections, one connection each, as many as there
// are connections (up to a cap), so a connection never waits in a queue while others hold
// every worker.
//
// cpp-httplib's ThreadPool has a fixed size: with 128 workers, 128 clients that drip a
// request (each cut off only after 5 s, SPEC §8) leave a till's order queued behind them
// for up to 5 s. Here a connection that finds no idle worker starts one; workers beyond
// `kept_threads` end after `idle_timeout` without work, so the pool shrinks back after a
// burst. Past `max_threads` connections queue, as they would in any pool.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace outpost::http {

struct WorkerPoolOptions {
  std::size_t kept_threads = 8;    // started at once, never ended before shutdown; >= 1
  std::size_t max_threads = 1024;  // past this, connections wait for a worker
  std::chrono::milliseconds idle_timeout{30000};
};

class WorkerPool final : public httplib::TaskQueue {
 public:
  explicit WorkerPool(WorkerPoolOptions options);
  ~WorkerPool() override;
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void enqueue(std::function<void()> job) override;
  // Runs every job already queued, then ends and joins every worker.
  void shutdown() override;

  std::size_t threads() const;
  std::size_t idleThreads() const;

 private:
  struct Worker {
    std::thread thread;
    bool finished = false;
  };
  using Workers = std::list<Worker>;

  void startWorker();  // with mutex_ held
  void work(Workers::iterator self);
  void joinFinished();  // with mutex_ held; the finished threads have left work()

  WorkerPoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable job_ready_;
  std::deque<std::function<void()>> jobs_;
  Workers workers_;
  std::size_t running_ = 0;  // workers not finished
  std::size_t idle_ = 0;     // workers waiting for a job
  bool shutting_down_ = false;
};

}  // namespace outpost::http
