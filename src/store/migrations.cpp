#include "store/migrations.h"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/Transaction.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "store/errors.h"

namespace outpost::store {
namespace {

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)";

std::vector<Migration> migrationsAfter(int version, const std::vector<Migration>& migrations) {
  std::vector<Migration> pending;
  for (const auto& migration : migrations) {
    if (migration.version > version) pending.push_back(migration);
  }
  return pending;
}

void record(Connection& connection, const Migration& migration, std::int64_t now_millis) {
  auto insert = connection.prepare(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
  insert->bind(1, migration.version);
  insert->bind(2, migration.name);
  insert->bind(3, now_millis);
  insert->exec();
}

// Every pending migration in one transaction, so a failure leaves the file as it was. The
// version is read again under the write lock: two processes starting on one file at once
// cannot both apply the same migration.
std::vector<int> applyAll(Connection& connection, const std::vector<Migration>& migrations,
                          std::int64_t now_millis) {
  SQLite::Transaction transaction(connection.db(), SQLite::TransactionBehavior::IMMEDIATE);
  std::vector<int> applied;
  const int version = readSchemaVersion(connection.db());
  connection.db().exec(kCreateMigrationsTable);
  for (const auto& migration : migrationsAfter(version, migrations)) {
    connection.db().exec(migration.sql);
    record(connection, migration, now_millis);
    applied.push_back(migration.version);
  }
  transaction.commit();
  return applied;
}

// A whole copy through SQLite's online backup, written beside the file under a temporary
// name and renamed, so the backup path holds either a complete copy or the previous one.
void backUp(Connection& connection, const std::string& destination) {
  const std::string partial = destination + ".part-" + std::to_string(getpid());
  {
    SQLite::Database target(partial, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    SQLite::Backup backup(target, connection.db());
    backup.executeStep(-1);
  }
  if (std::rename(partial.c_str(), destination.c_str()) != 0) {
    std::remove(partial.c_str());
    throw SQLite::Exception("cannot rename the backup to " + destination);
  }
}

}  // namespace

int latestSchemaVersion(const std::vector<Migration>& migrations) {
  int latest = 0;
  for (const auto& m : migrations) latest = std::max(latest, m.version);
  return latest;
}

std::optional<std::string> schemaMismatch(int version, int latest) {
  if (version == latest) return std::nullopt;
  if (version > latest) {
    return "the file is at schema version " + std::to_string(version) +
           ", newer than this outpost understands (" + std::to_string(latest) +
           "); upgrade outpost";
  }
  return "the file is at schema version " + std::to_string(version) + ", this outpost reads " +
         std::to_string(latest) + ": run 'outpost migrate' (or start the node) first";
}

std::string backupPathFor(const std::string& database, int version) {
  return database + ".pre-v" + std::to_string(version) + ".bak";
}

int readSchemaVersion(SQLite::Database& db) {
  if (!db.tableExists("schema_migrations")) return 0;
  return db.execAndGet("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").getInt();
}

Result<int> currentSchemaVersion(Connection& connection) {
  return guard([&] { return readSchemaVersion(connection.db()); });
}

Result<MigrationPlan> planMigrations(int from_version, const std::string& database,
                                     const std::vector<Migration>& migrations) {
  const int latest = latestSchemaVersion(migrations);
  if (from_version > latest) {
    return Error::invalidArgument("database schema version " + std::to_string(from_version) +
                                  " is newer than this outpost understands (" +
                                  std::to_string(latest) + "); upgrade outpost");
  }
  MigrationPlan plan;
  plan.from_version = from_version;
  plan.pending = migrationsAfter(from_version, migrations);
  if (from_version > 0 && !plan.pending.empty() && !database.empty()) {
    plan.backup_path = backupPathFor(database, from_version);
  }
  return plan;
}

Result<MigrationReport> migrate(Connection& connection, const std::vector<Migration>& migrations,
                                std::int64_t now_millis) {
  auto version = currentSchemaVersion(connection);
  if (!version) return version.error();
  auto plan = planMigrations(*version, connection.db().getFilename(), migrations);
  if (!plan) return plan.error();
  MigrationReport report;
  report.from_version = plan->from_version;
  report.to_version = std::max(plan->from_version, latestSchemaVersion(migrations));
  if (plan->pending.empty()) return report;
  if (plan->backup_path) {
    auto backed_up = guard([&] {
      backUp(connection, *plan->backup_path);
      return true;
    });
    if (!backed_up) {
      return Error(backed_up.error().kind,
                   "cannot back the file up to " + *plan->backup_path +
                       " before migrating it: " + backed_up.error().message);
    }
    report.backup_path = plan->backup_path;
  }
  auto applied = guard([&] { return applyAll(connection, migrations, now_millis); });
  if (!applied) return applied.error();
  report.applied = std::move(*applied);
  return report;
}

}  // namespace outpost::store
