// ProductClient: the product service of SPEC §6 over the shared HttpClient.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "clients/http_client.h"

namespace outpost::clients {

struct ProductAvailability {
  bool available = false;
  std::int64_t quantity = 0;
};

struct AvailabilityAnswer {
  CallClass call_class = CallClass::kRetriable;
  std::map<std::string, ProductAvailability> products;  // set on success
  std::string error;
  bool timed_out = false;
};

class ProductClient {
 public:
  ProductClient(HttpClient& http, std::string base_url, std::int64_t timeout_ms)
      : http_(http), base_url_(std::move(base_url)), timeout_ms_(timeout_ms) {}

  // POST {url}/availability. A 2xx that is not a list of {productId, available, quantity}
  // is a malformed answer: retriable. A product missing from the answer is unavailable.
  AvailabilityAnswer check(const std::vector<std::string>& product_ids);
  // GET {url}/availability, which asks for nothing (the route takes POST): any HTTP answer
  // proves the service reachable. For `outpost doctor`.
  HttpResponse probe();

 private:
  HttpClient& http_;
  std::string base_url_;
  std::int64_t timeout_ms_;
};

}  // namespace outpost::clients
