#include "store/file_probe.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fcntl.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/errors.h"
#include "store/migrations.h"

namespace outpost::store {
namespace {

bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::string systemError(const std::string& what) { return what + ": " + std::strerror(errno); }

// file:PATH for sqlite3_open_v2 with SQLITE_OPEN_URI: the characters a URI gives a
// meaning to are percent-encoded (https://www.sqlite.org/uri.html).
std::string fileUri(const std::string& path, const char* parameters) {
  std::string uri = "file:";
  for (const char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      static const char kHex[] = "0123456789ABCDEF";
      uri += '%';
      uri += kHex[static_cast<unsigned char>(c) >> 4];
      uri += kHex[static_cast<unsigned char>(c) & 0xF];
    } else {
      uri += c;
    }
  }
  return uri + "?" + parameters;
}

// Opens the file without creating anything beside it (see readDatabaseFile) and runs
// `read` on it; `wal_not_read` says whether a -wal without its -shm had to be left out.
template <typename Read>
auto readWithoutCreating(const std::string& path, bool& wal_not_read, Read&& read) {
  const bool has_wal = exists(path + "-wal");
  wal_not_read = has_wal && !exists(path + "-shm");
  const char* parameters = has_wal && !wal_not_read ? "mode=ro" : "mode=ro&immutable=1";
  return guard([&] {
    SQLite::Database db(fileUri(path, parameters), SQLite::OPEN_READONLY | SQLite::OPEN_URI);
    db.setBusyTimeout(1000);
    return read(db);
  });
}

std::vector<std::string> unwritablePaths(const std::string& path) {
  std::vector<std::string> unwritable;
  for (const std::string& candidate : {path, path + "-wal", path + "-shm"}) {
    if (candidate != path && !exists(candidate)) continue;
    if (!writableByThisUser(candidate)) unwritable.push_back(candidate);
  }
  const std::string directory = directoryOf(path);
  if (!writableByThisUser(directory)) unwritable.push_back(directory + "/");
  return unwritable;
}

}  // namespace

std::string directoryOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool writableByThisUser(const std::string& path) {
  return faccessat(AT_FDCWD, path.c_str(), W_OK, AT_EACCESS) == 0;
}

DatabaseFileReading readDatabaseFile(const std::string& path) {
  DatabaseFileReading reading;
  reading.exists = exists(path);
  if (!reading.exists) return reading;
  reading.unwritable = unwritablePaths(path);
  auto read = readWithoutCreating(path, reading.wal_not_read, [&](SQLite::Database& db) {
    reading.quick_check = db.execAndGet("PRAGMA quick_check").getString();
    reading.schema_version = readSchemaVersion(db);
    return true;
  });
  if (!read) reading.error = read.error().message;
  return reading;
}

Result<int> schemaVersionOfFile(const std::string& path) {
  bool wal_not_read = false;
  return readWithoutCreating(path, wal_not_read,
                             [](SQLite::Database& db) { return readSchemaVersion(db); });
}

Result<std::uint64_t> freeBytes(const std::string& directory) {
  struct statvfs info {};
  if (statvfs(directory.c_str(), &info) != 0) {
    return Error::unavailable(systemError("statvfs " + directory));
  }
  return static_cast<std::uint64_t>(info.f_bavail) * static_cast<std::uint64_t>(info.f_frsize);
}

Result<std::int64_t> filesystemType(const std::string& directory) {
  struct statfs info {};
  if (statfs(directory.c_str(), &info) != 0) {
    return Error::unavailable(systemError("statfs " + directory));
  }
  return static_cast<std::int64_t>(info.f_type);
}

FilesystemClass classifyFilesystem(std::int64_t statfs_type) {
  // The magic numbers of linux/magic.h (and fs/smb/client for SMB2), written out: not
  // every one is in the headers of Debian 12.
  struct Known {
    std::int64_t magic;
    FilesystemKind kind;
    const char* name;
  };
  static constexpr Known kKnown[] = {
      {0x6969, FilesystemKind::kNetwork, "nfs"},
      {0x517B, FilesystemKind::kNetwork, "smb"},
      {0xFF534D42, FilesystemKind::kNetwork, "cifs"},
      {0xFE534D42, FilesystemKind::kNetwork, "smb2"},
      {0x5346414F, FilesystemKind::kNetwork, "afs"},
      {0x6B414653, FilesystemKind::kNetwork, "afs"},
      {0x73757245, FilesystemKind::kNetwork, "coda"},
      {0x564C, FilesystemKind::kNetwork, "ncp"},
      {0x00C36400, FilesystemKind::kNetwork, "ceph"},
      {0x01021997, FilesystemKind::kNetwork, "9p"},
      {0x65735546, FilesystemKind::kMaybeNetwork, "fuse"},
      {0x01021994, FilesystemKind::kVolatile, "tmpfs"},
      {static_cast<std::int64_t>(0x858458F6), FilesystemKind::kVolatile, "ramfs"},
  };
  for (const auto& known : kKnown) {
    if (known.magic == statfs_type) return {known.kind, known.name};
  }
  return {FilesystemKind::kLocal, ""};
}

LockProbe probeLocks(const std::string& database_path) {
  const std::string shm = database_path + "-shm";
  const std::string path = exists(shm) ? shm : database_path;
  LockProbe probe;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    probe.error = systemError("open " + path);
    return probe;
  }
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // the whole file, SQLite's lock bytes included
  if (fcntl(fd, F_GETLK, &lock) != 0) {
    probe.error = systemError("fcntl(F_GETLK) " + path);
  } else {
    probe.works = true;
    if (lock.l_type != F_UNLCK) probe.holder = lock.l_pid;
  }
  close(fd);
  return probe;
}

}  // namespace outpost::store
