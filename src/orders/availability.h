// AvailabilityChecker: asks the product service whether an order's products are in stock,
// with the design's fallback (SPEC §4.2): service down or breaker open means "assume
// available, quantity 1" and the order is flagged for review. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "clients/product_client.h"
#include "observability/logger.h"
#include "orders/order.h"
#include "outpost/result.h"
#include "resilience/circuit_breaker.h"

namespace outpost::orders {

struct AvailabilityVerdict {
  enum class Kind {
    kNotChecked,  // no product service configured (zero infrastructure)
    kAvailable,
    kShort,     // the service reports some products unavailable or short
    kFallback,  // the service could not be asked: assumed available
  };
  Kind kind = Kind::kNotChecked;
  std::vector<outpost::FieldError>
      short_products;  // for kShort: {productId, "requested 3, available 1"}
  std::string reason;  // for kShort and kFallback: one line for staff
};

// The quantity each product needs, summed over the order's items.
std::map<std::string, std::int64_t> requestedQuantities(const std::vector<OrderItem>& items);

// Judges a successful answer against the requested quantities.
AvailabilityVerdict judgeAvailability(const std::map<std::string, std::int64_t>& requested,
                                      const clients::AvailabilityAnswer& answer);

class AvailabilityChecker {
 public:
  AvailabilityChecker(clients::ProductClient& client, resilience::CircuitBreaker& breaker,
                      observability::Logger& log)
      : client_(client), breaker_(breaker), log_(log) {}

  AvailabilityVerdict check(const std::vector<OrderItem>& items);

 private:
  clients::ProductClient& client_;
  resilience::CircuitBreaker& breaker_;
  observability::Logger& log_;
};

}  // namespace outpost::orders
