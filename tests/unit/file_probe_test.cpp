// store/file_probe: reading a database file for `outpost doctor` leaves its folder exactly
// as it was (no -wal, no -shm, no file where there was none), with or without a writer.
#include "store/file_probe.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "store/connection.h"
#include "store/migrations.h"
#include "store/store.h"
#include "support/node_process.h"

namespace outpost::store {
namespace {

using outpost::testing::readFile;
using outpost::testing::TempDir;
using outpost::testing::writeFile;

// The names of the files in `dir`, and the bytes of the database and its WAL (the -shm is
// shared memory: every reader, read-only or not, marks its reads there).
struct Folder {
  std::set<std::string> names;
  std::string database;
  std::string wal;
  bool operator==(const Folder&) const = default;
};

Folder contents(const TempDir& dir) {
  Folder folder;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    folder.names.insert(entry.path().filename().string());
  }
  folder.database = readFile(dir.file("o.db"));
  folder.wal = readFile(dir.file("o.db-wal"));
  return folder;
}

void makeDatabase(const std::string& path) {
  auto store = Store::open({path});
  ASSERT_TRUE(store.ok()) << store.error().message;
}

TEST(FileProbe, AClosedDatabaseIsReadWithoutCreatingAnyFile) {
  TempDir dir;
  makeDatabase(dir.file("o.db"));
  const auto before = contents(dir);
  ASSERT_EQ(before.names, std::set<std::string>{"o.db"});  // no -wal or -shm once closed

  const DatabaseFileReading reading = readDatabaseFile(dir.file("o.db"));
  EXPECT_TRUE(reading.exists);
  EXPECT_EQ(reading.error, "");
  EXPECT_EQ(reading.quick_check, "ok");
  EXPECT_EQ(reading.schema_version, latestSchemaVersion(embeddedMigrations()));
  EXPECT_TRUE(reading.unwritable.empty());
  EXPECT_FALSE(reading.wal_not_read);
  EXPECT_TRUE(contents(dir) == before);
}

TEST(FileProbe, AnOpenDatabaseIsReadThroughItsWal) {
  TempDir dir;
  makeDatabase(dir.file("o.db"));
  auto writer = openConnection({dir.file("o.db")});
  ASSERT_TRUE(writer.ok());
  (*writer)->db().exec("CREATE TABLE probe_marker (x)");  // in the WAL, not yet checkpointed
  (*writer)->db().exec(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'x', 0)");
  const auto before = contents(dir);
  ASSERT_TRUE(before.names.contains("o.db-wal"));

  const DatabaseFileReading reading = readDatabaseFile(dir.file("o.db"));
  EXPECT_EQ(reading.error, "");
  EXPECT_EQ(reading.schema_version, 999);  // read from the WAL
  EXPECT_TRUE(contents(dir) == before);
}

TEST(FileProbe, AMissingFileIsNotCreated) {
  TempDir dir;
  const DatabaseFileReading reading = readDatabaseFile(dir.file("o.db"));
  EXPECT_FALSE(reading.exists);
  EXPECT_TRUE(contents(dir).names.empty());
}

TEST(FileProbe, AFileThatIsNotADatabaseIsAnError) {
  TempDir dir;
  writeFile(dir.file("o.db"), std::string(4096, 'x'));
  const DatabaseFileReading reading = readDatabaseFile(dir.file("o.db"));
  EXPECT_TRUE(reading.exists);
  EXPECT_NE(reading.error.find("not a database"), std::string::npos) << reading.error;
  EXPECT_EQ(contents(dir).names.size(), 1u);
}

TEST(FileProbe, AWalWithoutItsShmIsLeftAlone) {
  TempDir dir;
  makeDatabase(dir.file("o.db"));
  writeFile(dir.file("o.db-wal"), "");
  const auto before = contents(dir);
  const DatabaseFileReading reading = readDatabaseFile(dir.file("o.db"));
  EXPECT_EQ(reading.error, "");
  EXPECT_TRUE(reading.wal_not_read);
  EXPECT_TRUE(contents(dir) == before);
}

TEST(FileProbe, LocksAreProbedWithoutTakingOne) {
  TempDir dir;
  makeDatabase(dir.file("o.db"));
  const LockProbe probe = probeLocks(dir.file("o.db"));
  EXPECT_TRUE(probe.works) << probe.error;
  EXPECT_EQ(probe.holder, 0);
  EXPECT_FALSE(probeLocks(dir.file("missing.db")).works);
}

TEST(FileProbe, FilesystemsAreClassifiedByStatfsType) {
  EXPECT_EQ(classifyFilesystem(0x6969).kind, FilesystemKind::kNetwork);
  EXPECT_EQ(classifyFilesystem(0x6969).name, "nfs");
  EXPECT_EQ(classifyFilesystem(0xFF534D42).kind, FilesystemKind::kNetwork);
  EXPECT_EQ(classifyFilesystem(0xFE534D42).kind, FilesystemKind::kNetwork);
  EXPECT_EQ(classifyFilesystem(0x01021997).name, "9p");
  EXPECT_EQ(classifyFilesystem(0x65735546).kind, FilesystemKind::kMaybeNetwork);
  EXPECT_EQ(classifyFilesystem(0x01021994).kind, FilesystemKind::kVolatile);
  EXPECT_EQ(classifyFilesystem(0xEF53).kind, FilesystemKind::kLocal);      // ext4
  EXPECT_EQ(classifyFilesystem(0x58465342).kind, FilesystemKind::kLocal);  // xfs
}

TEST(FileProbe, TheDirectoryOfAPath) {
  EXPECT_EQ(directoryOf("outpost.db"), ".");
  EXPECT_EQ(directoryOf("/var/lib/outpost/outpost.db"), "/var/lib/outpost");
  EXPECT_EQ(directoryOf("/outpost.db"), "/");
}

TEST(FileProbe, FreeSpaceAndTypeOfAnExistingFolderAreRead) {
  TempDir dir;
  EXPECT_TRUE(freeBytes(dir.path()).ok());
  EXPECT_TRUE(filesystemType(dir.path()).ok());
  EXPECT_FALSE(freeBytes(dir.file("missing")).ok());
  EXPECT_FALSE(filesystemType(dir.file("missing")).ok());
}

}  // namespace
}  // namespace outpost::store
