// SQL of the alerts: the active ones (active_alerts) and the webhook calls still to make
// (alert_webhooks), schema/006. Every function throws SQLite::Exception; run them through
// Store::read or Store::write.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/connection.h"

namespace outpost::alerts {

struct ActiveAlert {
  std::string name;
  nlohmann::json details;
  std::int64_t raised_at = 0;
};

// {"alert", "details", "raisedAt"}: how /health and `outpost status` show an alert.
nlohmann::json alertJson(const ActiveAlert& alert);

std::vector<ActiveAlert> loadActiveAlerts(store::Connection& connection);
void saveRaisedAlert(store::Connection& connection, const ActiveAlert& alert);
void deleteActiveAlert(store::Connection& connection, const std::string& name);

struct WebhookCall {
  std::int64_t id = 0;
  std::string body;
  int attempts = 0;
  std::int64_t next_attempt_at = 0;
};

void queueWebhookCall(store::Connection& connection, const nlohmann::json& body,
                      std::int64_t now_millis);
// The oldest call still to make: calls go out in the order the alerts changed.
std::optional<WebhookCall> oldestWebhookCall(store::Connection& connection);
// Answered or given up on.
void deleteWebhookCall(store::Connection& connection, std::int64_t id);
void retryWebhookCallLater(store::Connection& connection, std::int64_t id, int attempts,
                           std::int64_t next_attempt_at, const std::string& error);

}  // namespace outpost::alerts
