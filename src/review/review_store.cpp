#include "review/review_store.h"

namespace outpost::review {
namespace {

// Derives the order's flag and reason from its open items.
void refreshOrderFlag(store::Connection& connection, const std::string& order_id,
                      std::int64_t now_millis) {
  auto update = connection.prepare(
      "UPDATE orders SET"
      " requires_manual_review = EXISTS (SELECT 1 FROM review_items"
      "   WHERE order_id = ?1 AND resolved_at IS NULL),"
      " review_reason = (SELECT reason FROM review_items WHERE order_id = ?1"
      "   AND resolved_at IS NULL ORDER BY updated_at DESC, id DESC LIMIT 1),"
      " updated_at = ?2"
      " WHERE id = ?1");
  update->bind(1, order_id);
  update->bind(2, now_millis);
  update->exec();
}

}  // namespace

void flagForReview(store::Connection& connection, const std::string& order_id,
                   const std::string& kind, const std::string& reason, std::int64_t now_millis) {
  {
    auto open = connection.prepare(
        "INSERT INTO review_items (order_id, kind, reason, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (order_id, kind) WHERE resolved_at IS NULL"
        " DO UPDATE SET reason = excluded.reason, updated_at = excluded.updated_at");
    open->bind(1, order_id);
    open->bind(2, kind);
    open->bind(3, reason);
    open->bind(4, now_millis);
    open->bind(5, now_millis);
    open->exec();
  }
  refreshOrderFlag(connection, order_id, now_millis);
}

void resolveReview(store::Connection& connection, const std::string& order_id,
                   const std::string& kind, const std::string& resolution,
                   std::int64_t now_millis) {
  {
    auto resolve = connection.prepare(
        "UPDATE review_items SET resolved_at = ?, resolution = ?, updated_at = ?"
        " WHERE order_id = ? AND kind = ? AND resolved_at IS NULL");
    resolve->bind(1, now_millis);
    resolve->bind(2, resolution);
    resolve->bind(3, now_millis);
    resolve->bind(4, order_id);
    resolve->bind(5, kind);
    resolve->exec();
  }
  refreshOrderFlag(connection, order_id, now_millis);
}

}  // namespace outpost::review
