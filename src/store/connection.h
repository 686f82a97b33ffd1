// Connection: one SQLite connection with its PRAGMAs set and a cache of prepared
// statements. Owned and used by one thread at a time: never share it between threads.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "outpost/result.h"

namespace outpost::store {

struct ConnectionOptions {
  std::string path;
  std::int64_t busy_timeout_ms = 2000;
  bool query_only = false;          // read connections refuse writes
  bool manual_checkpoints = false;  // the writer leaves WAL checkpoints to a background thread
  // Only the writer creates the file: a reader opened after the file vanished must fail
  // (an outage), not make a new empty database.
  bool create = true;
};

// A prepared statement borrowed from the cache; reset on release, so an unfinished read
// never keeps a WAL snapshot (and so a checkpoint) pinned.
class BorrowedStatement {
 public:
  explicit BorrowedStatement(SQLite::Statement& statement) : statement_(statement) {}
  ~BorrowedStatement();
  BorrowedStatement(const BorrowedStatement&) = delete;
  BorrowedStatement& operator=(const BorrowedStatement&) = delete;
  SQLite::Statement* operator->() { return &statement_; }
  SQLite::Statement& operator*() { return statement_; }

 private:
  SQLite::Statement& statement_;
};

class Connection {
 public:
  // Throws SQLite::Exception when the file cannot be opened; see openConnection().
  explicit Connection(const ConnectionOptions& options);

  SQLite::Database& db() { return db_; }
  // `sql` must be a string literal: the cache is keyed by its address.
  BorrowedStatement prepare(const char* sql);
  void exec(const char* sql) { prepare(sql)->exec(); }

 private:
  SQLite::Database db_;
  std::unordered_map<const char*, std::unique_ptr<SQLite::Statement>> statements_;
};

Result<std::unique_ptr<Connection>> openConnection(const ConnectionOptions& options);

}  // namespace outpost::store
