// Clock and Random: time and randomness, injected so that breakers, backoff, jobs and
// identifiers are deterministic under test.
//
// wallNow() is for stamps a person reads (createdAt, occurredAt); steadyNow() is for
// intervals and deadlines, and never jumps. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
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
};

class SystemClock final : public Clock {
 public:
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
  SteadyTime steadyNow() const override { return std::chrono::steady_clock::now(); }
};

// Time moves only when a test advances it.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime start = WallTime(std::chrono::milliseconds(1'700'000'000'000)));
  WallTime wallNow() const override;
  SteadyTime steadyNow() const override;
  void advance(std::chrono::milliseconds by);

 private:
  mutable std::mutex mutex_;
  WallTime wall_;
  SteadyTime steady_;
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
