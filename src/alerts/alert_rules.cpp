#include "alerts/alert_rules.h"

#include <cstdlib>
#include <vector>

namespace outpost::alerts {

std::map<std::string, Condition> evaluate(const observability::ReliabilityFigures& figures,
                                          const Thresholds& thresholds) {
  std::vector<std::string> not_closed;
  for (const auto& [name, state] : figures.circuit_breaker_states) {
    if (state != "CLOSED") not_closed.push_back(name);
  }
  const auto pending = figures.stored.outbox_events_pending;
  const auto reviews = figures.stored.manual_review_queue_length;
  return {
      {kCircuitBreakerOpen, {!not_closed.empty(), {{"services", not_closed}}}},
      {kOutboxBacklog,
       {pending > thresholds.outbox_backlog,
        {{"pendingCount", pending}, {"threshold", thresholds.outbox_backlog}}}},
      {kManualReviewBacklog,
       {reviews > thresholds.manual_review_backlog,
        {{"queueLength", reviews}, {"threshold", thresholds.manual_review_backlog}}}},
      {kClockSkew,
       {std::abs(figures.clock_skew_ms) > kClockSkewLimitMs, {{"skewMs", figures.clock_skew_ms}}}},
  };
}

}  // namespace outpost::alerts
