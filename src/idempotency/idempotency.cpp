#include "idempotency/idempotency.h"

namespace outpost::idempotency {

std::optional<StoredResponse> findResponse(store::Connection& connection, const std::string& key,
                                           std::int64_t not_before_millis) {
  auto query = connection.prepare(
      "SELECT request_hash, response_status, response_body, resource_id FROM idempotency_keys"
      " WHERE key = ? AND created_at >= ?");
  query->bind(1, key);
  query->bind(2, not_before_millis);
  if (!query->executeStep()) return std::nullopt;
  return StoredResponse{query->getColumn(0).getString(), query->getColumn(1).getInt(),
                        query->getColumn(2).getString(), query->getColumn(3).getString()};
}

void saveResponse(store::Connection& connection, const std::string& key,
                  const StoredResponse& response, std::int64_t now_millis,
                  std::int64_t not_before_millis) {
  {
    auto expire =
        connection.prepare("DELETE FROM idempotency_keys WHERE key = ? AND created_at < ?");
    expire->bind(1, key);
    expire->bind(2, not_before_millis);
    expire->exec();
  }
  auto insert = connection.prepare(
      "INSERT INTO idempotency_keys (key, request_hash, response_status, response_body,"
      " resource_id, created_at) VALUES (?, ?, ?, ?, ?, ?)");
  insert->bind(1, key);
  insert->bind(2, response.request_hash);
  insert->bind(3, response.status);
  insert->bind(4, response.body);
  insert->bind(5, response.resource_id);
  insert->bind(6, now_millis);
  insert->exec();
}

void refreshResponseBody(store::Connection& connection, const std::string& resource_id,
                         const std::string& body) {
  auto update =
      connection.prepare("UPDATE idempotency_keys SET response_body = ? WHERE resource_id = ?");
  update->bind(1, body);
  update->bind(2, resource_id);
  update->exec();
}

int pruneExpired(store::Connection& connection, std::int64_t before_millis, int limit) {
  auto prune = connection.prepare(
      "DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys"
      " WHERE created_at < ? LIMIT ?)");
  prune->bind(1, before_millis);
  prune->bind(2, limit);
  return prune->exec();
}

bool InFlightKeys::tryClaim(const std::string& key) {
  std::lock_guard lock(mutex_);
  return keys_.insert(key).second;
}

void InFlightKeys::release(const std::string& key) {
  std::lock_guard lock(mutex_);
  keys_.erase(key);
}

}  // namespace outpost::idempotency
