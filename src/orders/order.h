// The order as the node keeps it. Plain values.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "orders/order_status.h"
#include "outbox/event_row.h"

namespace outpost::orders {

inline constexpr const char* kOrderIdPrefix = "ORD-";

struct OrderItem {
  std::string product_id;
  std::int64_t quantity = 0;
  std::optional<std::int64_t> unit_price_cents;
};

struct NewOrder {
  std::string customer_id;
  std::vector<OrderItem> items;
  std::optional<nlohmann::json> shipping_address;
  std::optional<nlohmann::json> metadata;
};

struct StatusChange {
  std::string status;
  std::int64_t at = 0;
  std::optional<std::string> reason;
};

struct Order {
  std::string id;
  std::string customer_id;
  std::string status;
  std::vector<OrderItem> items;
  std::optional<nlohmann::json> shipping_address;
  std::optional<nlohmann::json> metadata;
  bool requires_manual_review = false;
  std::optional<std::string> review_reason;
  std::optional<std::string> delivery_id;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::vector<StatusChange> history;
  // The order's saga (store/saga_records.h): its state and its steps (a JSON array of
  // {"step", "at", "data"?}): the first ones are written with a new order's row; read back
  // with the history.
  std::string saga_state;
  nlohmann::json saga_steps = nlohmann::json::array();
  // The forwarding trail (SPEC §11): the order's events still in the outbox, in commit
  // order; read back with the history.
  std::vector<outbox::EventRow> events;
};

struct OrderPage {
  std::vector<Order> items;
  std::optional<std::string> next;  // the cursor of the following page
};

struct OrderFilter {
  std::optional<std::string> status;
  int limit = 50;
  std::optional<std::string> after;  // an order id: the page starts below it
};

}  // namespace outpost::orders
