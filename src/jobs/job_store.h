// Durable background jobs: a job row is committed with the state change that needs it,
// so a crash between the commit and the work loses nothing.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/connection.h"

namespace outpost::jobs {

inline constexpr const char* kInitiateDelivery = "INITIATE_DELIVERY";
// Saga compensation: cancel the order's delivery, then the order (saga/compensator.h).
inline constexpr const char* kCompensateOrder = "COMPENSATE_ORDER";

struct NewJob {
  std::string kind;
  std::string aggregate_id;
  nlohmann::json payload = nlohmann::json::object();
  std::int64_t run_at_millis = 0;
};

// Throws SQLite::Exception; a second job of the same kind for one aggregate is a
// constraint violation.
void scheduleJob(store::Connection& connection, const NewJob& job, std::int64_t now_millis);

struct JobRow {
  std::int64_t id = 0;
  std::string kind;
  std::string aggregate_id;
  nlohmann::json payload;
  int attempts = 0;
  std::int64_t next_run_at = 0;
  std::string status;  // PENDING, DONE, FAILED
  std::int64_t created_at = 0;
};

// PENDING jobs of `kind` due at `now_millis`, oldest due first.
std::vector<JobRow> dueJobs(store::Connection& connection, const std::string& kind,
                            std::int64_t now_millis, int limit);
std::optional<JobRow> pendingJobFor(store::Connection& connection, const std::string& kind,
                                    const std::string& aggregate_id);
// The job of `kind` for the aggregate in whatever status, if there is one.
std::optional<JobRow> latestJobFor(store::Connection& connection, const std::string& kind,
                                   const std::string& aggregate_id);
// Schedules the job, or puts a finished one of the same kind and aggregate back to
// PENDING with its attempts reset.
void restartJob(store::Connection& connection, const NewJob& job, std::int64_t now_millis);
// Ends a PENDING job without running it (DONE, `reason` as last_error); false if there
// was none.
bool stopJob(store::Connection& connection, const std::string& kind,
             const std::string& aggregate_id, const std::string& reason, std::int64_t now_millis);
// When the next PENDING job of `kind` is due, if any.
std::optional<std::int64_t> nextDueAt(store::Connection& connection, const std::string& kind);

// Each of these finishes one attempt at `job` as it was read: they return false, and
// change nothing, when the job is no longer PENDING with job.attempts attempts (another
// thread got there first). `attempts` is the new count.
bool completeJob(store::Connection& connection, const JobRow& job, int attempts,
                 std::int64_t now_millis);
bool rescheduleJob(store::Connection& connection, const JobRow& job, int attempts,
                   std::int64_t next_run_at, const std::string& last_error,
                   std::int64_t now_millis);
bool failJob(store::Connection& connection, const JobRow& job, int attempts,
             const std::string& last_error, std::int64_t now_millis);
int countPending(store::Connection& connection, const std::string& kind);
// Makes every PENDING job of `kind` due now; returns how many were moved.
int bringForward(store::Connection& connection, const std::string& kind, std::int64_t now_millis);

}  // namespace outpost::jobs
