#include "clients/product_client.h"

#include <nlohmann/json.hpp>

#include "common/json_parse.h"

namespace outpost::clients {
namespace {

using nlohmann::json;

bool parseEntry(const json& entry, std::map<std::string, ProductAvailability>& out) {
  if (!entry.is_object()) return false;
  auto id = entry.find("productId");
  auto available = entry.find("available");
  auto quantity = entry.find("quantity");
  if (id == entry.end() || !id->is_string() || available == entry.end() ||
      !available->is_boolean() || quantity == entry.end() || !quantity->is_number_integer()) {
    return false;
  }
  out[id->get<std::string>()] = {available->get<bool>(), quantity->get<std::int64_t>()};
  return true;
}

}  // namespace

AvailabilityAnswer ProductClient::check(const std::vector<std::string>& product_ids) {
  HttpRequest request;
  request.method = "POST";
  request.url = base_url_ + "/availability";
  request.headers = {{"Content-Type", "application/json"}};
  request.body = json({{"productIds", product_ids}}).dump();
  request.timeout_ms = timeout_ms_;
  const HttpResponse response = http_.send(request);
  AvailabilityAnswer answer{response.call_class, {}, response.error, response.timed_out};
  if (response.call_class != CallClass::kSuccess) return answer;
  const json parsed = parseJsonOrDiscarded(response.body);
  bool well_formed = parsed.is_array();
  if (well_formed) {
    for (const auto& entry : parsed)
      well_formed = well_formed && parseEntry(entry, answer.products);
  }
  if (!well_formed) {
    answer.call_class = CallClass::kRetriable;
    answer.products.clear();
    answer.error = "malformed answer from the product service";
    return answer;
  }
  for (const auto& id : product_ids) answer.products.try_emplace(id, ProductAvailability{});
  return answer;
}

HttpResponse ProductClient::probe() {
  HttpRequest request;
  request.url = base_url_ + "/availability";
  request.timeout_ms = timeout_ms_;
  return http_.send(request);
}

}  // namespace outpost::clients
