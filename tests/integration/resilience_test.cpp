// The design's failure scenarios against the real binary, with fake product and delivery
// services whose faults the test switches (SPEC §4, §9): the order is still 201, the right
// events are in the outbox, and once the fault clears the node converges by itself.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/database_lock.h"
#include "support/eventually.h"
#include "support/fake_services.h"
#include "support/node_process.h"
#include "support/outbox_backlog.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kOrder =
    R"({"customerId":"c-1","items":[{"productId":"sku-1","quantity":2},{"productId":"sku-2","quantity":1}],"shippingAddress":{"line1":"1 Quay St"}})";

// Short timings so that recovery fits a test; the defaults are minutes.
std::map<std::string, std::string> fastRecovery() {
  return {{"OUTPOST_DELIVERY_SERVICE_TIMEOUT_MS", "500"},
          {"OUTPOST_DELIVERY_SERVICE_RETRY_INITIAL_DELAY_MS", "200"},
          {"OUTPOST_DELIVERY_SERVICE_RETRY_MAX_DELAY_MS", "1000"},
          {"OUTPOST_BREAKERS_DELIVERY_SERVICE_RESET_TIMEOUT_MS", "500"},
          {"OUTPOST_PRODUCT_SERVICE_TIMEOUT_MS", "500"},
          {"OUTPOST_PRODUCT_SERVICE_RECHECK_INTERVAL_MS", "300"},
          {"OUTPOST_BREAKERS_PRODUCT_SERVICE_RESET_TIMEOUT_MS", "500"}};
}

class Resilience : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> env) {
    node_ = NodeProcess::start(dir_, {std::move(env), ""});
    ASSERT_NE(node_, nullptr);
    client_ = node_->client();
  }

  json postOrder(int expected_status = 201) {
    auto response = client_->Post("/v1/orders", kOrder, "application/json");
    EXPECT_TRUE(response);
    if (!response) return json();
    EXPECT_EQ(response->status, expected_status) << response->body;
    return json::parse(response->body, nullptr, false);
  }

  json getOrder(const std::string& id) {
    auto response = client_->Get("/v1/orders/" + id);
    if (!response || response->status != 200) return json();
    return json::parse(response->body, nullptr, false);
  }

  int events(const std::string& order_id, const std::string& type) {
    return countOrderEvents(node_->database(), order_id, type);
  }

  bool allDelivered(const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      if (!getOrder(id)["deliveryId"].is_string()) return false;
    }
    return true;
  }

  int openReviews(const std::string& order_id) {
    SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
    SQLite::Statement query(
        db, "SELECT COUNT(*) FROM review_items WHERE order_id = ? AND resolved_at IS NULL");
    query.bind(1, order_id);
    query.executeStep();
    return query.getColumn(0).getInt();
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(Resilience, DeliveryUpGivesTheDeliveryIdInThe201) {
  FakeDeliveryService delivery;
  auto env = fastRecovery();
  env["OUTPOST_DELIVERY_SERVICE_URL"] = delivery.url();
  start(env);
  const json created = postOrder();
  ASSERT_TRUE(created["deliveryId"].is_string()) << created;
  const std::string id = created["id"];
  EXPECT_EQ(getOrder(id)["deliveryId"], created["deliveryId"]);
  EXPECT_EQ(events(id, "DELIVERY_INITIATED"), 1);
  EXPECT_EQ(delivery.deliveriesPerOrder()[id], 1);
}

TEST_F(Resilience, DeliveryDownOrdersAreTakenAndDeliveredOnceItReturns) {
  FakeDeliveryService delivery;
  delivery.setFault(Fault::kRefuse);
  auto env = fastRecovery();
  env["OUTPOST_DELIVERY_SERVICE_URL"] = delivery.url();
  start(env);
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    const json created = postOrder();
    EXPECT_TRUE(created["deliveryId"].is_null());
    ids.push_back(created["id"]);
  }
  EXPECT_GE(events(ids[0], "DELIVERY_INITIATION_FAILED"), 1);

  delivery.setFault(Fault::kNone);
  const auto back = std::chrono::steady_clock::now();
  EXPECT_TRUE(eventually([&] { return allDelivered(ids); }, seconds(20))) << node_->logs();
  std::printf("delivery back -> 10 orders delivered in %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - back)
                      .count()));
  for (const auto& id : ids) {
    EXPECT_EQ(delivery.deliveriesPerOrder()[id], 1) << id;
    EXPECT_EQ(events(id, "DELIVERY_INITIATED"), 1) << id;
  }
}

TEST_F(Resilience, RecoveryDoesNotWaitOutTheBackoff) {
  FakeDeliveryService delivery;
  delivery.setFault(Fault::kRefuse);
  auto env = fastRecovery();
  env["OUTPOST_DELIVERY_SERVICE_URL"] = delivery.url();
  env.erase("OUTPOST_DELIVERY_SERVICE_RETRY_INITIAL_DELAY_MS");  // the default: 1 min
  env.erase("OUTPOST_DELIVERY_SERVICE_RETRY_MAX_DELAY_MS");
  start(env);
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(postOrder()["id"]);
  delivery.setFault(Fault::kNone);
  // Retries are due in 48-72 s; the breaker's trial (500 ms reset) closes it and brings
  // them all forward.
  EXPECT_TRUE(eventually([&] { return allDelivered(ids); }, seconds(15))) << node_->logs();
  for (const auto& id : ids) EXPECT_EQ(delivery.deliveriesPerOrder()[id], 1) << id;
}

TEST_F(Resilience, DeliveryHangingIsBoundedByTheTimeout) {
  FakeDeliveryService delivery;
  delivery.setFault(Fault::kHang);
  auto env = fastRecovery();
  env["OUTPOST_DELIVERY_SERVICE_URL"] = delivery.url();
  start(env);
  const auto started = std::chrono::steady_clock::now();
  const json created = postOrder();
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(3));
  EXPECT_TRUE(created["deliveryId"].is_null());
  const std::string id = created["id"];
  delivery.setFault(Fault::kNone);
  EXPECT_TRUE(eventually([&] { return getOrder(id)["deliveryId"].is_string(); }, seconds(20)));
  EXPECT_EQ(delivery.deliveriesPerOrder()[id], 1);
}

TEST_F(Resilience, WithoutADeliveryUrlJobsWaitSpendingNoAttempts) {
  start({});
  const std::string id = postOrder()["id"];
  SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT attempts FROM jobs WHERE kind = 'INITIATE_DELIVERY'").getInt(),
            0);
  EXPECT_EQ(events(id, "DELIVERY_INITIATION_FAILED"), 0);
  EXPECT_EQ(getOrder(id)["requiresManualReview"], false);
}

TEST_F(Resilience, ProductDownFallsBackFlagsAndClearsOnceItReturns) {
  FakeProductService product;
  product.setFault(Fault::kRefuse);
  auto env = fastRecovery();
  env["OUTPOST_PRODUCT_SERVICE_URL"] = product.url();
  start(env);
  const json created = postOrder();
  const std::string id = created["id"];
  EXPECT_EQ(created["requiresManualReview"], true);
  EXPECT_EQ(events(id, "AVAILABILITY_CHECK_FALLBACK_USED"), 1);
  EXPECT_EQ(openReviews(id), 1);
  EXPECT_TRUE(getOrder(id)["reviewReason"].is_string());

  product.setFault(Fault::kNone);
  EXPECT_TRUE(
      eventually([&] { return getOrder(id)["requiresManualReview"] == false; }, seconds(10)))
      << node_->logs();
  EXPECT_EQ(events(id, "AVAILABILITY_CONFIRMED"), 1);
  EXPECT_EQ(openReviews(id), 0);
}

TEST_F(Resilience, ProductRecheckFindingShortageKeepsTheReview) {
  FakeProductService product;
  product.setFault(Fault::kMalformed);
  auto env = fastRecovery();
  env["OUTPOST_PRODUCT_SERVICE_URL"] = product.url();
  start(env);
  const std::string id = postOrder()["id"];
  EXPECT_EQ(getOrder(id)["requiresManualReview"], true);
  product.setStock("sku-1", true, 1);  // 2 were ordered
  product.setFault(Fault::kNone);
  EXPECT_TRUE(eventually(
      [&] {
        const json order = getOrder(id);
        return order["reviewReason"].is_string() &&
               order["reviewReason"].get<std::string>().find("sku-1") != std::string::npos;
      },
      seconds(10)));
  EXPECT_EQ(getOrder(id)["requiresManualReview"], true);
  EXPECT_EQ(openReviews(id), 1);
  EXPECT_EQ(events(id, "AVAILABILITY_CONFIRMED"), 0);
}

TEST_F(Resilience, UnavailableProductIs409NamingItAndCreatesNothing) {
  FakeProductService product;
  product.setStock("sku-2", false, 0);
  auto env = fastRecovery();
  env["OUTPOST_PRODUCT_SERVICE_URL"] = product.url();
  start(env);
  auto response = client_->Post("/v1/orders", kOrder, "application/json");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 409);
  EXPECT_EQ(response->get_header_value("Content-Type"), "application/problem+json");
  EXPECT_NE(response->body.find("sku-2"), std::string::npos) << response->body;
  SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM orders").getInt(), 0);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM outbox_events").getInt(), 0);
}

TEST_F(Resilience, UnavailableProductIsTakenAndFlaggedWhenRejectionIsOff) {
  FakeProductService product;
  product.setStock("sku-2", false, 0);
  auto env = fastRecovery();
  env["OUTPOST_PRODUCT_SERVICE_URL"] = product.url();
  env["OUTPOST_CHECKOUT_REJECT_UNAVAILABLE"] = "false";
  start(env);
  const json created = postOrder();
  EXPECT_EQ(created["requiresManualReview"], true);
  EXPECT_EQ(openReviews(created["id"]), 1);
}

TEST_F(Resilience, AvailableProductsAreNotFlagged) {
  FakeProductService product;
  auto env = fastRecovery();
  env["OUTPOST_PRODUCT_SERVICE_URL"] = product.url();
  start(env);
  const json created = postOrder();
  EXPECT_EQ(created["requiresManualReview"], false);
  EXPECT_EQ(product.requestCount("/availability"), 1);
}

TEST_F(Resilience, DatabaseBreakerAnswers503AtOnceAndRecoversThroughItsTrial) {
  auto env = fastRecovery();
  env["OUTPOST_DATABASE_BUSY_TIMEOUT_MS"] = "1000";
  env["OUTPOST_BREAKERS_DATABASE_VOLUME_THRESHOLD"] = "2";
  env["OUTPOST_BREAKERS_DATABASE_RESET_TIMEOUT_MS"] = "500";
  start(env);
  {
    HeldWriteLock holder(node_->database(), "BEGIN EXCLUSIVE");
    for (int i = 0; i < 2; ++i) postOrder(503);
    // Open: the answer comes without waiting out the 1 s busy timeout (half of it is
    // room for a loaded machine).
    const auto started = std::chrono::steady_clock::now();
    postOrder(503);
    EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(500));
    holder.release();
  }
  EXPECT_TRUE(eventually(
      [&] {
        auto response = client_->Post("/v1/orders", kOrder, "application/json");
        return response && response->status == 201;
      },
      seconds(5)));
  SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM orders").getInt(), 1);
}

TEST_F(Resilience, UnwritableDatabaseFileAnswers503AndRecovers) {
  auto env = fastRecovery();
  env["OUTPOST_BREAKERS_DATABASE_RESET_TIMEOUT_MS"] = "500";
  start(env);
  postOrder();
  // The node may no longer grow any file (RLIMIT_FSIZE): every write to the database
  // fails as it would on a full or read-only disk, without root-only tricks.
  rlimit none{0, RLIM_INFINITY};
  ASSERT_EQ(prlimit(node_->pid(), RLIMIT_FSIZE, &none, nullptr), 0);
  for (int i = 0; i < 3; ++i) {
    auto response = client_->Post("/v1/orders", kOrder, "application/json");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 503) << response->body;
    EXPECT_EQ(response->get_header_value("Content-Type"), "application/problem+json");
  }
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  ASSERT_EQ(prlimit(node_->pid(), RLIMIT_FSIZE, &unlimited, nullptr), 0);
  EXPECT_TRUE(eventually(
      [&] {
        auto response = client_->Post("/v1/orders", kOrder, "application/json");
        return response && response->status == 201;
      },
      seconds(5)))
      << node_->logs();
  SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM orders").getInt(), 2);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM"
                          " outbox_events e WHERE e.aggregate_id = o.id)")
                .getInt(),
            0);
}

TEST_F(Resilience, AFullDiskOpensTheDatabaseBreakerWhileHealthIsPolledTenTimesASecond) {
  auto env = fastRecovery();
  // Only the consecutive rule can trip it, and no trial comes during the test.
  env["OUTPOST_BREAKERS_DATABASE_VOLUME_THRESHOLD"] = "1000";
  env["OUTPOST_BREAKERS_DATABASE_CONSECUTIVE_FAILURES"] = "3";
  env["OUTPOST_BREAKERS_DATABASE_RESET_TIMEOUT_MS"] = "60000";
  start(env);
  postOrder();
  std::atomic<bool> polling{true};
  std::atomic<int> polls{0};
  std::thread poller([&] {
    auto client = node_->client();
    while (polling) {
      if (client->Get("/health")) ++polls;
      std::this_thread::sleep_for(milliseconds(100));  // the poller's own pace: 10 a second
    }
  });
  rlimit none{0, RLIM_INFINITY};  // as on a full disk: no file may grow
  ASSERT_EQ(prlimit(node_->pid(), RLIMIT_FSIZE, &none, nullptr), 0);
  for (int i = 0; i < 3; ++i) {
    postOrder(503);
    const int seen = polls;
    ASSERT_TRUE(eventually([&] { return polls >= seen + 3; }, seconds(5)));  // reads between
  }
  auto health = client_->Get("/health");
  ASSERT_TRUE(health);
  const json figures = json::parse(health->body, nullptr, false);
  EXPECT_EQ(figures["circuitBreakerStates"]["database"], "OPEN") << health->body;
  auto refused = client_->Post("/v1/orders", kOrder, "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->get_header_value("Retry-After").empty(), false);
  polling = false;
  poller.join();
  EXPECT_GE(polls, 9);
  // (Its log cannot say why: the log file may not grow either.)
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  ASSERT_EQ(prlimit(node_->pid(), RLIMIT_FSIZE, &unlimited, nullptr), 0);
}

TEST_F(Resilience, AnOrderWithoutAnAddressIsDeliveredToo) {
  FakeDeliveryService delivery;
  auto env = fastRecovery();
  env["OUTPOST_DELIVERY_SERVICE_URL"] = delivery.url();
  start(env);
  auto response =
      client_->Post("/v1/orders", R"({"customerId":"c","items":[{"productId":"p","quantity":1}]})",
                    "application/json");
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 201);
  EXPECT_TRUE(json::parse(response->body)["deliveryId"].is_string()) << response->body;
}

TEST_F(Resilience, AnOpenBreakerSurvivesARestart) {
  FakeDeliveryService delivery;
  delivery.setFault(Fault::kRefuse);
  auto env = fastRecovery();
  env["OUTPOST_DELIVERY_SERVICE_URL"] = delivery.url();
  env["OUTPOST_BREAKERS_DELIVERY_SERVICE_RESET_TIMEOUT_MS"] = "600000";
  env["OUTPOST_BREAKERS_DELIVERY_SERVICE_CONSECUTIVE_FAILURES"] = "2";
  start(env);
  for (int i = 0; i < 3; ++i) postOrder();
  SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
  EXPECT_TRUE(eventually(
      [&] {
        return db.execAndGet(
                     "SELECT COUNT(*) FROM breaker_state WHERE name = 'delivery-service'"
                     " AND state = 'OPEN'")
                   .getInt() == 1;
      },
      seconds(5)));
  ASSERT_EQ(node_->terminate(), 0);
  delivery.setFault(Fault::kNone);
  start(env);
  postOrder();
  // Still open after the restart: the delivery service is not called at all.
  EXPECT_EQ(delivery.requestCount("/deliveries"), 0);
}

}  // namespace
}  // namespace outpost::testing
