#include "jobs/job_store.h"

namespace outpost::jobs {

void scheduleJob(store::Connection& connection, const NewJob& job, std::int64_t now_millis) {
  auto insert = connection.prepare(
      "INSERT INTO jobs (kind, aggregate_id, payload, status, next_run_at, created_at,"
      " updated_at) VALUES (?, ?, ?, 'PENDING', ?, ?, ?)");
  insert->bind(1, job.kind);
  insert->bind(2, job.aggregate_id);
  insert->bind(3, job.payload.dump());
  insert->bind(4, job.run_at_millis);
  insert->bind(5, now_millis);
  insert->bind(6, now_millis);
  insert->exec();
}

namespace {

// The columns every whole-job SELECT below reads, in this order.
JobRow readJob(SQLite::Statement& row) {
  return {row.getColumn(0).getInt64(),  row.getColumn(1).getString(),
          row.getColumn(2).getString(), nlohmann::json::parse(row.getColumn(3).getString()),
          row.getColumn(4).getInt(),    row.getColumn(5).getInt64(),
          row.getColumn(6).getString(), row.getColumn(7).getInt64()};
}

bool finishJob(store::Connection& connection, const JobRow& job, const char* status, int attempts,
               const std::optional<std::string>& last_error, std::int64_t now_millis) {
  auto update = connection.prepare(
      "UPDATE jobs SET status = ?, attempts = ?, last_error = COALESCE(?, last_error),"
      " updated_at = ? WHERE id = ? AND status = 'PENDING' AND attempts = ?");
  update->bind(1, status);
  update->bind(2, attempts);
  if (last_error) update->bind(3, *last_error);
  update->bind(4, now_millis);
  update->bind(5, job.id);
  update->bind(6, job.attempts);
  return update->exec() == 1;
}

}  // namespace

std::vector<JobRow> dueJobs(store::Connection& connection, const std::string& kind,
                            std::int64_t now_millis, int limit) {
  auto query = connection.prepare(
      "SELECT id, kind, aggregate_id, payload, attempts, next_run_at, status, created_at"
      " FROM jobs WHERE status = 'PENDING' AND kind = ? AND next_run_at <= ?"
      " ORDER BY next_run_at, id LIMIT ?");
  query->bind(1, kind);
  query->bind(2, now_millis);
  query->bind(3, limit);
  std::vector<JobRow> jobs;
  while (query->executeStep()) jobs.push_back(readJob(*query));
  return jobs;
}

std::optional<JobRow> pendingJobFor(store::Connection& connection, const std::string& kind,
                                    const std::string& aggregate_id) {
  auto query = connection.prepare(
      "SELECT id, kind, aggregate_id, payload, attempts, next_run_at, status, created_at"
      " FROM jobs WHERE status = 'PENDING' AND kind = ? AND aggregate_id = ?");
  query->bind(1, kind);
  query->bind(2, aggregate_id);
  if (!query->executeStep()) return std::nullopt;
  return readJob(*query);
}

std::optional<std::int64_t> nextDueAt(store::Connection& connection, const std::string& kind) {
  auto query =
      connection.prepare("SELECT MIN(next_run_at) FROM jobs WHERE status = 'PENDING' AND kind = ?");
  query->bind(1, kind);
  query->executeStep();
  if (query->getColumn(0).isNull()) return std::nullopt;
  return query->getColumn(0).getInt64();
}

std::optional<JobRow> latestJobFor(store::Connection& connection, const std::string& kind,
                                   const std::string& aggregate_id) {
  auto query = connection.prepare(
      "SELECT id, kind, aggregate_id, payload, attempts, next_run_at, status, created_at"
      " FROM jobs WHERE kind = ? AND aggregate_id = ?");
  query->bind(1, kind);
  query->bind(2, aggregate_id);
  if (!query->executeStep()) return std::nullopt;
  return readJob(*query);
}

void restartJob(store::Connection& connection, const NewJob& job, std::int64_t now_millis) {
  auto upsert = connection.prepare(
      "INSERT INTO jobs (kind, aggregate_id, payload, status, next_run_at, created_at,"
      " updated_at) VALUES (?1, ?2, ?3, 'PENDING', ?4, ?5, ?5)"
      " ON CONFLICT (kind, aggregate_id) DO UPDATE SET payload = ?3, status = 'PENDING',"
      " attempts = 0, next_run_at = ?4, last_error = NULL, updated_at = ?5");
  upsert->bind(1, job.kind);
  upsert->bind(2, job.aggregate_id);
  upsert->bind(3, job.payload.dump());
  upsert->bind(4, job.run_at_millis);
  upsert->bind(5, now_millis);
  upsert->exec();
}

bool stopJob(store::Connection& connection, const std::string& kind,
             const std::string& aggregate_id, const std::string& reason, std::int64_t now_millis) {
  auto update = connection.prepare(
      "UPDATE jobs SET status = 'DONE', last_error = ?, updated_at = ?"
      " WHERE kind = ? AND aggregate_id = ? AND status = 'PENDING'");
  update->bind(1, reason);
  update->bind(2, now_millis);
  update->bind(3, kind);
  update->bind(4, aggregate_id);
  return update->exec() == 1;
}

bool completeJob(store::Connection& connection, const JobRow& job, int attempts,
                 std::int64_t now_millis) {
  return finishJob(connection, job, "DONE", attempts, std::nullopt, now_millis);
}

bool failJob(store::Connection& connection, const JobRow& job, int attempts,
             const std::string& last_error, std::int64_t now_millis) {
  return finishJob(connection, job, "FAILED", attempts, last_error, now_millis);
}

bool rescheduleJob(store::Connection& connection, const JobRow& job, int attempts,
                   std::int64_t next_run_at, const std::string& last_error,
                   std::int64_t now_millis) {
  auto update = connection.prepare(
      "UPDATE jobs SET attempts = ?, next_run_at = ?, last_error = ?, updated_at = ?"
      " WHERE id = ? AND status = 'PENDING' AND attempts = ?");
  update->bind(1, attempts);
  update->bind(2, next_run_at);
  update->bind(3, last_error);
  update->bind(4, now_millis);
  update->bind(5, job.id);
  update->bind(6, job.attempts);
  return update->exec() == 1;
}

int countPending(store::Connection& connection, const std::string& kind) {
  auto query =
      connection.prepare("SELECT COUNT(*) FROM jobs WHERE status = 'PENDING' AND kind = ?");
  query->bind(1, kind);
  query->executeStep();
  return query->getColumn(0).getInt();
}

int bringForward(store::Connection& connection, const std::string& kind, std::int64_t now_millis) {
  auto update = connection.prepare(
      "UPDATE jobs SET next_run_at = ?, updated_at = ?"
      " WHERE status = 'PENDING' AND kind = ? AND next_run_at > ?");
  update->bind(1, now_millis);
  update->bind(2, now_millis);
  update->bind(3, kind);
  update->bind(4, now_millis);
  return update->exec();
}

}  // namespace outpost::jobs
