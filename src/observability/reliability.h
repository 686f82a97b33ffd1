// The design's ReliabilityMetrics (SPEC §3 GET /health), gathered once for every face of
// it: the running node's /health and /metrics, and `outpost status` on the file. Counts
// are read from figure_counts, kept by triggers (schema/006), never counted at asking
// time, so that asking stays cheap however big the file and the backlog grow.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "outpost/config.h"
#include "outpost/result.h"
#include "store/connection.h"
#include "store/disk_floor.h"

namespace outpost::observability {

inline constexpr const char* kHealthy = "HEALTHY";
inline constexpr const char* kDegraded = "DEGRADED";
inline constexpr const char* kUnavailable = "UNAVAILABLE";

// What the database file says.
struct StoredFigures {
  std::int64_t outbox_events_pending = 0;
  std::int64_t failed_event_count = 0;
  std::int64_t manual_review_queue_length = 0;
  std::int64_t outbox_events_sent = 0;  // SENT events still kept (events.retention_ms)
  std::optional<std::string> last_reconciliation_status;     // none before the first run
  std::map<std::string, std::string> stored_breaker_states;  // breaker_state, by name
  // created_at (wall ms) of the oldest PENDING event, the lowest seq; none when none is.
  std::optional<std::int64_t> oldest_pending_created_at;
};

// Throws SQLite::Exception; run it through Store::read or store::guard.
StoredFigures readStoredFigures(store::Connection& connection);

struct ReliabilityFigures {
  // delivery-service, product-service, events, database: OPEN, CLOSED, HALF_OPEN.
  std::map<std::string, std::string> circuit_breaker_states;
  bool database_available = true;
  StoredFigures stored;  // zero when the database is unavailable
  std::string reconciliation_status = kHealthy;
  std::map<std::string, std::string> services;  // name -> "configured" / "not configured"
  std::vector<nlohmann::json> alerts;           // the active alerts
  // Since the oldest PENDING event was committed (SPEC §11); 0 when none is.
  std::int64_t outbox_oldest_pending_age_ms = 0;
  std::int64_t outbox_oldest_pending_age_seconds = 0;  // whole seconds of the above
  std::int64_t clock_skew_ms = 0;  // the AWS clock offset the node signs with (SPEC §11)
  // The database's filesystem against storage.min_free_bytes (SPEC §11); no reading
  // where nothing read it.
  store::DiskReading disk;
};

// What the figures are made of, wherever they are gathered: the running node's /health,
// /metrics and alert checks, or `outpost status` on the file alone.
struct FigureInputs {
  Result<StoredFigures> stored = Error::unavailable("not read");  // the file's figures
  // The breakers' own states (a running node knows them); a breaker missing here shows
  // the state stored in the file, else CLOSED.
  std::map<std::string, std::string> breaker_states;
  // The reconciliation job's own view, when it runs; else the file's last run, else
  // HEALTHY.
  std::optional<std::string> reconciliation_status;
  std::vector<nlohmann::json> alerts;
  // The wall time of asking (ms since the epoch), from the caller's clock: ages are
  // measured from it.
  std::int64_t now_ms = 0;
  // The running node's AWS clock offset (clients::ServiceClock); 0 when none or not running.
  std::int64_t clock_skew_ms = 0;
  store::DiskReading disk;  // the running node's DiskFloor reading
};

// The one assembly of the figures, for every configured breaker and service.
ReliabilityFigures assembleFigures(const Config& config, const FigureInputs& inputs);

// delivery-service, product-service, events -> "configured" / "not configured" (SPEC §2).
std::map<std::string, std::string> configuredServices(const Config& config);

// HEALTHY; DEGRADED when a breaker is not closed or an alert is active; UNAVAILABLE when
// the database is.
std::string overallStatus(const ReliabilityFigures& figures);

// {"status", "circuitBreakerStates", "outboxEventsPending", "reconciliationJobsStatus",
//  "failedEventCount", "manualReviewQueueLength", "alerts", "services",
//  "outboxOldestPendingAgeSeconds", "clockSkewMs"}.
nlohmann::json healthJson(const ReliabilityFigures& figures);

}  // namespace outpost::observability
