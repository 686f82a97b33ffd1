#include "resilience/backoff.h"

#include <algorithm>

namespace outpost::resilience {

std::int64_t backoffDelayMs(const BackoffPolicy& policy, int attempt, Random& random) {
  std::int64_t delay = policy.initial_delay_ms;
  for (int i = 1; i < attempt && delay < policy.max_delay_ms; ++i) delay *= 2;
  delay = std::min(delay, policy.max_delay_ms);
  // 0.8 .. 1.2 in steps of 1/1000, from the injected random source.
  const auto permille = static_cast<std::int64_t>(800 + random.next64() % 401);
  return std::max<std::int64_t>(1, std::min(policy.max_delay_ms, delay * permille / 1000));
}

}  // namespace outpost::resilience
