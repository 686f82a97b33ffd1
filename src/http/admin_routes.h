// /v1/admin: switching a box off (SPEC §10). POST /v1/admin/drain stops the node taking
// orders, brings the waiting work forward and answers once nothing is left or its
// timeout passed; POST /v1/admin/resume takes orders again. Both need admin_token.
#pragma once

#include <httplib.h>

#include <chrono>

#include "outpost/result.h"

namespace outpost::http {

// A drain request holds its HTTP worker at most this long.
inline constexpr std::chrono::milliseconds kMaxDrainTimeout{600000};
inline constexpr std::chrono::milliseconds kDefaultDrainTimeout{60000};

// POST /v1/admin/drain's body: empty, or {"timeoutMs": an integer from 0 to
// kMaxDrainTimeout} (kDefaultDrainTimeout when left out); a 400 error otherwise.
Result<std::chrono::milliseconds> readDrainTimeout(const httplib::Request& request);

}  // namespace outpost::http
