// SQL for orders, their items and status history. Every function runs on the connection
// it is given (the writer's inside a transaction, or a reader's) and throws
// SQLite::Exception; Store::write/read turn those into errors.
#pragma once

#include <optional>
#include <string>

#include "orders/order.h"
#include "store/connection.h"

namespace outpost::orders {

// Inserts the order, its items and its first history entry.
void insertOrder(store::Connection& connection, const Order& order);

void setDeliveryId(store::Connection& connection, const std::string& order_id,
                   const std::string& delivery_id, std::int64_t now_millis);

std::optional<Order> findOrder(store::Connection& connection, const std::string& id,
                               bool with_history);

// Newest first; `filter.after` is the id of the last order of the previous page.
OrderPage listOrders(store::Connection& connection, const OrderFilter& filter);

}  // namespace outpost::orders
