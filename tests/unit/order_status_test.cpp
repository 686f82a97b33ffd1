#include "orders/order_status.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

namespace outpost::orders {
namespace {

const std::string kAll[] = {kPendingShipment, kShipped, kDelivered, kDeliveryFailed, kCancelled};

TEST(OrderStatus, EveryValidTransitionAndNoOther) {
  const std::set<std::pair<std::string, std::string>> valid = {{kPendingShipment, kShipped},
                                                               {kPendingShipment, kDelivered},
                                                               {kPendingShipment, kDeliveryFailed},
                                                               {kPendingShipment, kCancelled},
                                                               {kShipped, kDelivered},
                                                               {kShipped, kDeliveryFailed},
                                                               {kDeliveryFailed, kPendingShipment},
                                                               {kDeliveryFailed, kCancelled}};
  int checked = 0;
  for (const auto& from : kAll) {
    for (const auto& to : kAll) {
      EXPECT_EQ(isValidTransition(from, to), valid.contains({from, to})) << from << " -> " << to;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 25);
  EXPECT_FALSE(isValidTransition("UNKNOWN", kShipped));
  EXPECT_FALSE(isValidTransition(kPendingShipment, "UNKNOWN"));
}

TEST(OrderStatus, FinalStatusesGoNowhere) {
  for (const auto& status : kAll) {
    const bool final_status = status == kDelivered || status == kCancelled;
    EXPECT_EQ(isFinalStatus(status), final_status) << status;
    if (!final_status) continue;
    for (const auto& to : kAll) EXPECT_FALSE(isValidTransition(status, to)) << status << to;
  }
}

TEST(OrderStatus, DeliveryStatusesMapAsTheContractSays) {
  const std::pair<std::string, std::string> mapping[] = {
      {"CREATED", kPendingShipment}, {"PENDING", kPendingShipment}, {"PICKED_UP", kShipped},
      {"IN_TRANSIT", kShipped},      {"DELIVERED", kDelivered},     {"FAILED", kDeliveryFailed},
      {"RETURNED", kDeliveryFailed}, {"CANCELLED", kCancelled}};
  for (const auto& [delivery, sales] : mapping) {
    EXPECT_EQ(statusForDeliveryStatus(delivery), sales) << delivery;
  }
  for (const char* unknown : {"", "created", "LOST", "SHIPPED", "DELIVERY_FAILED"}) {
    EXPECT_FALSE(statusForDeliveryStatus(unknown)) << unknown;
  }
}

TEST(OrderStatus, KnownStatusesAreExactlyTheFive) {
  for (const auto& status : kAll) EXPECT_TRUE(isKnownOrderStatus(status)) << status;
  EXPECT_FALSE(isKnownOrderStatus("pending_shipment"));
  EXPECT_FALSE(isKnownOrderStatus("CREATED"));
}

}  // namespace
}  // namespace outpost::orders
