#include "store/errors.h"

#include <sqlite3.h>

#include <string>

namespace outpost::store {

Error classifySqliteError(int extended_code, const char* message) {
  const std::string detail = std::string("database: ") + message;
  switch (extended_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_NOTADB:
      return Error::unavailable(detail);
    case SQLITE_CONSTRAINT:
      return Error::conflict(detail);
    default:
      return Error::internal(detail);
  }
}

Error classifyException(const std::exception& e) {
  return Error::internal(std::string("unexpected: ") + e.what());
}

}  // namespace outpost::store
