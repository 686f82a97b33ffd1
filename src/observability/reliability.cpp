#include "observability/reliability.h"

namespace outpost::observability {
namespace {

// A count kept by schema/006's triggers in figure_counts: one row, however big the file.
std::int64_t keptCount(store::Connection& connection, const char* name) {
  auto query = connection.prepare("SELECT n FROM figure_counts WHERE name = ?");
  query->bind(1, name);
  return query->executeStep() ? query->getColumn(0).getInt64() : 0;
}

}  // namespace

StoredFigures readStoredFigures(store::Connection& connection) {
  StoredFigures figures;
  figures.outbox_events_pending = keptCount(connection, "outbox:PENDING");
  figures.failed_event_count = keptCount(connection, "outbox:FAILED");
  figures.manual_review_queue_length = keptCount(connection, "review:open");
  figures.outbox_events_sent = keptCount(connection, "outbox:SENT");
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
          {"services", figures.services}};
}

}  // namespace outpost::observability
