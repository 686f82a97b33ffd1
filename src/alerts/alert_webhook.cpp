#include "alerts/alert_webhook.h"

#include <algorithm>

#include "alerts/alert_store.h"
#include "jobs/job_pacing.h"

namespace outpost::alerts {
namespace {

// Nothing queued: the checker wakes this job when it queues a call; the poll is a backstop.
using jobs::kIdleDelay;
using jobs::kStoreDownDelay;
using std::chrono::milliseconds;

}  // namespace

milliseconds AlertWebhook::runPass(const jobs::StopRequested& stop_requested) {
  while (!stop_requested()) {
    auto next = deps_.node.store.read([](store::Connection& c) { return oldestWebhookCall(c); });
    if (!next) return kStoreDownDelay;
    if (!*next) return kIdleDelay;
    const WebhookCall call = **next;
    const std::int64_t now = deps_.node.clock.wallMillis();
    if (call.next_attempt_at > now) return milliseconds(call.next_attempt_at - now);

    clients::HttpRequest request;
    request.method = "POST";
    request.url = deps_.url;
    request.body = call.body;
    request.timeout_ms = kWebhookTimeoutMs;
    request.cancelled = stop_requested;
    const auto answer = deps_.http.send(request);
    if (answer.cancelled) return kIdleDelay;

    const int attempts = call.attempts + 1;
    const bool done = answer.call_class == clients::CallClass::kSuccess;
    const bool give_up = !done && (answer.call_class == clients::CallClass::kPermanent ||
                                   attempts >= kMaxWebhookAttempts);
    const std::int64_t retry_at =
        deps_.node.clock.wallMillis() +
        resilience::backoffDelayMs(kWebhookBackoff, attempts, deps_.node.random);
    auto written = deps_.node.store.write([&](store::Connection& c) {
      if (done || give_up) {
        deleteWebhookCall(c, call.id);
      } else {
        retryWebhookCallLater(c, call.id, attempts, retry_at, answer.error);
      }
      return okStatus();
    });
    if (!written) return kStoreDownDelay;
    if (done) continue;
    const nlohmann::json fields = {{"attempts", attempts}, {"error", answer.error}};
    if (give_up) {
      deps_.node.log.error("alert webhook call given up; the alert is still in the outbox", fields);
      continue;
    }
    deps_.node.log.warn("alert webhook call failed; retrying", fields);
    return milliseconds(std::max<std::int64_t>(retry_at - deps_.node.clock.wallMillis(), 1));
  }
  return kIdleDelay;
}

}  // namespace outpost::alerts
