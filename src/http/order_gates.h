// What POST /v1/orders checks before it reads the request, so that a node that cannot
// take an order refuses it before any write is queued. Any thread.
#pragma once

#include <httplib.h>

#include "store/disk_floor.h"

namespace outpost::http {

// POST /v1/orders while the database's filesystem is below storage.min_free_bytes.
inline constexpr const char* kDiskSpaceLowProblemType = "urn:outpost:problem:disk-space-low";

// Writes the 503 disk-space-low problem (with Retry-After) and returns true when the disk
// is below its floor; otherwise leaves `response` alone. An idempotent repeat is refused
// too: its replay is answered once space is back.
bool refuseOrderBelowDiskFloor(store::DiskFloor& disk_floor, httplib::Response& response);

}  // namespace outpost::http
