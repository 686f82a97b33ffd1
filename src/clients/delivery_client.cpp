#include "clients/delivery_client.h"

#include <nlohmann/json.hpp>

#include "orders/order_json.h"

namespace outpost::clients {

DeliveryAnswer DeliveryClient::initiate(const orders::Order& order) {
  const nlohmann::json body = {
      {"orderId", order.id},
      {"items", orders::itemsToJson(order.items)},
      {"shippingAddress", order.shipping_address.value_or(nlohmann::json(nullptr))}};
  HttpRequest request;
  request.method = "POST";
  request.url = base_url_ + "/deliveries";
  request.headers = {{"Content-Type", "application/json"}, {"Idempotency-Key", order.id}};
  request.body = body.dump();
  request.timeout_ms = timeout_ms_;
  const HttpResponse response = http_.send(request);
  DeliveryAnswer answer{response.call_class, "", response.error, response.timed_out};
  if (response.call_class != CallClass::kSuccess) return answer;
  const auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_object() && parsed.contains("id") && parsed["id"].is_string() &&
      !parsed["id"].get_ref<const std::string&>().empty()) {
    answer.delivery_id = parsed["id"];
    return answer;
  }
  answer.call_class = CallClass::kRetriable;
  answer.error = "malformed answer from the delivery service: no delivery id";
  return answer;
}

}  // namespace outpost::clients
