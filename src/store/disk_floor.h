// DiskFloor: storage.min_free_bytes (SPEC §11). Orders are refused while the database's
// filesystem has less free space than the floor, so SQLite never meets a full disk on an
// order and the room left serves everything else (reads, the relay, retention, alerts,
// staff actions) until events leave and retention frees pages.
//
// Free space is read through an injected probe at most once a second: a reading younger
// than kReadEvery is answered from memory (two atomic loads and the clock), so the order
// path never makes a syscall per order. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>

#include "outpost/clock.h"
#include "outpost/result.h"

namespace outpost::store {

struct DiskReading {
  std::optional<std::uint64_t> free_bytes;  // none: the probe failed
  std::uint64_t floor_bytes = 0;            // 0: no floor
  // "Less free space than the floor": exactly the floor is enough. An unknown reading
  // refuses nothing; SQLite's own errors still stop a write that cannot be done.
  bool belowFloor() const { return floor_bytes > 0 && free_bytes && *free_bytes < floor_bytes; }
};

class DiskFloor {
 public:
  using FreeSpaceProbe = std::function<Result<std::uint64_t>()>;

  static constexpr std::chrono::milliseconds kReadEvery{1000};

  DiskFloor(const Clock& clock, std::uint64_t floor_bytes, FreeSpaceProbe probe);

  // The probe of the filesystem holding `database_path` (store::freeBytes of its folder).
  static FreeSpaceProbe probeFor(const std::string& database_path);

  bool enabled() const { return floor_bytes_ > 0; }
  // Whether an order must be refused now. With no floor, the probe is never called.
  bool belowFloor();
  // The last reading, read again first when it is kReadEvery old or older.
  DiskReading reading();

 private:
  static constexpr std::int64_t kNeverRead = std::numeric_limits<std::int64_t>::min();
  static constexpr std::int64_t kUnknown = -1;

  bool fresh() const;
  DiskReading cached() const;

  const Clock& clock_;
  const std::uint64_t floor_bytes_;
  FreeSpaceProbe probe_;
  std::mutex probe_mutex_;  // one probe at a time; the others take the fresh reading
  std::atomic<std::int64_t> free_bytes_{kUnknown};
  std::atomic<std::int64_t> read_at_nanos_{kNeverRead};  // steady clock
};

}  // namespace outpost::store
