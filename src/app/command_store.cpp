#include "app/command_store.h"

#include <unistd.h>

namespace outpost::app {

Result<std::unique_ptr<store::Store>> openCommandStore(const Config& config, bool read_only) {
  if (access(config.database.c_str(), F_OK) != 0) {
    return Error::notFound("no database at " + config.database + " (set database or --config)");
  }
  const store::StoreOptions options{config.database, config.database_busy_timeout_ms};
  auto store = read_only ? store::Store::openReadOnly(options) : store::Store::open(options);
  if (!store) {
    return Error(store.error().kind,
                 "cannot open " + config.database + ": " + store.error().message);
  }
  return store;
}

}  // namespace outpost::app
