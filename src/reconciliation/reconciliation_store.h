// SQL of the reconciliation job. Functions run on the connection they are given and throw
// SQLite::Exception.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/connection.h"

namespace outpost::reconciliation {

// An order whose delivery the delivery service knows about and which is not final.
struct Candidate {
  std::string order_id;
  std::string status;
  std::string delivery_id;
  bool flagged = false;  // requires_manual_review
};

// Candidates with an id above `after` (empty: from the start), in id order; orders whose
// saga is COMPENSATING are left to the compensation.
std::vector<Candidate> ordersToReconcile(store::Connection& connection, const std::string& after,
                                         int limit);

// CANCELLED orders whose delivery has not been read back as cancelled yet (the mark of
// schema/007), with an id above `after`, in id order.
std::vector<Candidate> cancelledToVerify(store::Connection& connection, const std::string& after,
                                         int limit);

// PENDING_SHIPMENT orders created before `created_before` that still have no delivery and
// are not flagged yet.
std::vector<std::string> staleWithoutDelivery(store::Connection& connection,
                                              std::int64_t created_before, int limit);

// An order as it is at the moment of a write, to re-check a decision made on an older read.
struct OrderNow {
  std::string status;
  bool has_delivery = false;
  std::string saga_state;
};
std::optional<OrderNow> orderNow(store::Connection& connection, const std::string& order_id);

struct RunRecord {
  std::int64_t started_at = 0;
  std::int64_t finished_at = 0;
  std::string status;  // HEALTHY, DEGRADED, FAILED
  int checked = 0;
  int reconciled = 0;
  int flagged = 0;
  int failed = 0;
  std::string error;  // empty when none
};

// Records a run and keeps the last `keep` runs.
void recordRun(store::Connection& connection, const RunRecord& run, int keep);

std::optional<RunRecord> lastRun(store::Connection& connection);

}  // namespace outpost::reconciliation
