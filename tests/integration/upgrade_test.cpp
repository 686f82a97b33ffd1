// Upgrades (SPEC §10): a file that holds orders is backed up before a migration touches
// it, `migrate --dry-run` changes nothing, and the commands that only read never migrate
// or create the file.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "store/connection.h"
#include "store/migrations.h"
#include "support/node_process.h"

namespace outpost::testing {
namespace {

constexpr int kOldVersion = 3;

// A file an older outpost left: the first `version` migrations, and one order.
void makeOldFile(const std::string& path, int version) {
  auto connection = store::openConnection({path, 2000});
  ASSERT_TRUE(connection) << connection.error().message;
  std::vector<store::Migration> old;
  for (const auto& migration : store::embeddedMigrations()) {
    if (migration.version <= version) old.push_back(migration);
  }
  ASSERT_TRUE(store::migrate(**connection, old, 0));
  (*connection)
      ->db()
      .exec(
          "INSERT INTO orders (id, customer_id, status, created_at, updated_at)"
          " VALUES ('ord-old', 'c', 'PENDING_SHIPMENT', 1, 1)");
}

// Every file of `dir` with its bytes: what a command must leave as it found.
std::map<std::string, std::string> contentsOf(const TempDir& dir) {
  std::map<std::string, std::string> contents;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    contents[entry.path().filename()] = readFile(entry.path());
  }
  return contents;
}

int schemaVersionOf(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet("SELECT MAX(version) FROM schema_migrations").getInt();
}

const int kLatest = store::latestSchemaVersion(store::embeddedMigrations());

TEST(Upgrade, TheNodeBacksAnOldFileUpBeforeMigratingItAndLogsWhere) {
  TempDir dir;
  const std::string database = dir.file("outpost.db");
  makeOldFile(database, kOldVersion);
  NodeOptions options;
  options.database = database;
  auto node = NodeProcess::start(dir, options);
  ASSERT_TRUE(node);
  const std::string backup = database + ".pre-v3.bak";
  EXPECT_NE(node->logs().find(backup), std::string::npos) << node->logs();
  EXPECT_EQ(node->terminate(), 0);

  EXPECT_EQ(schemaVersionOf(database), kLatest);
  EXPECT_EQ(schemaVersionOf(backup), kOldVersion);
  SQLite::Database copy(backup, SQLite::OPEN_READONLY);
  EXPECT_EQ(copy.execAndGet("SELECT id FROM orders").getString(), "ord-old");
  SQLite::Database migrated(database, SQLite::OPEN_READONLY);
  EXPECT_EQ(migrated.execAndGet("SELECT id FROM orders").getString(), "ord-old");
}

TEST(Upgrade, MigrateBacksUpTheFileAndSaysWhere) {
  TempDir dir;
  const std::string database = dir.file("outpost.db");
  makeOldFile(database, kOldVersion);
  auto result = runOutpost({"migrate"}, {{"OUTPOST_DATABASE", database}});
  EXPECT_EQ(result.exit_status, 0) << result.output;
  EXPECT_NE(result.output.find("backed up " + database + " to " + database + ".pre-v3.bak"),
            std::string::npos)
      << result.output;
  EXPECT_EQ(schemaVersionOf(database + ".pre-v3.bak"), kOldVersion);
  EXPECT_EQ(schemaVersionOf(database), kLatest);
}

TEST(Upgrade, MigrateDryRunListsWhatItWouldDoAndChangesNothing) {
  TempDir dir;
  const std::string database = dir.file("outpost.db");
  makeOldFile(database, kOldVersion);
  const auto before = contentsOf(dir);
  auto old = runOutpost({"migrate", "--dry-run"}, {{"OUTPOST_DATABASE", database}});
  EXPECT_EQ(old.exit_status, 0) << old.output;
  EXPECT_NE(old.output.find("schema version 3"), std::string::npos) << old.output;
  EXPECT_NE(old.output.find(database + ".pre-v3.bak"), std::string::npos) << old.output;
  for (const auto& migration : store::embeddedMigrations()) {
    const bool pending = migration.version > kOldVersion;
    EXPECT_EQ(old.output.find(migration.name) != std::string::npos, pending) << migration.name;
  }
  EXPECT_EQ(contentsOf(dir), before);

  auto missing = runOutpost({"migrate", "--dry-run"}, {{"OUTPOST_DATABASE", dir.file("new.db")}});
  EXPECT_EQ(missing.exit_status, 0) << missing.output;
  EXPECT_NE(missing.output.find("does not exist"), std::string::npos) << missing.output;
  EXPECT_EQ(contentsOf(dir), before);

  ASSERT_EQ(runOutpost({"migrate"}, {{"OUTPOST_DATABASE", database}}).exit_status, 0);
  auto current = runOutpost({"migrate", "--dry-run"}, {{"OUTPOST_DATABASE", database}});
  EXPECT_NE(current.output.find("up to date"), std::string::npos) << current.output;
}

TEST(Upgrade, CommandsThatOnlyReadLeaveAMissingOrOldFileUntouched) {
  const std::vector<std::vector<std::string>> readers = {
      {"status"}, {"outbox", "list"}, {"review", "list"}};
  for (const auto& command : readers) {
    SCOPED_TRACE(command[0]);
    TempDir dir;
    auto missing = runOutpost(command, {{"OUTPOST_DATABASE", dir.file("outpost.db")}});
    EXPECT_NE(missing.exit_status, 0) << missing.output;
    EXPECT_TRUE(contentsOf(dir).empty()) << missing.output;

    makeOldFile(dir.file("outpost.db"), kOldVersion);
    const auto before = contentsOf(dir);
    auto old = runOutpost(command, {{"OUTPOST_DATABASE", dir.file("outpost.db")}});
    EXPECT_NE(old.exit_status, 0) << old.output;
    EXPECT_NE(old.output.find("outpost migrate"), std::string::npos) << old.output;
    EXPECT_EQ(contentsOf(dir), before);
  }
}

TEST(Upgrade, MigrateRefusesUnknownOptions) {
  auto result = runOutpost({"migrate", "--json"});
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_NE(result.output.find("--json is not an option of 'migrate'"), std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace outpost::testing
