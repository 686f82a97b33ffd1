// Test support: the write lock of a node's database, held by the test (as another process
// holding it would), so the node's writes wait out their busy timeout and fail.
#pragma once

#include <SQLiteCpp/Database.h>

#include <string>

namespace outpost::testing {

class HeldWriteLock {
 public:
  // Takes the lock with `begin` ("BEGIN IMMEDIATE" or "BEGIN EXCLUSIVE"). The node's own
  // writer and checkpointer hold it for moments: this waits for them (a busy timeout of
  // 10 s) instead of failing with "database is locked".
  HeldWriteLock(const std::string& database, const char* begin = "BEGIN IMMEDIATE");
  ~HeldWriteLock();
  HeldWriteLock(const HeldWriteLock&) = delete;
  HeldWriteLock& operator=(const HeldWriteLock&) = delete;

  void release();  // ROLLBACK; idempotent

 private:
  SQLite::Database db_;
  bool held_ = false;
};

}  // namespace outpost::testing
