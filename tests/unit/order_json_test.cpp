#include "orders/order_json.h"

#include <gtest/gtest.h>

namespace outpost::orders {
namespace {

using nlohmann::json;

json validOrder() {
  return {{"customerId", "c-1"}, {"items", {{{"productId", "p-1"}, {"quantity", 2}}}}};
}

std::vector<std::string> badFields(const json& body) {
  auto parsed = parseNewOrder(body);
  std::vector<std::string> fields;
  if (parsed) return fields;
  EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidArgument);
  for (const auto& field : parsed.error().fields) fields.push_back(field.field);
  return fields;
}

TEST(ParseNewOrder, AcceptsAMinimalOrder) {
  auto order = parseNewOrder(validOrder());
  ASSERT_TRUE(order) << order.error().message;
  EXPECT_EQ(order->customer_id, "c-1");
  ASSERT_EQ(order->items.size(), 1u);
  EXPECT_EQ(order->items[0].quantity, 2);
  EXPECT_FALSE(order->items[0].unit_price_cents);
}

TEST(ParseNewOrder, RejectsUnknownFieldsAtEveryLevel) {
  auto body = validOrder();
  body["coupon"] = "x";
  body["items"][0]["colour"] = "red";
  EXPECT_EQ(badFields(body), (std::vector<std::string>{"coupon", "items[0].colour"}));
}

TEST(ParseNewOrder, QuantityLimitsAreInclusive) {
  for (std::int64_t ok : {1, 10000}) {
    auto body = validOrder();
    body["items"][0]["quantity"] = ok;
    EXPECT_TRUE(badFields(body).empty()) << ok;
  }
  for (json bad : {json(0), json(10001), json(-1), json(1.5), json("3"), json(nullptr),
                   json(18446744073709551615ULL)}) {
    auto body = validOrder();
    body["items"][0]["quantity"] = bad;
    EXPECT_EQ(badFields(body), std::vector<std::string>{"items[0].quantity"}) << bad;
  }
}

TEST(ParseNewOrder, ItemCountLimitsAreInclusive) {
  auto body = validOrder();
  body["items"] = json::array();
  EXPECT_EQ(badFields(body), std::vector<std::string>{"items"});
  for (int i = 0; i < 100; ++i) body["items"].push_back({{"productId", "p"}, {"quantity", 1}});
  EXPECT_TRUE(badFields(body).empty());
  body["items"].push_back({{"productId", "p"}, {"quantity", 1}});
  EXPECT_EQ(badFields(body), std::vector<std::string>{"items"});
}

TEST(ParseNewOrder, StringLengthCountsCharactersNotBytes) {
  auto body = validOrder();
  std::string accented;
  for (int i = 0; i < 128; ++i) accented += "\xC3\xA9";  // 128 characters, 256 bytes
  body["customerId"] = accented;
  EXPECT_TRUE(badFields(body).empty());
  body["customerId"] = accented + "e";
  EXPECT_EQ(badFields(body), std::vector<std::string>{"customerId"});
  body["customerId"] = "";
  EXPECT_EQ(badFields(body), std::vector<std::string>{"customerId"});
}

TEST(ParseNewOrder, ReportsEveryMissingField) {
  EXPECT_EQ(badFields(json::object()), (std::vector<std::string>{"customerId", "items"}));
  EXPECT_EQ(badFields(json::array()), std::vector<std::string>{"body"});
}

TEST(ParseNewOrder, OptionalObjectsMustBeObjects) {
  auto body = validOrder();
  body["shippingAddress"] = "12 High St";
  body["metadata"] = json::array();
  EXPECT_EQ(badFields(body), (std::vector<std::string>{"shippingAddress", "metadata"}));
  body["shippingAddress"] = {{"line1", "12 High St"}};
  body["metadata"] = {{"till", 3}};
  EXPECT_TRUE(badFields(body).empty());
}

TEST(ParseNewOrder, UnitPriceIsANonNegativeInteger) {
  auto body = validOrder();
  body["items"][0]["unitPriceCents"] = 0;
  EXPECT_TRUE(badFields(body).empty());
  body["items"][0]["unitPriceCents"] = -1;
  EXPECT_EQ(badFields(body), std::vector<std::string>{"items[0].unitPriceCents"});
}

}  // namespace
}  // namespace outpost::orders
