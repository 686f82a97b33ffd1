// How long after the delivery service comes back until every queued order has a delivery
// id (SPEC §4.1): 100 orders taken while the service refused connections, then the
// service returns. Run by bench/delivery_recovery.sh; not part of the test suite (the
// default configuration takes about a minute by design).
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <thread>

#include "support/fake_services.h"
#include "support/node_process.h"

namespace outpost::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr int kOrders = 100;

int scalar(const std::string& database, const char* sql) {
  SQLite::Database db(database, SQLite::OPEN_READONLY);
  return db.execAndGet(sql).getInt();
}

// Polls until `condition` or `limit`; returns whether it held.
bool waitFor(const std::function<bool()>& condition, std::chrono::seconds limit) {
  const auto deadline = steady_clock::now() + limit;
  while (steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(20));  // polling the node's database
  }
  return condition();
}

void measure(const std::string& label, std::map<std::string, std::string> env) {
  TempDir dir;
  FakeDeliveryService delivery;
  delivery.setFault(Fault::kRefuse);
  env["OUTPOST_DELIVERY_SERVICE_URL"] = delivery.url();
  auto node = NodeProcess::start(dir, {env, ""});
  ASSERT_NE(node, nullptr);
  auto client = node->client();
  for (int i = 0; i < kOrders; ++i) {
    auto response =
        client->Post("/v1/orders", R"({"customerId":"c","items":[{"productId":"p","quantity":1}]})",
                     "application/json");
    ASSERT_TRUE(response && response->status == 201);
  }
  ASSERT_TRUE(waitFor(
      [&] {
        return scalar(node->database(),
                      "SELECT COUNT(*) FROM breaker_state WHERE name = 'delivery-service'"
                      " AND state = 'OPEN'") == 1;
      },
      std::chrono::seconds(30)));
  delivery.setFault(Fault::kNone);
  const auto back = steady_clock::now();
  const bool all = waitFor(
      [&] {
        return scalar(node->database(),
                      "SELECT COUNT(*) FROM orders WHERE delivery_id IS NOT NULL") == kOrders;
      },
      std::chrono::seconds(600));
  const auto elapsed = std::chrono::duration_cast<milliseconds>(steady_clock::now() - back);
  EXPECT_TRUE(all);
  EXPECT_EQ(delivery.deliveryCount(), kOrders);
  std::printf("%-44s %d orders delivered %.1f s after the service came back (%d deliveries)\n",
              label.c_str(), kOrders, elapsed.count() / 1000.0, delivery.deliveryCount());
}

TEST(DeliveryRecovery, DefaultConfiguration) {
  measure("defaults (reset 60 s, backoff 1-5 min):", {});
}

TEST(DeliveryRecovery, ShortBackoffConfiguration) {
  measure("short (reset 5 s, backoff 1-5 s):",
          {{"OUTPOST_BREAKERS_DELIVERY_SERVICE_RESET_TIMEOUT_MS", "5000"},
           {"OUTPOST_DELIVERY_SERVICE_RETRY_INITIAL_DELAY_MS", "1000"},
           {"OUTPOST_DELIVERY_SERVICE_RETRY_MAX_DELAY_MS", "5000"}});
}

}  // namespace
}  // namespace outpost::testing
