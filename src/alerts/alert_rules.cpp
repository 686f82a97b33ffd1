#include "alerts/alert_rules.h"

#include <cstdlib>
#include <vector>

namespace outpost::alerts {
namespace {

bool eventsConfigured(const observability::ReliabilityFigures& figures) {
  auto events = figures.services.find("events");
  return events != figures.services.end() && events->second == "configured";
}

// Whole seconds stay integers in the details; a test's sub-second threshold does not.
nlohmann::json seconds(std::int64_t ms) {
  if (ms % 1000 == 0) return ms / 1000;
  return static_cast<double>(ms) / 1000.0;
}

nlohmann::json diskDetails(const store::DiskReading& disk) {
  return {{"freeBytes", disk.free_bytes ? nlohmann::json(*disk.free_bytes) : nlohmann::json()},
          {"floorBytes", disk.floor_bytes}};
}

}  // namespace

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
      {kOutboxStale,
       {eventsConfigured(figures) &&
            figures.outbox_oldest_pending_age_ms > thresholds.outbox_max_age_ms,
        {{"oldestAgeSeconds", figures.outbox_oldest_pending_age_seconds},
         {"thresholdSeconds", seconds(thresholds.outbox_max_age_ms)}}}},
      {kClockSkew,
       {std::abs(figures.clock_skew_ms) > kClockSkewLimitMs, {{"skewMs", figures.clock_skew_ms}}}},
      {kDiskSpaceLow, {figures.disk.belowFloor(), diskDetails(figures.disk)}},
  };
}

}  // namespace outpost::alerts
