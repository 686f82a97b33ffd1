#include "orders/order_json.h"

#include <set>
#include <string>

#include "common/text.h"
#include "outbox/outbox_admin.h"

namespace outpost::orders {
namespace {

using nlohmann::json;

class FieldErrors {
 public:
  void add(std::string field, std::string detail) {
    errors_.push_back({std::move(field), std::move(detail)});
  }
  bool empty() const { return errors_.empty(); }
  Error toError() const { return Error::invalidFields(errors_); }

 private:
  std::vector<FieldError> errors_;
};

void rejectUnknownFields(const json& object, const std::set<std::string>& known,
                         const std::string& prefix, FieldErrors& errors) {
  for (const auto& [key, value] : object.items()) {
    if (!known.contains(key)) errors.add(prefix + key, "unknown field");
  }
}

std::optional<std::string> readString(const json& object, const char* key, const std::string& path,
                                      bool required, FieldErrors& errors) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) errors.add(path, "is required");
    return std::nullopt;
  }
  if (!it->is_string()) {
    errors.add(path, "must be a string");
    return std::nullopt;
  }
  const auto& text = it->get_ref<const std::string&>();
  const auto length = utf8Length(text);
  if (length < 1 || length > kMaxStringLength) {
    errors.add(path, "must be 1 to " + std::to_string(kMaxStringLength) + " characters long");
    return std::nullopt;
  }
  return text;
}

std::optional<std::int64_t> readInteger(const json& object, const char* key,
                                        const std::string& path, bool required, std::int64_t min,
                                        std::int64_t max, FieldErrors& errors) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) errors.add(path, "is required");
    return std::nullopt;
  }
  const std::string range = std::to_string(min) + " and " + std::to_string(max);
  if (!it->is_number_integer()) {
    errors.add(path, "must be an integer between " + range);
    return std::nullopt;
  }
  // Unsigned values above INT64_MAX are out of range, not negative.
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    errors.add(path, "must be between " + range);
    return std::nullopt;
  }
  const auto value = it->get<std::int64_t>();
  if (value < min || value > max) {
    errors.add(path, "must be between " + range);
    return std::nullopt;
  }
  return value;
}

std::optional<json> readObject(const json& object, const char* key, FieldErrors& errors) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) {
    errors.add(key, "must be an object");
    return std::nullopt;
  }
  return *it;
}

std::optional<OrderItem> parseItem(const json& item, const std::string& path, FieldErrors& errors) {
  if (!item.is_object()) {
    errors.add(path, "must be an object");
    return std::nullopt;
  }
  rejectUnknownFields(item, {"productId", "quantity", "unitPriceCents"}, path + ".", errors);
  auto product = readString(item, "productId", path + ".productId", true, errors);
  auto quantity = readInteger(item, "quantity", path + ".quantity", true, 1, kMaxQuantity, errors);
  auto price = readInteger(item, "unitPriceCents", path + ".unitPriceCents", false, 0,
                           1'000'000'000'000LL, errors);
  if (!product || !quantity) return std::nullopt;
  return OrderItem{*product, *quantity, price};
}

std::vector<OrderItem> parseItems(const json& body, FieldErrors& errors) {
  std::vector<OrderItem> items;
  auto it = body.find("items");
  if (it == body.end() || it->is_null()) {
    errors.add("items", "is required");
    return items;
  }
  if (!it->is_array() || it->empty() || it->size() > kMaxItems) {
    errors.add("items", "must be an array of 1 to " + std::to_string(kMaxItems) + " items");
    return items;
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    auto item = parseItem((*it)[i], "items[" + std::to_string(i) + "]", errors);
    if (item) items.push_back(std::move(*item));
  }
  return items;
}

json optionalJson(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

}  // namespace

Result<NewOrder> parseNewOrder(const json& body) {
  FieldErrors errors;
  if (!body.is_object()) {
    errors.add("body", "must be a JSON object");
    return errors.toError();
  }
  rejectUnknownFields(body, {"customerId", "items", "shippingAddress", "metadata"}, "", errors);
  NewOrder order;
  auto customer = readString(body, "customerId", "customerId", true, errors);
  order.items = parseItems(body, errors);
  order.shipping_address = readObject(body, "shippingAddress", errors);
  order.metadata = readObject(body, "metadata", errors);
  if (!errors.empty()) return errors.toError();
  order.customer_id = *customer;
  return order;
}

clients::DeliveryRequest deliveryRequest(const Order& order) {
  return {order.id, itemsToJson(order.items), order.shipping_address.value_or(json(nullptr))};
}

json itemsToJson(const std::vector<OrderItem>& items) {
  json out = json::array();
  for (const auto& item : items) {
    json entry = {{"productId", item.product_id}, {"quantity", item.quantity}};
    if (item.unit_price_cents) entry["unitPriceCents"] = *item.unit_price_cents;
    out.push_back(std::move(entry));
  }
  return out;
}

json orderSummaryJson(const Order& order) {
  return {{"id", order.id},
          {"status", order.status},
          {"requiresManualReview", order.requires_manual_review},
          {"deliveryId", optionalJson(order.delivery_id)},
          {"createdAt", formatTimestamp(order.created_at)}};
}

json orderJson(const Order& order, bool with_history) {
  json out = orderSummaryJson(order);
  out["customerId"] = order.customer_id;
  out["items"] = itemsToJson(order.items);
  out["shippingAddress"] = order.shipping_address.value_or(json(nullptr));
  out["metadata"] = order.metadata.value_or(json(nullptr));
  out["reviewReason"] = optionalJson(order.review_reason);
  out["updatedAt"] = formatTimestamp(order.updated_at);
  if (with_history) {
    json history = json::array();
    for (const auto& change : order.history) {
      history.push_back({{"status", change.status},
                         {"at", formatTimestamp(change.at)},
                         {"reason", optionalJson(change.reason)}});
    }
    out["history"] = std::move(history);
    out["sagaState"] = order.saga_state.empty() ? json(nullptr) : json(order.saga_state);
    json steps = json::array();
    for (const auto& step : order.saga_steps) {
      json shown = step;
      shown["at"] = formatTimestamp(step.at("at").get<std::int64_t>());
      steps.push_back(std::move(shown));
    }
    out["sagaSteps"] = std::move(steps);
    json events = json::array();
    for (const auto& event : order.events) events.push_back(outbox::trailEventJson(event));
    out["events"] = std::move(events);
  }
  return out;
}

}  // namespace outpost::orders
