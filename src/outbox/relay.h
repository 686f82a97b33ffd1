// OutboxRelay: forwards PENDING outbox events to the configured SNS topic and/or SQS
// queue (SPEC §4.3). It runs as a background job, woken when a commit adds events and on
// every poll_interval_ms; each pass sends batch after batch until nothing is due.
//
// - Order: events of one order go out in commit order; one that is backing off holds back
//   later events of its own order only (see dueEvents()).
// - Acceptance: an event is SENT only once every destination accepted it; what a batch
//   says of each entry is recorded entry by entry, in one write.
// - Outages (no answer, 5xx, throttling, an entry failed by the destination's fault) go
//   through the `events` breaker and make the relay back off (from 1 s, doubling, capped
//   at the poll interval and the breaker's reset timeout; once the breaker is open, until
//   its trial); they never touch an event's retry count. Only a permanent rejection
//   counts: the event is tried again at the next poll and is FAILED (dead letter) once
//   max_retries rejections are reached. A FAILED event no longer holds back its order, so
//   one re-queued by staff goes out after later events of the same order.
//
// Not thread-safe, but for bringRetriesForward(): one job thread runs passes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "clients/event_destinations.h"
#include "jobs/background_job.h"
#include "node/context.h"
#include "observability/logger.h"
#include "observability/metrics.h"
#include "outbox/relay_store.h"
#include "outpost/clock.h"
#include "resilience/circuit_breaker.h"
#include "store/store.h"

namespace outpost::outbox {

struct RelaySettings {
  std::int64_t poll_interval_ms = 30000;
  int batch_size = 10;  // 1..10
  int max_retries = 5;
  // The backoff after an outage while the breaker is still closed: from the initial
  // delay, doubling, capped at the poll interval.
  std::int64_t outage_initial_delay_ms = 1000;
};

struct RelayDependencies {
  const node::Context& node;            // the metrics count events sent and given up on
  resilience::CircuitBreaker& breaker;  // the `events` breaker
  std::vector<clients::EventDestination*> destinations;  // at least one
  RelaySettings settings;
};

class OutboxRelay final : public jobs::BackgroundJob {
 public:
  explicit OutboxRelay(RelayDependencies deps);

  // Sends due events until none is due, an outage or the breaker stops it, or
  // `stop_requested` says so between batches; returns the delay before the next pass.
  std::chrono::milliseconds runPass(const jobs::StopRequested& stop_requested) override;

  // `outpost drain`: every waiting event is due now and the relay's backoff after an
  // outage is over, so the next pass (the caller wakes it) sends at once. Returns how many
  // events were brought forward. Safe from any thread.
  int bringRetriesForward();

 private:
  enum class BatchResult { kRecorded, kOutage, kBreakerOpen, kStoreDown, kCancelled };
  enum class Send { kAnswered, kBreakerOpen, kCancelled };

  // An event of this batch, with what the destinations said of it.
  struct InFlight {
    DueEvent event;
    int sent_to = 0;
    std::string rejection;   // a permanent rejection, if any
    bool too_large = false;  // over the message size limit: no destination will take it
  };

  BatchResult sendBatch(std::vector<DueEvent> events);
  // Sends the events `destination` has not accepted yet; sets `outage` if any of them met
  // one.
  Send sendTo(clients::EventDestination& destination, std::vector<InFlight>& batch, bool& outage);
  Status record(const std::vector<InFlight>& batch);
  std::chrono::milliseconds afterOutage();
  std::chrono::milliseconds untilBreakerTrial();
  std::chrono::milliseconds pauseFor(std::int64_t delay_ms);
  std::chrono::milliseconds untilNextDue();

  RelayDependencies deps_;
  int all_destinations_ = 0;  // the bits of every destination
  int outage_streak_ = 0;     // outages in a row, for the backoff
  // Until then a pass returns at once (backing off); bringRetriesForward() clears it.
  std::atomic<std::int64_t> resume_at_steady_ms_ = 0;
};

}  // namespace outpost::outbox
