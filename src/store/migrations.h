// Schema migrations: the numbered files of schema/, compiled into the binary and applied
// in order, all pending ones in one transaction, each with its row in schema_migrations.
// Before a file that already holds data (version 1 or later) is migrated, it is copied
// to <file>.pre-v<N>.bak (SPEC §10: an upgrade never rewrites the only copy).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "outpost/result.h"
#include "store/connection.h"

namespace outpost::store {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Generated from schema/*.sql at build time (cmake/embed_schema.cmake), sorted by version.
const std::vector<Migration>& embeddedMigrations();

struct MigrationReport {
  int from_version = 0;
  int to_version = 0;
  std::vector<int> applied;
  std::optional<std::string> backup_path;  // the copy made before migrating, if any
};

// What migrate() would do to the file, found without writing anything.
struct MigrationPlan {
  int from_version = 0;
  std::vector<Migration> pending;
  std::optional<std::string> backup_path;  // where the copy would go, if one is made
};

// Applies every migration newer than the file's version, each stamped with
// `now_millis` (wall time), after backing the file up when it holds data; no backup, no
// migration. A file newer than this binary (a version we do not know) is refused rather
// than guessed at (kInvalidArgument).
Result<MigrationReport> migrate(Connection& connection, const std::vector<Migration>& migrations,
                                std::int64_t now_millis);

// migrate()'s plan for `database`, a file at `from_version`; kInvalidArgument when the
// file is newer than `migrations` know.
Result<MigrationPlan> planMigrations(int from_version, const std::string& database,
                                     const std::vector<Migration>& migrations);

// The highest version recorded in the file, 0 for a new file (or one that is not
// outpost's). Reads only. Throws SQLite::Exception; currentSchemaVersion() does not.
int readSchemaVersion(SQLite::Database& db);
Result<int> currentSchemaVersion(Connection& connection);

// <database>.pre-v<version>.bak
std::string backupPathFor(const std::string& database, int version);

int latestSchemaVersion(const std::vector<Migration>& migrations);

// Why a file at `version` cannot be read by a binary whose schema is at `latest`, or
// nullopt when it can (the versions are equal).
std::optional<std::string> schemaMismatch(int version, int latest);

}  // namespace outpost::store
