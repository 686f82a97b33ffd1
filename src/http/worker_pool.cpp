#include "http/worker_pool.h"

#include <algorithm>
#include <system_error>

namespace outpost::http {

WorkerPool::WorkerPool(WorkerPoolOptions options) : options_(options) {
  options_.kept_threads = std::max<std::size_t>(options_.kept_threads, 1);
  options_.max_threads = std::max(options_.max_threads, options_.kept_threads);
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < options_.kept_threads; ++i) startWorker();
}

WorkerPool::~WorkerPool() { shutdown(); }

void WorkerPool::enqueue(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    joinFinished();
    jobs_.push_back(std::move(job));
    if (idle_ < jobs_.size() && running_ < options_.max_threads) startWorker();
  }
  job_ready_.notify_one();
}

void WorkerPool::shutdown() {
  Workers all;
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    // The workers keep their iterators: splicing moves the nodes, not the threads.
    all.splice(all.end(), workers_);
  }
  job_ready_.notify_all();
  for (auto& worker : all) {
    if (worker.thread.joinable()) worker.thread.join();
  }
}

std::size_t WorkerPool::threads() const {
  std::lock_guard lock(mutex_);
  return running_;
}

std::size_t WorkerPool::idleThreads() const {
  std::lock_guard lock(mutex_);
  return idle_;
}

void WorkerPool::startWorker() {
  auto self = workers_.emplace(workers_.end());
  try {
    self->thread = std::thread(&WorkerPool::work, this, self);
    ++running_;
    ++idle_;  // counted from now: the next job must not start another worker for itself
  } catch (const std::system_error&) {
    // Out of threads: the job waits for a worker that exists (there is always one).
    workers_.erase(self);
  }
}

void WorkerPool::work(Workers::iterator self) {
  std::unique_lock lock(mutex_);
  while (true) {
    job_ready_.wait_for(lock, options_.idle_timeout,
                        [this] { return !jobs_.empty() || shutting_down_; });
    if (jobs_.empty()) {
      if (shutting_down_ || running_ > options_.kept_threads) break;
      continue;
    }
    --idle_;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    job = nullptr;  // what the job captured goes before the lock is taken again
    lock.lock();
    ++idle_;
  }
  --idle_;
  self->finished = true;
  --running_;
}

void WorkerPool::joinFinished() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (!it->finished) {
      ++it;
      continue;
    }
    it->thread.join();  // it has left work(): only the thread's own exit is left
    it = workers_.erase(it);
  }
}

}  // namespace outpost::http
