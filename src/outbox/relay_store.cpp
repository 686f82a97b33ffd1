#include "outbox/relay_store.h"

namespace outpost::outbox {

std::vector<DueEvent> dueEvents(store::Connection& connection, std::int64_t now_millis, int limit) {
  auto query = connection.prepare(
      "SELECT e.seq, e.id, e.event_type, e.aggregate_id, e.event_data, e.retry_count, e.sent_to"
      " FROM outbox_events e"
      " WHERE e.status = 'PENDING' AND e.next_attempt_at <= ?1"
      " AND NOT EXISTS (SELECT 1 FROM outbox_events earlier"
      "   WHERE earlier.aggregate_id = e.aggregate_id AND earlier.status = 'PENDING'"
      "   AND earlier.seq < e.seq)"
      " ORDER BY e.seq LIMIT ?2");
  query->bind(1, now_millis);
  query->bind(2, limit);
  std::vector<DueEvent> events;
  while (query->executeStep()) {
    events.push_back({query->getColumn(0).getInt64(), query->getColumn(1).getString(),
                      query->getColumn(2).getString(), query->getColumn(3).getString(),
                      query->getColumn(4).getString(), query->getColumn(5).getInt(),
                      query->getColumn(6).getInt()});
  }
  return events;
}

std::optional<std::int64_t> nextEventDueAt(store::Connection& connection, std::int64_t now_millis) {
  auto query = connection.prepare(
      "SELECT MIN(next_attempt_at) FROM outbox_events"
      " WHERE status = 'PENDING' AND next_attempt_at > ?");
  query->bind(1, now_millis);
  if (!query->executeStep() || query->getColumn(0).isNull()) return std::nullopt;
  return query->getColumn(0).getInt64();
}

int bringEventsForward(store::Connection& connection, std::int64_t now_millis) {
  auto update = connection.prepare(
      "UPDATE outbox_events SET next_attempt_at = ?1"
      " WHERE status = 'PENDING' AND next_attempt_at > ?1");
  update->bind(1, now_millis);
  return update->exec();
}

void markSent(store::Connection& connection, std::int64_t seq, int sent_to,
              std::int64_t now_millis) {
  auto update = connection.prepare(
      "UPDATE outbox_events SET status = 'SENT', sent_at = ?, sent_to = ?, last_error = NULL"
      " WHERE seq = ? AND status = 'PENDING'");
  update->bind(1, now_millis);
  update->bind(2, sent_to);
  update->bind(3, seq);
  update->exec();
}

void markPartlySent(store::Connection& connection, std::int64_t seq, int sent_to) {
  auto update = connection.prepare(
      "UPDATE outbox_events SET sent_to = ? WHERE seq = ? AND status = 'PENDING'");
  update->bind(1, sent_to);
  update->bind(2, seq);
  update->exec();
}

void markRejected(store::Connection& connection, std::int64_t seq, int sent_to,
                  const std::string& error, bool give_up, std::int64_t retry_at_millis) {
  auto update = connection.prepare(
      "UPDATE outbox_events SET sent_to = ?, retry_count = retry_count + 1, last_error = ?,"
      " status = CASE WHEN ? THEN 'FAILED' ELSE 'PENDING' END, next_attempt_at = ?"
      " WHERE seq = ? AND status = 'PENDING'");
  update->bind(1, sent_to);
  update->bind(2, error);
  update->bind(3, give_up ? 1 : 0);
  update->bind(4, retry_at_millis);
  update->bind(5, seq);
  update->exec();
}

}  // namespace outpost::outbox
