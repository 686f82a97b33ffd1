// DeliveryClient: the delivery service of SPEC §6 over the shared HttpClient. The order id
// travels as Idempotency-Key, so a retry after a lost answer never makes a second delivery.
#pragma once

#include <string>

#include "clients/http_client.h"
#include "orders/order.h"

namespace outpost::clients {

struct DeliveryAnswer {
  CallClass call_class = CallClass::kRetriable;
  std::string delivery_id;  // set on success
  std::string error;        // set otherwise
  bool timed_out = false;
};

class DeliveryClient {
 public:
  DeliveryClient(HttpClient& http, std::string base_url, std::int64_t timeout_ms)
      : http_(http), base_url_(std::move(base_url)), timeout_ms_(timeout_ms) {}

  // POST {url}/deliveries. A 2xx without a usable "id" is a malformed answer: retriable.
  DeliveryAnswer initiate(const orders::Order& order);

 private:
  HttpClient& http_;
  std::string base_url_;
  std::int64_t timeout_ms_;
};

}  // namespace outpost::clients
