#include "alerts/alert_store.h"

#include "common/text.h"

namespace outpost::alerts {

nlohmann::json alertJson(const ActiveAlert& alert) {
  return {{"alert", alert.name},
          {"details", alert.details},
          {"raisedAt", formatTimestamp(alert.raised_at)}};
}

std::vector<ActiveAlert> loadActiveAlerts(store::Connection& connection) {
  auto query =
      connection.prepare("SELECT name, details, raised_at FROM active_alerts ORDER BY name");
  std::vector<ActiveAlert> alerts;
  while (query->executeStep()) {
    alerts.push_back({query->getColumn(0).getString(),
                      nlohmann::json::parse(query->getColumn(1).getString(), nullptr, false),
                      query->getColumn(2).getInt64()});
  }
  return alerts;
}

void saveRaisedAlert(store::Connection& connection, const ActiveAlert& alert) {
  auto insert = connection.prepare(
      "INSERT OR REPLACE INTO active_alerts (name, details, raised_at) VALUES (?, ?, ?)");
  insert->bind(1, alert.name);
  insert->bind(2, alert.details.dump());
  insert->bind(3, alert.raised_at);
  insert->exec();
}

void deleteActiveAlert(store::Connection& connection, const std::string& name) {
  auto remove = connection.prepare("DELETE FROM active_alerts WHERE name = ?");
  remove->bind(1, name);
  remove->exec();
}

void queueWebhookCall(store::Connection& connection, const nlohmann::json& body,
                      std::int64_t now_millis) {
  auto insert = connection.prepare(
      "INSERT INTO alert_webhooks (body, next_attempt_at, created_at) VALUES (?, ?, ?)");
  insert->bind(1, body.dump());
  insert->bind(2, now_millis);
  insert->bind(3, now_millis);
  insert->exec();
}

std::optional<WebhookCall> oldestWebhookCall(store::Connection& connection) {
  auto query = connection.prepare(
      "SELECT id, body, attempts, next_attempt_at FROM alert_webhooks ORDER BY id LIMIT 1");
  if (!query->executeStep()) return std::nullopt;
  return WebhookCall{query->getColumn(0).getInt64(), query->getColumn(1).getString(),
                     query->getColumn(2).getInt(), query->getColumn(3).getInt64()};
}

void deleteWebhookCall(store::Connection& connection, std::int64_t id) {
  auto remove = connection.prepare("DELETE FROM alert_webhooks WHERE id = ?");
  remove->bind(1, id);
  remove->exec();
}

void retryWebhookCallLater(store::Connection& connection, std::int64_t id, int attempts,
                           std::int64_t next_attempt_at, const std::string& error) {
  auto update = connection.prepare(
      "UPDATE alert_webhooks SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?");
  update->bind(1, attempts);
  update->bind(2, next_attempt_at);
  update->bind(3, error);
  update->bind(4, id);
  update->exec();
}

}  // namespace outpost::alerts
