// What `outpost doctor` reads about the database file and the filesystem under it, without
// changing anything: no file is created (not the database, nor its -wal/-shm, nor its
// directory), nothing is written, no lock is taken. Plain functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "outpost/result.h"

namespace outpost::store {

// The folder holding `path` ("." for a bare file name): SQLite keeps the -wal and -shm
// files there, so it must be writable too.
std::string directoryOf(const std::string& path);

// Whether this process (its effective user and groups, as open(2) would judge) may write
// `path`: faccessat with AT_EACCESS, never an open for writing.
bool writableByThisUser(const std::string& path);

struct DatabaseFileReading {
  bool exists = false;
  std::string error;        // non-empty: the file could not be read, and why
  std::string quick_check;  // PRAGMA quick_check: "ok" or the first problem it found
  int schema_version = 0;   // 0: no schema_migrations table (an empty or foreign file)
  // A -wal file without its -shm: read without the WAL (opening it would create the
  // -shm), so the figures are those of the last checkpoint.
  bool wal_not_read = false;
  // Of the file, its -wal/-shm (when present) and its directory: those this user
  // cannot write.
  std::vector<std::string> unwritable;
};

// Opens the file read-only. Without a -wal file beside it, nothing holds the file open in
// WAL mode and the file is complete, so it is opened immutable (SQLite then creates no
// -wal/-shm, which a plain read-only open of a WAL file does); with one, read-only
// through the existing -wal and -shm. exists is false when there is no file.
DatabaseFileReading readDatabaseFile(const std::string& path);

// Only the schema version of the existing file at `path`, opened as readDatabaseFile
// opens it (no quick_check: `outpost migrate --dry-run`).
Result<int> schemaVersionOfFile(const std::string& path);

// Free space for this user on the filesystem holding `directory` (statvfs f_bavail *
// f_frsize).
Result<std::uint64_t> freeBytes(const std::string& directory);

// statfs f_type of the filesystem holding `directory`.
Result<std::int64_t> filesystemType(const std::string& directory);

enum class FilesystemKind {
  kLocal,
  kNetwork,       // NFS, SMB/CIFS, AFS, Ceph, 9p...: SQLite's WAL locking is not safe there
  kMaybeNetwork,  // FUSE: sshfs or a local overlay, cannot tell
  kVolatile,      // tmpfs, ramfs: gone at reboot
};

struct FilesystemClass {
  FilesystemKind kind = FilesystemKind::kLocal;
  std::string name;  // "nfs", "cifs", ...; empty for a local filesystem we do not name
};

FilesystemClass classifyFilesystem(std::int64_t statfs_type);

struct LockProbe {
  bool works = false;
  std::string error;        // why not, when !works
  std::int64_t holder = 0;  // pid of a process holding a conflicting lock (a running node)
};

// Asks the kernel whether a write lock on the whole file could be taken (fcntl F_GETLK, the
// file opened O_RDONLY): answers without taking one. On NFS without a lock daemon it fails
// with ENOLCK. Asks about the database's -shm when there is one, since every connection
// holds a lock there while it is open (so a running node shows as the holder), else about
// the database file itself.
LockProbe probeLocks(const std::string& database_path);

}  // namespace outpost::store
