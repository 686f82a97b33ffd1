// ServiceClock: the time of the AWS services as the node believes it, the local wall
// clock plus an offset taken from the Date header of a clock error (SPEC §11). After days
// offline a box's clock may have drifted past the 5 minutes AWS allows a signature; the
// node then signs with the corrected time and never changes the local clock. One per node
// (one clock), shared by the SNS and SQS destinations; thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "outpost/clock.h"

namespace outpost::clients {

class ServiceClock {
 public:
  // Told (old offset, new offset) whenever the offset changes, for the log.
  using OnChange = std::function<void(std::int64_t old_ms, std::int64_t new_ms)>;

  explicit ServiceClock(const Clock& local, OnChange on_change = nullptr);

  // Service time minus local time; 0 until a clock error has been answered.
  std::int64_t offsetMillis() const { return offset_ms_.load(); }
  std::int64_t serviceMillis() const { return local_.wallMillis() + offsetMillis(); }

  // Keeps the offset the service's `date` header (an HTTP date) shows against the local
  // clock now; false, and the offset as it was, when the header cannot be read.
  bool correctFrom(const std::string& date);

 private:
  const Clock& local_;
  OnChange on_change_;
  std::atomic<std::int64_t> offset_ms_{0};
};

}  // namespace outpost::clients
