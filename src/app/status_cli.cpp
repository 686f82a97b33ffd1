#include "app/status_cli.h"

#include <unistd.h>

#include <cstdio>

#include "alerts/alert_store.h"
#include "observability/reliability.h"
#include "store/connection.h"
#include "store/errors.h"
#include "store/migrations.h"

namespace outpost::app {
namespace {

int fail(const std::string& message, int status) {
  std::fprintf(stderr, "outpost status: %s\n", message.c_str());
  return status;
}

observability::ReliabilityFigures figuresFrom(const Config& config,
                                              const Result<observability::StoredFigures>& stored) {
  observability::ReliabilityFigures figures;
  figures.database_available = static_cast<bool>(stored);
  for (const auto& [name, settings] : config.breakers) {
    figures.circuit_breaker_states[name] = "CLOSED";  // until the file says otherwise
  }
  if (stored) {
    figures.stored = *stored;
    for (const auto& [name, state] : stored->stored_breaker_states) {
      figures.circuit_breaker_states[name] = state;
    }
    figures.reconciliation_status =
        stored->last_reconciliation_status.value_or(observability::kHealthy);
  }
  figures.services = observability::configuredServices(config);
  return figures;
}

// A file this outpost has not migrated yet lacks tables the figures come from.
std::optional<std::string> unmigratedSchema(const store::ConnectionOptions& connection_options) {
  auto version = store::guard([&] {
    store::Connection connection(connection_options);
    return store::currentSchemaVersion(connection);
  });
  const int latest = store::latestSchemaVersion(store::embeddedMigrations());
  if (!version || *version >= latest) return std::nullopt;
  return "the file is at schema version " + std::to_string(*version) + ", this outpost reads " +
         std::to_string(latest) + ": run 'outpost migrate' (or start the node) first";
}

// The alerts active when the node last checked.
std::vector<nlohmann::json> storedAlerts(const store::ConnectionOptions& connection_options) {
  auto loaded = store::guard([&] {
    store::Connection connection(connection_options);
    return alerts::loadActiveAlerts(connection);
  });
  std::vector<nlohmann::json> shown;
  if (loaded) {
    for (const auto& alert : *loaded) shown.push_back(alerts::alertJson(alert));
  }
  return shown;
}

void printText(const Config& config, const observability::ReliabilityFigures& figures,
               const std::string& error) {
  std::printf("%s  (%s, as the file has it)\n", observability::overallStatus(figures).c_str(),
              config.database.c_str());
  if (!error.empty()) std::printf("database: %s\n", error.c_str());
  std::printf("circuit breakers:");
  for (const auto& [name, state] : figures.circuit_breaker_states) {
    std::printf("  %s %s", name.c_str(), state.c_str());
  }
  std::printf("\noutbox events pending:      %lld\n",
              static_cast<long long>(figures.stored.outbox_events_pending));
  std::printf("failed events:              %lld\n",
              static_cast<long long>(figures.stored.failed_event_count));
  std::printf("manual review queue:        %lld\n",
              static_cast<long long>(figures.stored.manual_review_queue_length));
  std::printf("reconciliation (last run):  %s\n", figures.reconciliation_status.c_str());
  std::printf("alerts:%s\n", figures.alerts.empty() ? "                     none" : "");
  for (const auto& alert : figures.alerts) {
    std::printf("  %s since %s  %s\n", alert.value("alert", "").c_str(),
                alert.value("raisedAt", "").c_str(), alert["details"].dump().c_str());
  }
}

}  // namespace

int runStatusCommand(const Config& config, const std::vector<std::string>& positional,
                     const std::map<std::string, std::string>& options) {
  if (!positional.empty()) return fail("takes no arguments", 2);
  for (const auto& [name, value] : options) {
    if (name != "--json") return fail(name + " is not an option of 'status'", 2);
  }
  if (access(config.database.c_str(), F_OK) != 0) {
    return fail("no database at " + config.database + " (set database or --config)", 1);
  }
  store::ConnectionOptions connection_options{config.database, config.database_busy_timeout_ms,
                                              true, false, false};
  if (auto behind = unmigratedSchema(connection_options)) return fail(*behind, 1);
  auto stored = store::guard([&] {
    store::Connection connection(connection_options);
    return observability::readStoredFigures(connection);
  });
  auto figures = figuresFrom(config, stored);
  if (stored) figures.alerts = storedAlerts(connection_options);
  if (options.contains("--json")) {
    std::printf("%s\n", observability::healthJson(figures).dump(2).c_str());
  } else {
    printText(config, figures, stored ? "" : stored.error().message);
  }
  return figures.database_available ? 0 : 1;
}

}  // namespace outpost::app
