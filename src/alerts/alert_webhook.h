// AlertWebhook: POSTs each alert change to alerts.webhook_url (SPEC §5), on its own job
// thread so that a slow or dead receiver never holds up the alert checker. Calls are
// durable (alert_webhooks, written with the change) and go out oldest first: a call that
// fails is retried with backoff before any later one is made, so a receiver always sees an
// alert's RAISED before its CLEARED. A call is given up after kMaxWebhookAttempts attempts
// (about an hour) or at once when the receiver refuses it (a 4xx other than 408 and 429);
// either is logged as an error, and the change is still in the outbox.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "clients/http_client.h"
#include "jobs/background_job.h"
#include "node/context.h"
#include "observability/logger.h"
#include "outpost/clock.h"
#include "resilience/backoff.h"
#include "store/store.h"

namespace outpost::alerts {

inline constexpr int kMaxWebhookAttempts = 20;
inline constexpr resilience::BackoffPolicy kWebhookBackoff{1000, 300000};
inline constexpr std::int64_t kWebhookTimeoutMs = 5000;

struct AlertWebhookDependencies {
  const node::Context& node;
  clients::HttpClient& http;
  std::string url;
};

class AlertWebhook final : public jobs::BackgroundJob {
 public:
  explicit AlertWebhook(AlertWebhookDependencies deps) : deps_(std::move(deps)) {}

  // Makes the due calls, oldest first, until one fails, none is due, or `stop_requested`
  // says so; returns the delay until the next call is due.
  std::chrono::milliseconds runPass(const jobs::StopRequested& stop_requested) override;

 private:
  AlertWebhookDependencies deps_;
};

}  // namespace outpost::alerts
