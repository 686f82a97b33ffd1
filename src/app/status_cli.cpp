#include "app/status_cli.h"

#include <unistd.h>

#include <cstdio>

#include "alerts/alert_store.h"
#include "observability/reliability.h"
#include "outpost/clock.h"
#include "store/connection.h"
#include "store/errors.h"
#include "store/migrations.h"

namespace outpost::app {
namespace {

int fail(const std::string& message, int status) {
  std::fprintf(stderr, "outpost status: %s\n", message.c_str());
  return status;
}

// What `outpost status` reads from the file, through one read-only connection. A file this
// outpost has not migrated yet lacks tables the figures come from: only its version is read.
struct FileSnapshot {
  int schema_version = 0;
  observability::StoredFigures figures;
  std::vector<alerts::ActiveAlert> alerts;  // active at the node's last check
};

Result<FileSnapshot> readFile(const store::ConnectionOptions& connection_options, int latest) {
  auto connection = store::openConnection(connection_options);
  if (!connection) return connection.error();
  auto version = store::currentSchemaVersion(**connection);
  if (!version) return version.error();
  FileSnapshot snapshot{*version, {}, {}};
  if (*version < latest) return snapshot;
  return store::guard([&] {
    snapshot.figures = observability::readStoredFigures(**connection);
    snapshot.alerts = alerts::loadActiveAlerts(**connection);
    return snapshot;
  });
}

observability::ReliabilityFigures figuresFrom(const Config& config,
                                              const Result<FileSnapshot>& file) {
  observability::FigureInputs inputs;
  inputs.now_ms = SystemClock().wallMillis();  // the backlog's age is as of now
  // An unreadable file leaves `stored` unread (its error is printed apart), which is what
  // the figures need to know of it.
  if (!file) return observability::assembleFigures(config, inputs);
  inputs.stored = file->figures;
  for (const auto& alert : file->alerts) inputs.alerts.push_back(alerts::alertJson(alert));
  return observability::assembleFigures(config, inputs);
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
  std::printf("oldest pending event:       %lld s\n",
              static_cast<long long>(figures.outbox_oldest_pending_age_seconds));
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
  const int latest = store::latestSchemaVersion(store::embeddedMigrations());
  const auto file = readFile(connection_options, latest);
  if (file) {
    if (auto mismatch = store::schemaMismatch(file->schema_version, latest))
      return fail(*mismatch, 1);
  }
  const auto figures = figuresFrom(config, file);
  if (options.contains("--json")) {
    std::printf("%s\n", observability::healthJson(figures).dump(2).c_str());
  } else {
    printText(config, figures, file ? "" : file.error().message);
  }
  return figures.database_available ? 0 : 1;
}

}  // namespace outpost::app
