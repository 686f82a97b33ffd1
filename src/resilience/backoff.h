// Retry delays: exponential from an initial delay, capped, with jitter so that many
// orders that failed together do not all retry in the same instant.
#pragma once

#include <cstdint>

#include "outpost/clock.h"

namespace outpost::resilience {

struct BackoffPolicy {
  std::int64_t initial_delay_ms = 60000;
  std::int64_t max_delay_ms = 300000;
};

// The delay before retry number `attempt` (1 = the first retry): initial * 2^(attempt-1),
// capped at max, then scaled by a random factor in [0.8, 1.2] and capped again.
std::int64_t backoffDelayMs(const BackoffPolicy& policy, int attempt, Random& random);

}  // namespace outpost::resilience
