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

}  // namespace outpost::jobs
