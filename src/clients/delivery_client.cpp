#include "clients/delivery_client.h"

#include <curl/curl.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "common/json_parse.h"

namespace outpost::clients {
namespace {

using nlohmann::json;

// A delivery id as one path segment: the service chose it, so it may hold any byte.
std::string pathSegment(const std::string& text) {
  std::unique_ptr<char, decltype(&curl_free)> escaped(
      curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size())), curl_free);
  return escaped ? std::string(escaped.get()) : std::string();
}

std::optional<std::string> stringField(const std::string& body, const char* name) {
  const auto parsed = parseJsonOrDiscarded(body);
  if (!parsed.is_object()) return std::nullopt;
  auto it = parsed.find(name);
  if (it == parsed.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

DeliveryAnswer answerFrom(const HttpResponse& response) {
  DeliveryAnswer answer;
  answer.call_class = response.call_class;
  answer.error = response.error;
  answer.timed_out = response.timed_out;
  answer.no_such_delivery = response.status == 404;
  return answer;
}

void markMalformed(DeliveryAnswer& answer, const char* missing) {
  answer.call_class = CallClass::kRetriable;
  answer.error = std::string("malformed answer from the delivery service: no ") + missing;
}

}  // namespace

HttpResponse DeliveryClient::call(const std::string& method, const std::string& path,
                                  std::vector<std::pair<std::string, std::string>> headers,
                                  std::string body) {
  HttpRequest request;
  request.method = method;
  request.url = base_url_ + path;
  request.headers = std::move(headers);
  request.body = std::move(body);
  request.timeout_ms = timeout_ms_;
  return http_.send(request);
}

HttpResponse DeliveryClient::probe() {
  return call("GET", "/deliveries/outpost-doctor-probe", {}, "");
}

DeliveryAnswer DeliveryClient::initiate(const DeliveryRequest& request) {
  const json body = {{"orderId", request.order_id},
                     {"items", request.items},
                     {"shippingAddress", request.shipping_address}};
  const HttpResponse response = call(
      "POST", "/deliveries",
      {{"Content-Type", "application/json"}, {"Idempotency-Key", request.order_id}}, body.dump());
  DeliveryAnswer answer = answerFrom(response);
  if (answer.call_class != CallClass::kSuccess) return answer;
  auto id = stringField(response.body, "id");
  if (!id) {
    markMalformed(answer, "delivery id");
    return answer;
  }
  answer.delivery_id = std::move(*id);
  answer.status = stringField(response.body, "status").value_or("");
  return answer;
}

DeliveryAnswer DeliveryClient::status(const std::string& delivery_id) {
  const HttpResponse response = call("GET", "/deliveries/" + pathSegment(delivery_id), {}, "");
  DeliveryAnswer answer = answerFrom(response);
  if (answer.call_class != CallClass::kSuccess) return answer;
  auto status = stringField(response.body, "status");
  if (!status) {
    markMalformed(answer, "status");
    return answer;
  }
  answer.delivery_id = delivery_id;
  answer.status = std::move(*status);
  return answer;
}

DeliveryAnswer DeliveryClient::cancel(const std::string& delivery_id) {
  const HttpResponse response =
      call("POST", "/deliveries/" + pathSegment(delivery_id) + "/cancel", {}, "");
  DeliveryAnswer answer = answerFrom(response);
  if (answer.call_class != CallClass::kSuccess) return answer;
  // Only the service's own word that this delivery is cancelled is done: a 2xx page from a
  // proxy or a captive portal in front of it cancelled nothing.
  if (stringField(response.body, "id") != delivery_id) {
    markMalformed(answer, "id of the cancelled delivery");
    return answer;
  }
  if (stringField(response.body, "status") != "CANCELLED") {
    markMalformed(answer, "status CANCELLED");
    return answer;
  }
  answer.delivery_id = delivery_id;
  answer.status = "CANCELLED";
  return answer;
}

}  // namespace outpost::clients
