#include "outpost/clock.h"

namespace outpost {

std::int64_t Clock::wallMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(wallNow().time_since_epoch())
      .count();
}

SystemRandom::SystemRandom() : engine_(std::random_device{}()) {
  // random_device gives 32 bits; fold in a second draw so two nodes started in the same
  // instant do not share a sequence.
  engine_.seed((static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ engine_());
}

SystemRandom::SystemRandom(std::uint64_t seed) : engine_(seed) {}

std::uint64_t SystemRandom::next64() {
  std::lock_guard lock(mutex_);
  return engine_();
}

}  // namespace outpost
