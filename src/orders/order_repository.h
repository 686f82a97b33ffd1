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

// Moves the order from `from` to change.status and records the change in its history;
// false, and nothing written, when the order is not in `from` any more (another writer
// got there first). The caller checks isValidTransition.
bool changeStatus(store::Connection& connection, const std::string& order_id,
                  const std::string& from, const StatusChange& change);

// A history entry that does not change the status: a cancel request, a review resolution.
void appendHistory(store::Connection& connection, const std::string& order_id,
                   const StatusChange& change);

// The delivery service has been read holding `delivery_id` as cancelled (or not holding
// it at all): if it is still the order's delivery, its cancellation needs no more checking.
void markDeliveryCancelVerified(store::Connection& connection, const std::string& order_id,
                                const std::string& delivery_id);

void setDeliveryId(store::Connection& connection, const std::string& order_id,
                   const std::string& delivery_id, std::int64_t now_millis);

// `with_history`: with the status history, the saga's steps and the forwarding trail
// (the order's outbox events), for the API; the write paths read without.
std::optional<Order> findOrder(store::Connection& connection, const std::string& id,
                               bool with_history);

// Newest first; `filter.after` is the id of the last order of the previous page.
OrderPage listOrders(store::Connection& connection, const OrderFilter& filter);

}  // namespace outpost::orders
