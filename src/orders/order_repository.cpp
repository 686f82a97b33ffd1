#include "orders/order_repository.h"

#include "outbox/outbox_admin.h"

namespace outpost::orders {
namespace {

using nlohmann::json;

std::optional<std::string> optionalText(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getString();
}

std::optional<json> optionalObject(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return json::parse(column.getString());
}

template <typename T>
void bindOptional(SQLite::Statement& statement, int index, const std::optional<T>& value) {
  if (value) {
    statement.bind(index, *value);
  } else {
    statement.bind(index);
  }
}

void insertItems(store::Connection& connection, const Order& order) {
  for (std::size_t line = 0; line < order.items.size(); ++line) {
    const auto& item = order.items[line];
    auto insert = connection.prepare(
        "INSERT INTO order_items (order_id, line, product_id, quantity, unit_price_cents)"
        " VALUES (?, ?, ?, ?, ?)");
    insert->bind(1, order.id);
    insert->bind(2, static_cast<int>(line));
    insert->bind(3, item.product_id);
    insert->bind(4, item.quantity);
    bindOptional(*insert, 5, item.unit_price_cents);
    insert->exec();
  }
}

}  // namespace

void appendHistory(store::Connection& connection, const std::string& order_id,
                   const StatusChange& change) {
  auto insert = connection.prepare(
      "INSERT INTO order_status_history (order_id, status, at, reason) VALUES (?, ?, ?, ?)");
  insert->bind(1, order_id);
  insert->bind(2, change.status);
  insert->bind(3, change.at);
  bindOptional(*insert, 4, change.reason);
  insert->exec();
}

namespace {

constexpr const char* kOrderColumns =
    "id, customer_id, status, shipping_address, metadata, requires_manual_review,"
    " review_reason, delivery_id, created_at, updated_at,"
    " saga_state";

Order readOrderRow(SQLite::Statement& row) {
  Order order;
  order.id = row.getColumn(0).getString();
  order.customer_id = row.getColumn(1).getString();
  order.status = row.getColumn(2).getString();
  order.shipping_address = optionalObject(row.getColumn(3));
  order.metadata = optionalObject(row.getColumn(4));
  order.requires_manual_review = row.getColumn(5).getInt() != 0;
  order.review_reason = optionalText(row.getColumn(6));
  order.delivery_id = optionalText(row.getColumn(7));
  order.created_at = row.getColumn(8).getInt64();
  order.updated_at = row.getColumn(9).getInt64();
  order.saga_state = row.getColumn(10).getString();
  return order;
}

std::vector<OrderItem> readItems(store::Connection& connection, const std::string& order_id) {
  auto query = connection.prepare(
      "SELECT product_id, quantity, unit_price_cents FROM order_items WHERE order_id = ?"
      " ORDER BY line");
  query->bind(1, order_id);
  std::vector<OrderItem> items;
  while (query->executeStep()) {
    OrderItem item;
    item.product_id = query->getColumn(0).getString();
    item.quantity = query->getColumn(1).getInt64();
    if (!query->getColumn(2).isNull()) item.unit_price_cents = query->getColumn(2).getInt64();
    items.push_back(std::move(item));
  }
  return items;
}

std::vector<StatusChange> readHistory(store::Connection& connection, const std::string& order_id) {
  auto query = connection.prepare(
      "SELECT status, at, reason FROM order_status_history WHERE order_id = ? ORDER BY id");
  query->bind(1, order_id);
  std::vector<StatusChange> history;
  while (query->executeStep()) {
    history.push_back({query->getColumn(0).getString(), query->getColumn(1).getInt64(),
                       optionalText(query->getColumn(2))});
  }
  return history;
}

}  // namespace

void insertOrder(store::Connection& connection, const Order& order) {
  auto insert = connection.prepare(
      "INSERT INTO orders (id, customer_id, status, shipping_address, metadata,"
      " requires_manual_review, review_reason, delivery_id, created_at, updated_at,"
      " saga_state, saga_steps) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert->bind(1, order.id);
  insert->bind(2, order.customer_id);
  insert->bind(3, order.status);
  if (order.shipping_address) insert->bind(4, order.shipping_address->dump());
  if (order.metadata) insert->bind(5, order.metadata->dump());
  insert->bind(6, order.requires_manual_review ? 1 : 0);
  bindOptional(*insert, 7, order.review_reason);
  bindOptional(*insert, 8, order.delivery_id);
  insert->bind(9, order.created_at);
  insert->bind(10, order.updated_at);
  insert->bind(11, order.saga_state.empty() ? std::string("RUNNING") : order.saga_state);
  insert->bind(12, order.saga_steps.dump());
  insert->exec();
  insertItems(connection, order);
  for (const auto& change : order.history) appendHistory(connection, order.id, change);
}

void setDeliveryId(store::Connection& connection, const std::string& order_id,
                   const std::string& delivery_id, std::int64_t now_millis) {
  // A delivery that reaches an order already cancelled must be seen cancelled too.
  auto update = connection.prepare(
      "UPDATE orders SET delivery_id = ?, updated_at = ?,"
      " delivery_cancel_unverified = (status = 'CANCELLED') WHERE id = ?");
  update->bind(1, delivery_id);
  update->bind(2, now_millis);
  update->bind(3, order_id);
  update->exec();
}

bool changeStatus(store::Connection& connection, const std::string& order_id,
                  const std::string& from, const StatusChange& change) {
  // Whatever path cancels an order with a delivery, the delivery is then checked until the
  // service is seen holding it cancelled (schema/007_cancel_verification.sql).
  auto update = connection.prepare(
      "UPDATE orders SET status = ?1, updated_at = ?2,"
      " delivery_cancel_unverified = (?1 = 'CANCELLED' AND delivery_id IS NOT NULL)"
      " WHERE id = ?3 AND status = ?4");
  update->bind(1, change.status);
  update->bind(2, change.at);
  update->bind(3, order_id);
  update->bind(4, from);
  if (update->exec() != 1) return false;
  appendHistory(connection, order_id, change);
  return true;
}

void markDeliveryCancelVerified(store::Connection& connection, const std::string& order_id,
                                const std::string& delivery_id) {
  auto update = connection.prepare(
      "UPDATE orders SET delivery_cancel_unverified = 0"
      " WHERE id = ? AND delivery_id = ? AND delivery_cancel_unverified = 1");
  update->bind(1, order_id);
  update->bind(2, delivery_id);
  update->exec();
}

std::optional<Order> findOrder(store::Connection& connection, const std::string& id,
                               bool with_history) {
  static const std::string sql =
      std::string("SELECT ") + kOrderColumns + ", saga_steps FROM orders WHERE id = ?";
  std::optional<Order> order;
  {
    auto query = connection.prepare(sql.c_str());
    query->bind(1, id);
    if (!query->executeStep()) return std::nullopt;
    order = readOrderRow(*query);
    if (with_history) order->saga_steps = json::parse(query->getColumn(11).getString());
  }
  order->items = readItems(connection, id);
  if (with_history) {
    order->history = readHistory(connection, id);
    order->events = outbox::listAggregateEvents(connection, id);
  }
  return order;
}

OrderPage listOrders(store::Connection& connection, const OrderFilter& filter) {
  // One statement for every filter: NULL parameters switch a condition off.
  static const std::string sql = std::string("SELECT ") + kOrderColumns +
                                 " FROM orders WHERE (?1 IS NULL OR status = ?1)"
                                 " AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3";
  OrderPage page;
  {
    auto query = connection.prepare(sql.c_str());
    bindOptional(*query, 1, filter.status);
    bindOptional(*query, 2, filter.after);
    query->bind(3, filter.limit + 1);  // one more than asked tells whether a next page exists
    while (query->executeStep()) page.items.push_back(readOrderRow(*query));
  }
  if (page.items.size() > static_cast<std::size_t>(filter.limit)) {
    page.items.pop_back();
    page.next = page.items.back().id;
  }
  for (auto& order : page.items) order.items = readItems(connection, order.id);
  return page;
}

}  // namespace outpost::orders
