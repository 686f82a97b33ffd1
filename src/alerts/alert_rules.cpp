#include "alerts/alert_rules.h"

#include <vector>

namespace outpost::alerts {
namespace {

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
      {kDiskSpaceLow, {figures.disk.belowFloor(), diskDetails(figures.disk)}},
  };
}

}  // namespace outpost::alerts
