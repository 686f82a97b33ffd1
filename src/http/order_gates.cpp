#include "http/order_gates.h"

#include <string>

#include "http/problem.h"

namespace outpost::http {

bool refuseOrderBelowDiskFloor(store::DiskFloor& disk_floor, httplib::Response& response) {
  if (!disk_floor.enabled()) return false;  // no floor: free space is never read here
  const auto reading = disk_floor.reading();
  if (!reading.belowFloor()) return false;
  writeProblemOfType(
      response, 503, kDiskSpaceLowProblemType,
      "the database's filesystem has " + std::to_string(reading.free_bytes.value_or(0)) +
          " bytes free, less than storage.min_free_bytes (" + std::to_string(reading.floor_bytes) +
          "); orders are taken again once space is freed");
  return true;
}

}  // namespace outpost::http
