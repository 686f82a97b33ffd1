#include "alerts/alert_checker.h"

#include "common/text.h"
#include "outbox/outbox.h"

namespace outpost::alerts {

using nlohmann::json;

AlertChecker::AlertChecker(AlertCheckerDependencies deps) : deps_(std::move(deps)) {}

Status AlertChecker::loadOnce() {
  if (loaded_) return okStatus();
  auto stored = deps_.node.store.read([](store::Connection& c) { return loadActiveAlerts(c); });
  if (!stored) return stored.error();
  std::lock_guard lock(mutex_);
  for (auto& alert : *stored) active_[alert.name] = std::move(alert);
  loaded_ = true;
  return okStatus();
}

std::chrono::milliseconds AlertChecker::runPass(const jobs::StopRequested&) {
  const std::chrono::milliseconds next_check(deps_.check_interval_ms);
  const auto figures = deps_.figures();
  // Without the database nothing true can be said about its backlogs, and no change could
  // be recorded: the check waits for it (/health already says UNAVAILABLE).
  if (!figures.database_available || !loadOnce()) return next_check;
  std::vector<Change> changes;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, condition] : evaluate(figures, deps_.thresholds)) {
      auto active = active_.find(name);
      const bool was_active = active != active_.end();
      if (condition.holds && was_active) active->second.details = condition.details;
      if (condition.holds != was_active)
        changes.push_back({name, condition.holds, condition.details});
    }
  }
  if (changes.empty()) return next_check;
  const std::int64_t now = deps_.node.clock.wallMillis();
  auto written = record(changes, now);
  if (!written) {
    if (!failing_) {
      deps_.node.log.error("cannot record an alert change; trying again at the next check",
                      {{"error", written.error().message}});
    }
    failing_ = true;
    return next_check;
  }
  failing_ = false;
  {
    std::lock_guard lock(mutex_);
    for (const auto& change : changes) {
      if (change.raised) {
        active_[change.alert] = {change.alert, change.details, now};
      } else {
        active_.erase(change.alert);
      }
    }
  }
  announce(changes);
  if (deps_.webhook_configured && deps_.wake_webhook) deps_.wake_webhook();
  return next_check;
}

Status AlertChecker::record(const std::vector<Change>& changes, std::int64_t now) {
  return deps_.node.store.write([&](store::Connection& c) {
    const outbox::EventContext context{deps_.node.node_id, now, deps_.node.random};
    for (const auto& change : changes) {
      if (change.raised) {
        saveRaisedAlert(c, {change.alert, change.details, now});
      } else {
        deleteActiveAlert(c, change.alert);
      }
      const json body = {{"alert", change.alert},
                         {"state", change.raised ? "RAISED" : "CLEARED"},
                         {"details", change.details},
                         {"at", formatTimestamp(now)},
                         {"nodeId", deps_.node.node_id}};
      outbox::appendEvent(c, {change.raised ? kAlertRaised : kAlertCleared, change.alert, body},
                          context);
      if (deps_.webhook_configured) queueWebhookCall(c, body, now);
    }
    return okStatus();
  });
}

void AlertChecker::announce(const std::vector<Change>& changes) {
  for (const auto& change : changes) {
    const json fields = {{"alert", change.alert}, {"details", change.details}};
    if (change.raised) {
      deps_.node.log.warn("alert raised", fields);
    } else {
      deps_.node.log.info("alert cleared", fields);
    }
  }
}

std::vector<json> AlertChecker::active() const {
  std::lock_guard lock(mutex_);
  std::vector<json> alerts;
  for (const auto& [name, alert] : active_) alerts.push_back(alertJson(alert));
  return alerts;
}

}  // namespace outpost::alerts
