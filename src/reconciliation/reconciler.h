// Reconciler: the design's reconciliation job (SPEC §5), every reconciliation.interval_ms.
// It asks the delivery service for the status of every order that has a delivery and is
// not final (which covers the design's stale PENDING_SHIPMENT and flagged orders that
// have one), maps it to a sales status and applies it when the transition is valid
// (ORDER_STATUS_RECONCILED, history updated); otherwise the order goes to manual review
// ("Invalid status transition ..."). PENDING_SHIPMENT orders that still have no delivery
// after stale_after_ms are flagged too. CANCELLED orders whose delivery has not been read
// back as cancelled are checked as well (cancelled again while it is live; a refusal goes
// to review), so a cancelled order never keeps a live delivery. One order's failure is logged and
// counted, never stops the run; an open delivery breaker ends it early. The outcome (HEALTHY,
// DEGRADED when some orders failed or were not reached, FAILED when nothing could be checked) is
// kept in memory and in reconciliation_runs. Orders are read and written a page at a time.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "clients/delivery_client.h"
#include "jobs/background_job.h"
#include "node/context.h"
#include "observability/logger.h"
#include "outbox/outbox.h"
#include "outpost/clock.h"
#include "reconciliation/reconciliation_store.h"
#include "resilience/circuit_breaker.h"
#include "store/store.h"

namespace outpost::reconciliation {

inline constexpr const char* kHealthy = "HEALTHY";
inline constexpr const char* kDegraded = "DEGRADED";
inline constexpr const char* kFailed = "FAILED";

struct ReconcilerDependencies {
  const node::Context& node;
  resilience::CircuitBreaker& breaker;  // the delivery service's
  clients::DeliveryClient& client;
  std::int64_t interval_ms = 300000;
  std::int64_t stale_after_ms = 86400000;
  int page_size = 100;
};

class Reconciler final : public jobs::BackgroundJob {
 public:
  explicit Reconciler(ReconcilerDependencies deps) : deps_(std::move(deps)) {}

  // One whole run; `stop_requested` is checked between orders.
  RunRecord reconcile(const jobs::StopRequested& stop_requested);

  // For the job runner: a run, then the interval.
  std::chrono::milliseconds runPass(const jobs::StopRequested& stop_requested) override;

  // The last run's outcome in this process; before the first, `stored` (the last run
  // recorded in the file), else HEALTHY.
  std::string lastStatus(const std::optional<std::string>& stored = std::nullopt) const;

  // What one order's delivery status calls for (public for the helpers in the .cpp).
  struct Decision;

 private:
  struct RunState;
  // nullopt when the answer says nothing about the order (the call failed).
  std::optional<Decision> judge(const Candidate& candidate, const clients::DeliveryAnswer& answer);
  using ReadPage = std::function<std::vector<Candidate>(store::Connection&,
                                                        const std::string& after, int limit)>;
  // Reads candidates a page at a time (ids after the last one seen) and hands each page
  // on, until a short page, an open breaker, a store that cannot be read, or a stop.
  void forEachPage(RunState& run, const jobs::StopRequested& stop_requested,
                   const std::string& what, const ReadPage& read_page,
                   const std::function<void(const std::vector<Candidate>&)>& handle);
  void reconcilePage(const std::vector<Candidate>& page, RunState& run,
                     const std::function<bool()>& stop_requested);
  Status apply(const std::vector<Decision>& decisions, RunState& run);
  void applyStatus(store::Connection& c, const Decision& decision,
                   const outbox::EventContext& context);
  void verifyCancellation(const Candidate& order, RunState& run);
  // Writes `change` if the order is still CANCELLED; false when the write failed.
  bool recordCancellation(const Candidate& order, RunState& run,
                          const std::function<void(store::Connection&, std::int64_t)>& change);
  bool markVerified(const Candidate& order, RunState& run);
  void breakerOpened(RunState& run);
  void orderFailed(const Candidate& order, const std::string& error, RunState& run);
  void flagStaleOrders(RunState& run);
  RunRecord finish(RunState& run);

  ReconcilerDependencies deps_;
  mutable std::mutex mutex_;
  std::optional<std::string> last_status_;  // none before this process's first run
};

}  // namespace outpost::reconciliation
