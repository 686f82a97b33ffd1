#include "store/migrations.h"

#include <SQLiteCpp/Transaction.h>

#include <algorithm>
#include <string>

#include "store/errors.h"

namespace outpost::store {
namespace {

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)";

int readVersion(Connection& connection) {
  connection.db().exec(kCreateMigrationsTable);
  auto query = connection.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  query->executeStep();
  return query->getColumn(0).getInt();
}

// Re-reads the version under the write lock, so two processes starting on one file at
// once cannot both apply the same migration.
bool applyOne(Connection& connection, const Migration& migration, std::int64_t now_millis) {
  SQLite::Transaction transaction(connection.db(), SQLite::TransactionBehavior::IMMEDIATE);
  if (readVersion(connection) >= migration.version) return false;
  connection.db().exec(migration.sql);
  auto record = connection.prepare(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
  record->bind(1, migration.version);
  record->bind(2, migration.name);
  record->bind(3, now_millis);
  record->exec();
  transaction.commit();
  return true;
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

Result<int> currentSchemaVersion(Connection& connection) {
  return guard([&] { return readVersion(connection); });
}

Result<MigrationReport> migrate(Connection& connection, const std::vector<Migration>& migrations,
                                std::int64_t now_millis) {
  return guard([&]() -> Result<MigrationReport> {
    MigrationReport report;
    report.from_version = readVersion(connection);
    const int latest = latestSchemaVersion(migrations);
    if (report.from_version > latest) {
      return Error::invalidArgument("database schema version " +
                                    std::to_string(report.from_version) +
                                    " is newer than this outpost understands (" +
                                    std::to_string(latest) + "); upgrade outpost");
    }
    for (const auto& migration : migrations) {
      if (migration.version <= report.from_version) continue;
      if (applyOne(connection, migration, now_millis)) report.applied.push_back(migration.version);
    }
    report.to_version = std::max(report.from_version, latest);
    return report;
  });
}

}  // namespace outpost::store
