#include "store/connection.h"

#include <string>

#include "store/errors.h"

namespace outpost::store {

BorrowedStatement::~BorrowedStatement() {
  statement_.tryReset();
  statement_.clearBindings();
}

Connection::Connection(const ConnectionOptions& options)
    : db_(options.path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX |
                            (options.create ? SQLite::OPEN_CREATE : 0)) {
  db_.setBusyTimeout(static_cast<int>(options.busy_timeout_ms));
  db_.exec("PRAGMA journal_mode=WAL");
  // FULL: a 201 means the order survives power loss, not just a process crash.
  db_.exec("PRAGMA synchronous=FULL");
  db_.exec("PRAGMA foreign_keys=ON");
  if (options.manual_checkpoints) db_.exec("PRAGMA wal_autocheckpoint=0");
  if (options.query_only) db_.exec("PRAGMA query_only=ON");
}

BorrowedStatement Connection::prepare(const char* sql) {
  auto& slot = statements_[sql];
  if (!slot) slot = std::make_unique<SQLite::Statement>(db_, sql);
  return BorrowedStatement(*slot);
}

Result<std::unique_ptr<Connection>> openConnection(const ConnectionOptions& options) {
  return guard([&] { return std::make_unique<Connection>(options); });
}

}  // namespace outpost::store
