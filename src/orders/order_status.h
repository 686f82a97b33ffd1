// Sales statuses, the delivery statuses they follow, and which changes are allowed
// (SPEC §5). Reconciliation applies a delivery service's status through these rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace outpost::orders {

inline constexpr const char* kPendingShipment = "PENDING_SHIPMENT";
inline constexpr const char* kShipped = "SHIPPED";
inline constexpr const char* kDelivered = "DELIVERED";
inline constexpr const char* kDeliveryFailed = "DELIVERY_FAILED";
inline constexpr const char* kCancelled = "CANCELLED";

// Every status an order can have; used to validate ?status= filters.
bool isKnownOrderStatus(const std::string& status);

// DELIVERED and CANCELLED: nothing changes an order in them.
bool isFinalStatus(std::string_view status);

// Whether an order in `from` may move to `to`. Staying where it is is not a transition.
bool isValidTransition(std::string_view from, std::string_view to);

// The sales status for a delivery service status (CREATED, PENDING, PICKED_UP,
// IN_TRANSIT, DELIVERED, FAILED, RETURNED, CANCELLED); nullopt for any other.
std::optional<std::string> statusForDeliveryStatus(std::string_view delivery_status);

}  // namespace outpost::orders
