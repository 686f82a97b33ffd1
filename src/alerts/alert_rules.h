// The three alerts of SPEC §5 and when each holds. Pure: the checker supplies the figures.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "observability/reliability.h"

namespace outpost::alerts {

inline constexpr const char* kCircuitBreakerOpen = "CIRCUIT_BREAKER_OPEN";
inline constexpr const char* kOutboxBacklog = "OUTBOX_BACKLOG";
inline constexpr const char* kManualReviewBacklog = "MANUAL_REVIEW_BACKLOG";
inline constexpr const char* kOutboxStale = "OUTBOX_STALE";
inline constexpr const char* kClockSkew = "CLOCK_SKEW";
// AWS refuses a signature more than 5 minutes off its clock (SPEC §11).
inline constexpr std::int64_t kClockSkewLimitMs = 5 * 60 * 1000;
inline constexpr const char* kDiskSpaceLow = "DISK_SPACE_LOW";

struct Thresholds {
  std::int64_t outbox_backlog = 100;        // alerts.outbox_backlog
  std::int64_t manual_review_backlog = 50;  // alerts.manual_review_backlog
  std::int64_t outbox_max_age_ms = 900000;  // alerts.outbox_max_age_ms
};

struct Condition {
  bool holds = false;
  nlohmann::json details;  // what the operator needs to see, held or not
};

// Every alert by name. CIRCUIT_BREAKER_OPEN holds while any breaker is not CLOSED:
// HALF_OPEN is a breaker still testing its service, so an outage that the breaker probes
// every reset_timeout_ms stays one alert. The backlogs hold when the count is strictly
// greater than the threshold. OUTBOX_STALE holds while the oldest PENDING event is older
// than outbox_max_age_ms and an events destination is configured: offline mode keeps
// events on purpose, so their age there is no alarm. CLOCK_SKEW holds while the AWS clock
// offset the node signs with is over kClockSkewLimitMs either way. DISK_SPACE_LOW holds while
// the database's filesystem has less free space than storage.min_free_bytes (never with no
// floor or no reading).
std::map<std::string, Condition> evaluate(const observability::ReliabilityFigures& figures,
                                          const Thresholds& thresholds);

}  // namespace outpost::alerts
