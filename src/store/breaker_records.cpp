#include "store/breaker_records.h"

#include <string_view>

namespace outpost::store {
namespace {

using resilience::BreakerState;

// The table's CHECK admits only the three names toString() writes.
BreakerState parseState(std::string_view text) {
  if (text == "OPEN") return BreakerState::kOpen;
  if (text == "HALF_OPEN") return BreakerState::kHalfOpen;
  return BreakerState::kClosed;
}

}  // namespace

std::map<std::string, resilience::PersistedBreaker> loadBreakerStates(Connection& connection) {
  auto query = connection.prepare("SELECT name, state, next_attempt_at FROM breaker_state");
  std::map<std::string, resilience::PersistedBreaker> states;
  while (query->executeStep()) {
    states[query->getColumn(0).getString()] = {parseState(query->getColumn(1).getString()),
                                               query->getColumn(2).getInt64()};
  }
  return states;
}

void saveBreakerTransition(Connection& connection,
                           const resilience::BreakerTransition& transition) {
  auto upsert = connection.prepare(
      "INSERT INTO breaker_state (name, state, next_attempt_at, reason, updated_at)"
      " VALUES (?, ?, ?, ?, ?)"
      " ON CONFLICT (name) DO UPDATE SET state = excluded.state,"
      " next_attempt_at = excluded.next_attempt_at, reason = excluded.reason,"
      " updated_at = excluded.updated_at");
  upsert->bind(1, transition.name);
  upsert->bind(2, resilience::toString(transition.to));
  upsert->bind(3, transition.next_attempt_wall_ms);
  upsert->bind(4, transition.reason);
  upsert->bind(5, transition.at_wall_ms);
  upsert->exec();
}

}  // namespace outpost::store
