#include "reconciliation/reconciliation_store.h"

namespace outpost::reconciliation {
namespace {

// Runs a query of (id, status, delivery_id, requires_manual_review) whose parameters are
// the id to start after and the page size.
std::vector<Candidate> candidatesAfter(SQLite::Statement& query, const std::string& after,
                                       int limit) {
  query.bind(1, after);
  query.bind(2, limit);
  std::vector<Candidate> candidates;
  while (query.executeStep()) {
    candidates.push_back({query.getColumn(0).getString(), query.getColumn(1).getString(),
                          query.getColumn(2).getString(), query.getColumn(3).getInt() != 0});
  }
  return candidates;
}

}  // namespace

std::vector<Candidate> ordersToReconcile(store::Connection& connection, const std::string& after,
                                         int limit) {
  // The WHERE repeats orders_to_reconcile's, so that its partial index answers. Orders
  // being cancelled are the compensation's.
  auto query = connection.prepare(
      "SELECT id, status, delivery_id, requires_manual_review FROM orders"
      " WHERE delivery_id IS NOT NULL AND status NOT IN ('DELIVERED', 'CANCELLED') AND id > ?"
      " AND saga_state != 'COMPENSATING'"
      " ORDER BY id LIMIT ?");
  return candidatesAfter(*query, after, limit);
}

std::vector<Candidate> cancelledToVerify(store::Connection& connection, const std::string& after,
                                         int limit) {
  auto query = connection.prepare(
      "SELECT id, status, delivery_id, requires_manual_review FROM orders"
      " WHERE delivery_cancel_unverified = 1 AND id > ? ORDER BY id LIMIT ?");
  return candidatesAfter(*query, after, limit);
}

std::vector<std::string> staleWithoutDelivery(store::Connection& connection,
                                              std::int64_t created_before, int limit) {
  auto query = connection.prepare(
      "SELECT id FROM orders WHERE status = 'PENDING_SHIPMENT' AND delivery_id IS NULL"
      " AND requires_manual_review = 0 AND created_at < ? ORDER BY id LIMIT ?");
  query->bind(1, created_before);
  query->bind(2, limit);
  std::vector<std::string> ids;
  while (query->executeStep()) ids.push_back(query->getColumn(0).getString());
  return ids;
}

std::optional<OrderNow> orderNow(store::Connection& connection, const std::string& order_id) {
  auto query = connection.prepare(
      "SELECT status, delivery_id IS NOT NULL,"
      " saga_state"
      " FROM orders WHERE id = ?");
  query->bind(1, order_id);
  if (!query->executeStep()) return std::nullopt;
  return OrderNow{query->getColumn(0).getString(), query->getColumn(1).getInt() != 0,
                  query->getColumn(2).getString()};
}

void recordRun(store::Connection& connection, const RunRecord& run, int keep) {
  {
    auto insert = connection.prepare(
        "INSERT INTO reconciliation_runs (started_at, finished_at, status, checked, reconciled,"
        " flagged, failed, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    insert->bind(1, run.started_at);
    insert->bind(2, run.finished_at);
    insert->bind(3, run.status);
    insert->bind(4, run.checked);
    insert->bind(5, run.reconciled);
    insert->bind(6, run.flagged);
    insert->bind(7, run.failed);
    if (run.error.empty()) {
      insert->bind(8);
    } else {
      insert->bind(8, run.error);
    }
    insert->exec();
  }
  auto prune = connection.prepare(
      "DELETE FROM reconciliation_runs WHERE id <= (SELECT MAX(id) FROM reconciliation_runs) - ?");
  prune->bind(1, keep);
  prune->exec();
}

std::optional<RunRecord> lastRun(store::Connection& connection) {
  auto query = connection.prepare(
      "SELECT started_at, finished_at, status, checked, reconciled, flagged, failed, error"
      " FROM reconciliation_runs ORDER BY id DESC LIMIT 1");
  if (!query->executeStep()) return std::nullopt;
  RunRecord run;
  run.started_at = query->getColumn(0).getInt64();
  run.finished_at = query->getColumn(1).getInt64();
  run.status = query->getColumn(2).getString();
  run.checked = query->getColumn(3).getInt();
  run.reconciled = query->getColumn(4).getInt();
  run.flagged = query->getColumn(5).getInt();
  run.failed = query->getColumn(6).getInt();
  if (!query->getColumn(7).isNull()) run.error = query->getColumn(7).getString();
  return run;
}

}  // namespace outpost::reconciliation
