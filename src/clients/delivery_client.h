// DeliveryClient: the delivery service of SPEC §6 over the shared HttpClient. The order id
// travels as Idempotency-Key, so a retry after a lost answer never makes a second delivery.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "clients/http_client.h"

namespace outpost::clients {

// What POST {url}/deliveries sends.
struct DeliveryRequest {
  std::string order_id;                            // also the Idempotency-Key
  nlohmann::json items = nlohmann::json::array();  // [{"productId", "quantity", ...}]
  nlohmann::json shipping_address;                 // null when the order has none
};

struct DeliveryAnswer {
  CallClass call_class = CallClass::kRetriable;
  std::string delivery_id;  // set on success
  std::string error;        // set otherwise
  bool timed_out = false;
  // The service answered 404: it holds no such delivery (a permanent answer).
  bool no_such_delivery = false;
  std::string status;  // the delivery's status, when the answer carried one
};

class DeliveryClient {
 public:
  DeliveryClient(HttpClient& http, std::string base_url, std::int64_t timeout_ms)
      : http_(http), base_url_(std::move(base_url)), timeout_ms_(timeout_ms) {}

  // POST {url}/deliveries. A 2xx without a usable "id" is a malformed answer: retriable.
  DeliveryAnswer initiate(const DeliveryRequest& request);
  // GET {url}/deliveries/{id}: the authoritative status. A 2xx without a string "status"
  // is malformed: retriable.
  DeliveryAnswer status(const std::string& delivery_id);
  // POST {url}/deliveries/{id}/cancel. Done only on a 2xx {"id": <this id>, "status":
  // "CANCELLED"}; any other 2xx is malformed: retriable. 404 (no_such_delivery) and other
  // 4xx (a refusal: the parcel has left) come back as permanent answers.
  DeliveryAnswer cancel(const std::string& delivery_id);
  // GET {url}/deliveries/outpost-doctor-probe, a delivery no one has (a 404 is the expected
  // answer): any HTTP answer proves the service reachable. For `outpost doctor`.
  HttpResponse probe();

 private:
  HttpResponse call(const std::string& method, const std::string& path,
                    std::vector<std::pair<std::string, std::string>> headers, std::string body);

  HttpClient& http_;
  std::string base_url_;
  std::int64_t timeout_ms_;
};

}  // namespace outpost::clients
