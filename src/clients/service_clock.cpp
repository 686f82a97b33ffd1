#include "clients/service_clock.h"

#include "clients/http_client.h"

namespace outpost::clients {

ServiceClock::ServiceClock(const Clock& local, OnChange on_change)
    : local_(local), on_change_(std::move(on_change)) {}

bool ServiceClock::correctFrom(const std::string& date) {
  const auto service_ms = parseHttpDate(date);
  if (!service_ms) return false;
  const std::int64_t offset = *service_ms - local_.wallMillis();
  const std::int64_t old = offset_ms_.exchange(offset);
  if (old != offset && on_change_) on_change_(old, offset);
  return true;
}

}  // namespace outpost::clients
