// Schema migrations: the numbered files of schema/, compiled into the binary and applied
// in order, each inside its own transaction with its row in schema_migrations.
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
};

// Applies every migration newer than the file's version, each stamped with
// `now_millis` (wall time). A file newer than this binary (a version we do not know) is
// refused rather than guessed at.
Result<MigrationReport> migrate(Connection& connection, const std::vector<Migration>& migrations,
                                std::int64_t now_millis);

// The highest version recorded in the file, 0 for a new file.
Result<int> currentSchemaVersion(Connection& connection);

int latestSchemaVersion(const std::vector<Migration>& migrations);

// Why a file at `version` cannot be read by a binary whose schema is at `latest`, or
// nullopt when it can (the versions are equal).
std::optional<std::string> schemaMismatch(int version, int latest);

}  // namespace outpost::store
