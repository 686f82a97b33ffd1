#include "observability/reliability.h"

#include <algorithm>

namespace outpost::observability {
namespace {

// The counts schema/006's triggers keep, read in one statement so that they are of one
// moment (an event moving from PENDING to SENT is never counted twice or not at all).
std::map<std::string, std::int64_t> keptCounts(store::Connection& connection) {
  auto query = connection.prepare("SELECT name, n FROM figure_counts");
  std::map<std::string, std::int64_t> counts;
  while (query->executeStep())
    counts[query->getColumn(0).getString()] = query->getColumn(1).getInt64();
  return counts;
}

// The oldest PENDING event is the lowest seq among them: outbox_by_status (status, seq)
// finds it in one index step however long the backlog (a unit test checks the plan).
std::optional<std::int64_t> oldestPendingCreatedAt(store::Connection& connection) {
  auto query = connection.prepare(
      "SELECT created_at FROM outbox_events WHERE status = 'PENDING' ORDER BY seq LIMIT 1");
  if (!query->executeStep()) return std::nullopt;
  return query->getColumn(0).getInt64();
}

}  // namespace

StoredFigures readStoredFigures(store::Connection& connection) {
  StoredFigures figures;
  auto counts = keptCounts(connection);
  figures.outbox_events_pending = counts["outbox:PENDING"];
  figures.failed_event_count = counts["outbox:FAILED"];
  figures.manual_review_queue_length = counts["review:open"];
  figures.outbox_events_sent = counts["outbox:SENT"];
  {
    auto last =
        connection.prepare("SELECT status FROM reconciliation_runs ORDER BY id DESC LIMIT 1");
    if (last->executeStep()) figures.last_reconciliation_status = last->getColumn(0).getString();
  }
  auto breakers = connection.prepare("SELECT name, state FROM breaker_state");
  while (breakers->executeStep()) {
    figures.stored_breaker_states[breakers->getColumn(0).getString()] =
        breakers->getColumn(1).getString();
  }
  figures.oldest_pending_created_at = oldestPendingCreatedAt(connection);
  return figures;
}

ReliabilityFigures assembleFigures(const Config& config, const FigureInputs& inputs) {
  ReliabilityFigures figures;
  figures.database_available = static_cast<bool>(inputs.stored);
  if (inputs.stored) figures.stored = *inputs.stored;
  for (const auto& [name, settings] : config.breakers) {
    std::string state = "CLOSED";
    if (auto live = inputs.breaker_states.find(name); live != inputs.breaker_states.end()) {
      state = live->second;
    } else if (auto stored = figures.stored.stored_breaker_states.find(name);
               stored != figures.stored.stored_breaker_states.end()) {
      state = stored->second;
    }
    figures.circuit_breaker_states[name] = state;
  }
  figures.reconciliation_status = inputs.reconciliation_status.value_or(
      figures.stored.last_reconciliation_status.value_or(kHealthy));
  figures.services = configuredServices(config);
  figures.alerts = inputs.alerts;
  if (figures.stored.oldest_pending_created_at) {
    // A clock stepped back since the commit reads as no age, never a negative one.
    figures.outbox_oldest_pending_age_ms =
        std::max<std::int64_t>(0, inputs.now_ms - *figures.stored.oldest_pending_created_at);
    figures.outbox_oldest_pending_age_seconds = figures.outbox_oldest_pending_age_ms / 1000;
  }
  figures.clock_skew_ms = inputs.clock_skew_ms;
  figures.disk = inputs.disk;
  return figures;
}

std::map<std::string, std::string> configuredServices(const Config& config) {
  const auto state = [](bool configured) { return configured ? "configured" : "not configured"; };
  return {{"delivery-service", state(config.delivery_service.url.has_value())},
          {"product-service", state(config.product_service.url.has_value())},
          {"events", state(config.events.sns_topic_arn || config.events.sqs_queue_url)}};
}

std::string overallStatus(const ReliabilityFigures& figures) {
  if (!figures.database_available) return kUnavailable;
  if (!figures.alerts.empty()) return kDegraded;
  for (const auto& [name, state] : figures.circuit_breaker_states) {
    if (state != "CLOSED") return kDegraded;
  }
  return kHealthy;
}

nlohmann::json healthJson(const ReliabilityFigures& figures) {
  return {{"status", overallStatus(figures)},
          {"circuitBreakerStates", figures.circuit_breaker_states},
          {"outboxEventsPending", figures.stored.outbox_events_pending},
          {"reconciliationJobsStatus", figures.reconciliation_status},
          {"failedEventCount", figures.stored.failed_event_count},
          {"manualReviewQueueLength", figures.stored.manual_review_queue_length},
          {"alerts", figures.alerts},
          {"services", figures.services},
          {"outboxOldestPendingAgeSeconds", figures.outbox_oldest_pending_age_seconds},
          {"clockSkewMs", figures.clock_skew_ms}};
}

}  // namespace outpost::observability
