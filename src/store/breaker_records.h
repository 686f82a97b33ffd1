// The breaker_state table: each breaker's last transition, read back at start-up so an
// open breaker stays open across a restart. Both functions throw SQLite::Exception; run
// them through store::Store::read / write (or store::guard).
#pragma once

#include <map>
#include <string>

#include "resilience/circuit_breaker.h"
#include "store/connection.h"

namespace outpost::store {

// Every stored breaker by name.
std::map<std::string, resilience::PersistedBreaker> loadBreakerStates(Connection& connection);

// Inserts or replaces the breaker's row with this transition.
void saveBreakerTransition(Connection& connection, const resilience::BreakerTransition& transition);

}  // namespace outpost::store
