// Clock and Random: time and randomness, injected so that breakers, backoff, jobs and
// identifiers are deterministic under test.
//
// wallNow() is for stamps a person reads (createdAt, occurredAt); steadyNow() is for
// intervals and deadlines, and never jumps. Waiting for a deadline goes through the clock
// too (waitUntil), so a test's fake clock decides when a wait is over. Implementations
// are thread-safe; the fake one is tests/support/fake_clock.h.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>

namespace outpost {

class Clock {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  using SteadyTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual WallTime wallNow() const = 0;
  virtual SteadyTime steadyNow() const = 0;

  // Milliseconds since the Unix epoch: how the store keeps wall times.
  std::int64_t wallMillis() const;

  // Waits on `condition`, whose mutex `lock` holds, until `done()` or until steadyNow()
  // reaches `deadline`; returns done(). Whoever changes what done() reads notifies
  // `condition` under that mutex.
  virtual bool waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& condition,
                         SteadyTime deadline, const std::function<bool()>& done) const = 0;
};

class SystemClock final : public Clock {
 public:
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
  SteadyTime steadyNow() const override { return std::chrono::steady_clock::now(); }
  bool waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& condition,
                 SteadyTime deadline, const std::function<bool()>& done) const override {
    return condition.wait_until(lock, deadline, done);
  }
};

class Random {
 public:
  virtual ~Random() = default;
  virtual std::uint64_t next64() = 0;
};

// A Mersenne Twister seeded from std::random_device; guarded for use from many threads.
class SystemRandom final : public Random {
 public:
  SystemRandom();
  explicit SystemRandom(std::uint64_t seed);
  std::uint64_t next64() override;

 private:
  std::mutex mutex_;
  std::mt19937_64 engine_;
};

}  // namespace outpost
