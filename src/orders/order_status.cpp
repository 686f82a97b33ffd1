#include "orders/order_status.h"

#include <algorithm>
#include <array>
#include <utility>

namespace outpost::orders {
namespace {

constexpr std::array<std::string_view, 5> kStatuses = {kPendingShipment, kShipped, kDelivered,
                                                       kDeliveryFailed, kCancelled};

// Every allowed change; DELIVERED and CANCELLED appear only as targets.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kTransitions = {{
    {kPendingShipment, kShipped},
    {kPendingShipment, kDelivered},
    {kPendingShipment, kDeliveryFailed},
    {kPendingShipment, kCancelled},
    {kShipped, kDelivered},
    {kShipped, kDeliveryFailed},
    {kDeliveryFailed, kPendingShipment},
    {kDeliveryFailed, kCancelled},
}};

constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kDeliveryToSales = {{
    {"CREATED", kPendingShipment},
    {"PENDING", kPendingShipment},
    {"PICKED_UP", kShipped},
    {"IN_TRANSIT", kShipped},
    {"DELIVERED", kDelivered},
    {"FAILED", kDeliveryFailed},
    {"RETURNED", kDeliveryFailed},
    {"CANCELLED", kCancelled},
}};

}  // namespace

bool isKnownOrderStatus(const std::string& status) {
  return std::find(kStatuses.begin(), kStatuses.end(), status) != kStatuses.end();
}

bool isFinalStatus(std::string_view status) { return status == kDelivered || status == kCancelled; }

bool isValidTransition(std::string_view from, std::string_view to) {
  const std::pair<std::string_view, std::string_view> change = {from, to};
  return std::find(kTransitions.begin(), kTransitions.end(), change) != kTransitions.end();
}

std::optional<std::string> statusForDeliveryStatus(std::string_view delivery_status) {
  for (const auto& [delivery, sales] : kDeliveryToSales) {
    if (delivery == delivery_status) return std::string(sales);
  }
  return std::nullopt;
}

}  // namespace outpost::orders
