#include "support/fake_clock.h"

#include <vector>

namespace outpost {

FakeClock::FakeClock(WallTime start) : wall_(start), steady_(SteadyTime{}) {}

Clock::WallTime FakeClock::wallNow() const {
  std::lock_guard guard(mutex_);
  return wall_;
}

Clock::SteadyTime FakeClock::steadyNow() const {
  std::lock_guard guard(mutex_);
  return steady_;
}

bool FakeClock::waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& condition,
                          SteadyTime deadline, const std::function<bool()>& done) const {
  std::multimap<const std::condition_variable*, Waiter>::iterator registered;
  {
    std::lock_guard guard(mutex_);
    registered = waiters_.emplace(&condition, Waiter{lock.mutex(), &condition});
  }
  // advance() takes the waiter's mutex before it notifies, so a time change between this
  // check and the wait cannot be missed.
  while (!done() && steadyNow() < deadline) condition.wait(lock);
  {
    std::lock_guard guard(mutex_);
    waiters_.erase(registered);
  }
  return done();
}

void FakeClock::advance(std::chrono::milliseconds by) {
  std::vector<Waiter> to_wake;
  {
    std::lock_guard guard(mutex_);
    wall_ += by;
    steady_ += by;
    for (const auto& [condition, waiter] : waiters_) to_wake.push_back(waiter);
  }
  // Never both locks at once: a waiter holds its own mutex when it takes this clock's.
  for (const auto& waiter : to_wake) {
    { std::lock_guard guard(*waiter.mutex); }
    waiter.condition->notify_all();
  }
}

int FakeClock::waiting() const {
  std::lock_guard guard(mutex_);
  return static_cast<int>(waiters_.size());
}

}  // namespace outpost
