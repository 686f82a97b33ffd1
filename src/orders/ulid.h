// UlidGenerator: ULIDs (48-bit millisecond time + 80 random bits, Crockford base32), so
// ids are unique across nodes and sort by creation time. Monotonic within one generator:
// ids made in the same millisecond (or after the wall clock stepped back) increment the
// random part instead of drawing a new one. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "outpost/clock.h"

namespace outpost::orders {

class UlidGenerator {
 public:
  UlidGenerator(const Clock& clock, Random& random) : clock_(clock), random_(random) {}
  std::string next();

 private:
  const Clock& clock_;
  Random& random_;
  std::mutex mutex_;
  std::uint64_t last_millis_ = 0;
  std::uint16_t random_high_ = 0;  // top 16 of the 80 random bits
  std::uint64_t random_low_ = 0;   // low 64 of the 80 random bits
};

// Whether `text` is 26 Crockford base32 characters that fit 128 bits.
bool isUlid(const std::string& text);

}  // namespace outpost::orders
