// The store a command of the CLI works on (outbox, review): an existing file only, opened
// read-only when the command only reads, so that listing never creates or migrates it.
#pragma once

#include <memory>

#include "outpost/config.h"
#include "outpost/result.h"
#include "store/store.h"

namespace outpost::app {

// kNotFound when there is no file at config.database; otherwise as Store::open or
// Store::openReadOnly, the message naming the file.
Result<std::unique_ptr<store::Store>> openCommandStore(const Config& config, bool read_only);

}  // namespace outpost::app
