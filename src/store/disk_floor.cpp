#include "store/disk_floor.h"

#include <algorithm>
#include <limits>

#include "store/file_probe.h"

namespace outpost::store {
namespace {

std::int64_t steadyNanos(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock.steadyNow().time_since_epoch())
      .count();
}

constexpr std::int64_t kReadEveryNanos =
    std::chrono::duration_cast<std::chrono::nanoseconds>(DiskFloor::kReadEvery).count();

}  // namespace

DiskFloor::DiskFloor(const Clock& clock, std::uint64_t floor_bytes, FreeSpaceProbe probe)
    : clock_(clock), floor_bytes_(floor_bytes), probe_(std::move(probe)) {}

DiskFloor::FreeSpaceProbe DiskFloor::probeFor(const std::string& database_path) {
  return [directory = directoryOf(database_path)] { return freeBytes(directory); };
}

bool DiskFloor::belowFloor() { return enabled() && reading().belowFloor(); }

DiskReading DiskFloor::reading() {
  if (fresh()) {
    return cached();
  }
  std::lock_guard lock(probe_mutex_);
  // Another caller may have read it while this one waited for the lock.
  if (fresh()) {
    return cached();
  }
  auto free = probe_();
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  free_bytes_.store(free ? static_cast<std::int64_t>(std::min(*free, kMax)) : kUnknown,
                    std::memory_order_relaxed);
  read_at_nanos_.store(steadyNanos(clock_), std::memory_order_release);
  return cached();
}

bool DiskFloor::fresh() const {
  const auto read_at = read_at_nanos_.load(std::memory_order_acquire);
  return read_at != kNeverRead && steadyNanos(clock_) - read_at < kReadEveryNanos;
}

DiskReading DiskFloor::cached() const {
  DiskReading reading;
  reading.floor_bytes = floor_bytes_;
  const auto free = free_bytes_.load(std::memory_order_relaxed);
  if (free != kUnknown) reading.free_bytes = static_cast<std::uint64_t>(free);
  return reading;
}

}  // namespace outpost::store
