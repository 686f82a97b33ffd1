// Retention: keeps a kiosk's file from growing without bound. SENT events older than
// events.retention_ms and idempotent answers older than their 24 h replay window are
// deleted in small batches; FAILED and PENDING events are never touched. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

#include "jobs/background_job.h"
#include "node/context.h"
#include "observability/logger.h"
#include "outpost/clock.h"
#include "store/store.h"

namespace outpost::outbox {

class Retention final : public jobs::BackgroundJob {
 public:
  Retention(const node::Context& node, std::int64_t sent_event_retention_ms)
      : store_(node.store),
        clock_(node.clock),
        retention_ms_(sent_event_retention_ms),
        log_(node.log) {}

  // One batch of each; returns how long to wait (at once again while batches are full).
  std::chrono::milliseconds runPass(const jobs::StopRequested& stop_requested) override;

 private:
  store::Store& store_;
  const Clock& clock_;
  std::int64_t retention_ms_;
  observability::Logger& log_;
};

}  // namespace outpost::outbox
