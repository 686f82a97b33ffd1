// Start-up: sagas that a crash (or a stop) left mid-way are resumed or compensated
// (SPEC §5). Their work is already durable (every step's job is committed with it); this
// makes it due at once, and gives a COMPENSATING saga that somehow lost its job a new one.
#pragma once

#include <cstdint>

#include "outpost/result.h"
#include "store/store.h"

namespace outpost::saga {

struct RecoveryReport {
  int resumed = 0;       // RUNNING sagas whose delivery initiation is due now
  int compensating = 0;  // COMPENSATING sagas whose compensation is due now
  int repaired = 0;      // of those, the ones that needed a new compensation job
};

Result<RecoveryReport> resumeInterruptedSagas(store::Store& store, std::int64_t now_millis);

}  // namespace outpost::saga
