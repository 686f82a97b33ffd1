// FakeClock: time moves only when a test advances it. Waits (Clock::waitUntil) end when
// the test advances the clock past their deadline, or when their condition is notified,
// never because real time passed: a test of a delay of an hour takes no time at all.
// Thread-safe. A waiter's mutex and condition variable must outlive the advance() calls
// made while it waits (the runner or service that owns them outlives the test's steps).
#pragma once

#include <map>
#include <mutex>

#include "outpost/clock.h"

namespace outpost {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime start = WallTime(std::chrono::milliseconds(1'700'000'000'000)));

  WallTime wallNow() const override;
  SteadyTime steadyNow() const override;
  bool waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& condition,
                 SteadyTime deadline, const std::function<bool()>& done) const override;

  // Moves both clocks forward and wakes every wait, so each sees the new time.
  void advance(std::chrono::milliseconds by);
  // How many threads are in waitUntil() now: a test advances once the code under test
  // has gone to sleep.
  int waiting() const;

 private:
  struct Waiter {
    std::mutex* mutex;
    std::condition_variable* condition;
  };

  mutable std::mutex mutex_;
  WallTime wall_;
  SteadyTime steady_;
  mutable std::multimap<const std::condition_variable*, Waiter> waiters_;
};

}  // namespace outpost
