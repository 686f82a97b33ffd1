#include "store/review_records.h"

namespace outpost::store {
namespace {

// Derives the order's flag and reason from its open items.
void refreshOrderFlag(Connection& connection, const std::string& order_id,
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

void flagForReview(Connection& connection, const std::string& order_id, const std::string& kind,
                   const std::string& reason, std::int64_t now_millis) {
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

void resolveReview(Connection& connection, const std::string& order_id, const std::string& kind,
                   const std::string& resolution, std::int64_t now_millis) {
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

ReviewPage listOpenReviews(Connection& connection, const ReviewFilter& filter) {
  auto query = connection.prepare(
      "SELECT id, order_id, kind, reason, created_at FROM review_items"
      " WHERE resolved_at IS NULL AND id > ? ORDER BY id LIMIT ?");
  query->bind(1, filter.after.value_or(0));
  query->bind(2, filter.limit + 1);  // one more than asked tells whether a next page exists
  ReviewPage page;
  while (query->executeStep()) {
    page.items.push_back({query->getColumn(0).getInt64(), query->getColumn(1).getString(),
                          query->getColumn(2).getString(), query->getColumn(3).getString(),
                          query->getColumn(4).getInt64()});
  }
  if (page.items.size() > static_cast<std::size_t>(filter.limit)) {
    page.items.pop_back();
    page.next = page.items.back().id;
  }
  return page;
}

int resolveAllReviews(Connection& connection, const std::string& order_id,
                      const std::string& resolution, const std::string& note,
                      std::int64_t now_millis) {
  int resolved = 0;
  {
    auto resolve = connection.prepare(
        "UPDATE review_items SET resolved_at = ?, resolution = ?, note = ?, updated_at = ?"
        " WHERE order_id = ? AND resolved_at IS NULL");
    resolve->bind(1, now_millis);
    resolve->bind(2, resolution);
    resolve->bind(3, note);
    resolve->bind(4, now_millis);
    resolve->bind(5, order_id);
    resolved = resolve->exec();
  }
  if (resolved > 0) refreshOrderFlag(connection, order_id, now_millis);
  return resolved;
}

}  // namespace outpost::store
