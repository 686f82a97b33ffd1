// Outbound calls through a circuit breaker: the one place where a call's class (SPEC §4:
// retriable or permanent, classified once by HttpClient) becomes the breaker's result.
#pragma once

#include <optional>
#include <type_traits>

#include "clients/http_client.h"
#include "resilience/circuit_breaker.h"

namespace outpost::clients {

// A retriable call (no answer, a timeout, 5xx, 408, 429) is a failure, a timeout when it
// timed out. A success or a permanent refusal (another 4xx) shows the dependency up and
// answering: a success for the breaker.
resilience::CallResult breakerResult(CallClass call_class, bool timed_out);

// Makes `call` if `breaker` lets it through and records the answer's outcome there.
// nullopt when the breaker refuses (OPEN, or HALF_OPEN with its one trial out): the
// dependency was not called. `call()` returns an answer with `call_class` and `timed_out`.
template <typename Call>
auto callThrough(resilience::CircuitBreaker& breaker, Call&& call)
    -> std::optional<std::invoke_result_t<Call&>> {
  const auto permit = breaker.tryAcquire();
  if (!permit) return std::nullopt;
  auto answer = call();
  breaker.record(*permit, breakerResult(answer.call_class, answer.timed_out));
  return answer;
}

}  // namespace outpost::clients
