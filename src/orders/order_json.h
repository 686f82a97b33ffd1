// The order's JSON faces: parsing and validating a new order (SPEC §3), and rendering an
// order for the API and for events.
#pragma once

#include <nlohmann/json.hpp>

#include "clients/delivery_client.h"
#include "orders/order.h"
#include "outpost/result.h"

namespace outpost::orders {

inline constexpr int kMaxItems = 100;
inline constexpr std::int64_t kMaxQuantity = 10000;
inline constexpr std::size_t kMaxStringLength = 128;

// The order, or kInvalidArgument listing every bad field (unknown fields included).
Result<NewOrder> parseNewOrder(const nlohmann::json& body);

nlohmann::json itemsToJson(const std::vector<OrderItem>& items);

// What the delivery service is sent to ship the order (SPEC §6).
clients::DeliveryRequest deliveryRequest(const Order& order);

// {"id", "status", "requiresManualReview", "deliveryId", "createdAt"}: the 201 body.
nlohmann::json orderSummaryJson(const Order& order);

// The full order for GET; `with_history` adds history[], sagaState, sagaSteps[] and the
// forwarding trail events[].
nlohmann::json orderJson(const Order& order, bool with_history);

}  // namespace outpost::orders
