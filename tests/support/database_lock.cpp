#include "support/database_lock.h"

namespace outpost::testing {

HeldWriteLock::HeldWriteLock(const std::string& database, const char* begin)
    : db_(database, SQLite::OPEN_READWRITE) {
  db_.setBusyTimeout(10000);
  db_.exec(begin);
  held_ = true;
}

HeldWriteLock::~HeldWriteLock() { release(); }

void HeldWriteLock::release() {
  if (!held_) return;
  held_ = false;
  db_.exec("ROLLBACK");
}

}  // namespace outpost::testing
