// What a delivery service answer means to its circuit breaker, for every caller.
#pragma once

#include "clients/delivery_client.h"
#include "resilience/circuit_breaker.h"

namespace outpost::saga {

// A permanent answer means the service is up and answering: a success for the breaker.
inline resilience::CallResult breakerResult(const clients::DeliveryAnswer& answer) {
  if (answer.call_class != clients::CallClass::kRetriable) return resilience::CallResult::kSuccess;
  return answer.timed_out ? resilience::CallResult::kTimeout : resilience::CallResult::kFailure;
}

}  // namespace outpost::saga
