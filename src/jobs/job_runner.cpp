#include "jobs/job_runner.h"

namespace outpost::jobs {
namespace {

// After a pass that threw, wait this long rather than spin on a persistent fault.
constexpr std::chrono::milliseconds kDelayAfterCrash(1000);

}  // namespace

JobRunner::~JobRunner() { stop(); }

void JobRunner::add(const std::string& name, Job job) {
  std::lock_guard lock(mutex_);
  slots_[name].job = std::move(job);
}

void JobRunner::add(const std::string& name, BackgroundJob& job) {
  add(name, [&job](const StopRequested& stop_requested) { return job.runPass(stop_requested); });
}

void JobRunner::start() {
  std::lock_guard lock(mutex_);
  for (auto& [name, slot] : slots_) {
    slot.thread = std::thread([this, &name = name, &slot = slot] { loop(name, slot); });
  }
}

void JobRunner::wake(const std::string& name) {
  {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(name);
    if (it == slots_.end()) return;
    it->second.woken = true;
  }
  changed_.notify_all();
}

void JobRunner::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    stop_requested_ = true;
  }
  changed_.notify_all();
  for (auto& [name, slot] : slots_) {
    if (slot.thread.joinable()) slot.thread.join();
  }
}

void JobRunner::loop(const std::string& name, Slot& slot) {
  for (;;) {
    std::chrono::milliseconds delay = kDelayAfterCrash;
    bool succeeded = false;
    try {
      delay = slot.job([this] { return stopRequested(); });
      succeeded = true;
    } catch (const std::exception& e) {
      log_.error("background job failed", {{"job", name}, {"error", e.what()}});
    }
    if (metrics_ != nullptr) metrics_->jobRun(name, succeeded);
    std::unique_lock lock(mutex_);
    clock_.waitUntil(lock, changed_, clock_.steadyNow() + delay,
                     [&] { return stopping_ || slot.woken; });
    if (stopping_) return;
    slot.woken = false;
  }
}

}  // namespace outpost::jobs
