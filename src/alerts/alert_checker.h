// AlertChecker: every alerts.check_interval_ms, looks at the node's figures and raises an
// alert when its condition starts and clears it when it ends (SPEC §5), never at each
// check in between. A change is one transaction: the active_alerts row, an ALERT_RAISED or
// ALERT_CLEARED event in the outbox, and the webhook call when alerts.webhook_url is set.
// Only after it commits come the log line and what /health shows, so every face of an
// alert says the same. The webhook itself is called by AlertWebhook, never from here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alerts/alert_rules.h"
#include "alerts/alert_store.h"
#include "jobs/background_job.h"
#include "node/context.h"
#include "observability/logger.h"
#include "observability/reliability.h"
#include "outpost/clock.h"
#include "outpost/result.h"
#include "store/store.h"

namespace outpost::alerts {

inline constexpr const char* kAlertRaised = "ALERT_RAISED";
inline constexpr const char* kAlertCleared = "ALERT_CLEARED";

struct AlertCheckerDependencies {
  const node::Context& node;
  Thresholds thresholds;
  std::int64_t check_interval_ms = 60000;
  bool webhook_configured = false;
  // The figures to check (their `alerts` are not read).
  std::function<observability::ReliabilityFigures()> figures;
  // Called after a change that queued a webhook call.
  std::function<void()> wake_webhook;
};

class AlertChecker final : public jobs::BackgroundJob {
 public:
  explicit AlertChecker(AlertCheckerDependencies deps);

  // One check; returns the delay until the next one.
  std::chrono::milliseconds runPass(const jobs::StopRequested& stop_requested) override;
  // The active alerts as /health shows them: {"alert", "details", "raisedAt"}, the details
  // as of the last check. Thread-safe.
  std::vector<nlohmann::json> active() const;

 private:
  struct Change {
    std::string alert;
    bool raised = false;
    nlohmann::json details;
  };
  Status loadOnce();
  Status record(const std::vector<Change>& changes, std::int64_t now);
  void announce(const std::vector<Change>& changes);

  AlertCheckerDependencies deps_;
  bool loaded_ = false;
  bool failing_ = false;  // the last change could not be written; logged once per streak
  mutable std::mutex mutex_;
  std::map<std::string, ActiveAlert> active_;
};

}  // namespace outpost::alerts
