#include "orders/availability.h"

#include "clients/guarded_call.h"

namespace outpost::orders {
namespace {

AvailabilityVerdict fallback(const std::string& why) {
  return {AvailabilityVerdict::Kind::kFallback,
          {},
          "product availability not confirmed (" + why + "); assumed available"};
}

}  // namespace

std::map<std::string, std::int64_t> requestedQuantities(const std::vector<OrderItem>& items) {
  std::map<std::string, std::int64_t> requested;
  for (const auto& item : items) requested[item.product_id] += item.quantity;
  return requested;
}

AvailabilityVerdict judgeAvailability(const std::map<std::string, std::int64_t>& requested,
                                      const clients::AvailabilityAnswer& answer) {
  AvailabilityVerdict verdict{AvailabilityVerdict::Kind::kAvailable, {}, ""};
  for (const auto& [product, quantity] : requested) {
    auto it = answer.products.find(product);
    const clients::ProductAvailability stock =
        it == answer.products.end() ? clients::ProductAvailability{} : it->second;
    if (stock.available && stock.quantity >= quantity) continue;
    verdict.short_products.push_back(
        {product, stock.available ? "requested " + std::to_string(quantity) + ", available " +
                                        std::to_string(stock.quantity)
                                  : "not available"});
  }
  if (verdict.short_products.empty()) return verdict;
  verdict.kind = AvailabilityVerdict::Kind::kShort;
  verdict.reason = "products unavailable or short:";
  for (const auto& entry : verdict.short_products) {
    verdict.reason += " " + entry.field + " (" + entry.detail + ")";
  }
  return verdict;
}

AvailabilityVerdict AvailabilityChecker::check(const std::vector<OrderItem>& items) {
  const auto requested = requestedQuantities(items);
  std::vector<std::string> ids;
  for (const auto& [product, quantity] : requested) ids.push_back(product);
  const auto called = clients::callThrough(breaker_, [&] { return client_.check(ids); });
  if (!called) return fallback("product-service circuit breaker is open");
  const clients::AvailabilityAnswer& answer = *called;
  if (answer.call_class == clients::CallClass::kSuccess)
    return judgeAvailability(requested, answer);
  log_.warn("product service unavailable: using fallback availability",
            {{"error", answer.error}, {"productIds", ids}});
  return fallback(answer.call_class == clients::CallClass::kPermanent
                      ? "product service refused the request: " + answer.error
                      : answer.error);
}

}  // namespace outpost::orders
