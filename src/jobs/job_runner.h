// JobRunner: the one owner of background threads. Each job runs on its own thread: it
// runs, says how long until it wants to run again, and sleeps until then, until someone
// wakes it early (new work was committed, a breaker closed) or the node stops. stop()
// lets a running job finish and joins every thread. Thread-safe after start().
//
// It sleeps through the injected Clock, so under a fake clock a job waits until the test
// advances time, not for real time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "jobs/background_job.h"
#include "observability/logger.h"
#include "observability/metrics.h"
#include "outpost/clock.h"

namespace outpost::jobs {

class JobRunner {
 public:
  // One pass of a job, as BackgroundJob::runPass.
  using Job = std::function<std::chrono::milliseconds(const StopRequested& stop_requested)>;

  // `metrics`, when given, counts each pass and whether it threw.
  JobRunner(const Clock& clock, observability::Logger& log,
            observability::Metrics* metrics = nullptr)
      : clock_(clock), log_(log), metrics_(metrics) {}
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Before start() only.
  void add(const std::string& name, Job job);
  void add(const std::string& name, BackgroundJob& job);
  void start();
  // Runs the job as soon as its thread is free; a wake during a pass causes one more pass.
  void wake(const std::string& name);
  void stop();
  // True once stop() was called: a long pass checks it between items and returns.
  bool stopRequested() const { return stop_requested_; }

 private:
  struct Slot {
    Job job;
    bool woken = false;
    std::thread thread;
  };
  void loop(const std::string& name, Slot& slot);

  const Clock& clock_;
  observability::Logger& log_;
  observability::Metrics* metrics_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Slot> slots_;
  bool stopping_ = false;
  std::atomic<bool> stop_requested_ = false;
};

}  // namespace outpost::jobs
