#include "alerts/heartbeat.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/text.h"

namespace outpost::alerts {
namespace {

using std::chrono::milliseconds;

const char* outcomeOf(const clients::HttpResponse& answer) {
  if (answer.call_class == clients::CallClass::kSuccess) return kHeartbeatOk;
  return answer.timed_out ? kHeartbeatTimeout : kHeartbeatFailed;
}

}  // namespace

std::int64_t heartbeatTimeoutMs(std::int64_t interval_ms) {
  return std::clamp<std::int64_t>(interval_ms / 2, 1, kMaxHeartbeatTimeoutMs);
}

milliseconds Heartbeat::runPass(const jobs::StopRequested& stop_requested) {
  const milliseconds interval(deps_.interval_ms);
  if (!start_) start_ = deps_.node.clock.steadyNow();
  const auto due = *start_ + interval * next_beat_;
  if (const auto now = deps_.node.clock.steadyNow(); now < due) {
    return std::chrono::ceil<milliseconds>(due - now);
  }
  beat(stop_requested);
  // By the clock, not from the end of this beat: a slow receiver never drifts the schedule.
  const auto after = deps_.node.clock.steadyNow();
  next_beat_ = (after - *start_) / interval + 1;
  return std::chrono::ceil<milliseconds>(*start_ + interval * next_beat_ - after);
}

void Heartbeat::beat(const jobs::StopRequested& stop_requested) {
  const auto figures = deps_.figures();
  const nlohmann::json body = {
      {"nodeId", deps_.node.node_id},
      {"status", observability::overallStatus(figures)},
      {"outboxEventsPending", figures.stored.outbox_events_pending},
      {"outboxOldestPendingAgeSeconds", figures.outbox_oldest_pending_age_seconds},
      {"at", formatTimestamp(deps_.node.clock.wallMillis())}};
  clients::HttpRequest request;
  request.method = "POST";
  request.url = deps_.url;
  request.body = body.dump();
  request.timeout_ms = heartbeatTimeoutMs(deps_.interval_ms);
  request.connect_timeout_ms = std::min(request.connect_timeout_ms, request.timeout_ms);
  request.cancelled = stop_requested;
  const auto answer = deps_.http.send(request);
  if (answer.cancelled) return;  // shutting down: no fault of the receiver
  const char* outcome = outcomeOf(answer);
  deps_.node.metrics.heartbeat(outcome);
  note(outcome, answer.error);
}

void Heartbeat::note(const char* outcome, const std::string& error) {
  const bool ok = std::string_view(outcome) == kHeartbeatOk;
  if (!ok && !failing_) {
    deps_.node.log.warn("heartbeat failed; the next one is still sent on time",
                        {{"outcome", outcome}, {"error", error}});
  } else if (ok && failing_) {
    deps_.node.log.info("heartbeat answered again");
  }
  failing_ = !ok;
}

}  // namespace outpost::alerts
