// The saga against the real binary and the fake delivery service (SPEC §5): cancel with
// compensation, reconciliation, the review queue, and a crash in the middle of a saga.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>

#include "support/eventually.h"
#include "support/fake_services.h"
#include "support/node_process.h"
#include "support/outbox_backlog.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const std::string kOrder =
    R"({"customerId":"c-1","items":[{"productId":"sku-1","quantity":2}],"shippingAddress":{"line1":"1 Quay St"}})";

std::map<std::string, std::string> fastDelivery(const FakeDeliveryService& delivery) {
  return {{"OUTPOST_DELIVERY_SERVICE_URL", delivery.url()},
          {"OUTPOST_DELIVERY_SERVICE_TIMEOUT_MS", "500"},
          {"OUTPOST_DELIVERY_SERVICE_RETRY_INITIAL_DELAY_MS", "200"},
          {"OUTPOST_DELIVERY_SERVICE_RETRY_MAX_DELAY_MS", "1000"},
          {"OUTPOST_BREAKERS_DELIVERY_SERVICE_RESET_TIMEOUT_MS", "500"}};
}

// fastDelivery, and reconciliation every 200 ms.
std::map<std::string, std::string> reconcilingOften(const FakeDeliveryService& delivery) {
  auto env = fastDelivery(delivery);
  env["OUTPOST_RECONCILIATION_INTERVAL_MS"] = "200";
  return env;
}

class Saga : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> env) {
    env_ = std::move(env);
    node_ = NodeProcess::start(dir_, {env_, ""});
    ASSERT_NE(node_, nullptr);
    client_ = node_->client();
  }
  void restart() {
    node_ = NodeProcess::start(dir_, {env_, ""});
    ASSERT_NE(node_, nullptr);
    client_ = node_->client();
  }

  json postOrder() {
    auto response = client_->Post("/v1/orders", kOrder, "application/json");
    EXPECT_TRUE(response);
    if (!response) return json();
    EXPECT_EQ(response->status, 201) << response->body;
    return json::parse(response->body, nullptr, false);
  }

  // A new order and the delivery it was given before its 201.
  std::pair<std::string, std::string> orderWithDelivery() {
    const json created = postOrder();
    EXPECT_TRUE(created["deliveryId"].is_string()) << created;
    return {created.value("id", ""),
            created["deliveryId"].is_string() ? created["deliveryId"].get<std::string>() : ""};
  }

  json getOrder(const std::string& id) {
    auto response = client_->Get("/v1/orders/" + id);
    if (!response || response->status != 200) return json();
    return json::parse(response->body, nullptr, false);
  }

  // {status, body}
  std::pair<int, json> post(const std::string& path, const std::string& body = "") {
    auto response = client_->Post(path, body, "application/json");
    if (!response) return {0, json()};
    return {response->status, json::parse(response->body, nullptr, false)};
  }

  int events(const std::string& order_id, const std::string& type) {
    return countOrderEvents(node_->database(), order_id, type);
  }

  std::vector<std::string> steps(const std::string& order_id) {
    std::vector<std::string> out;
    const json order = getOrder(order_id);  // a range-for over a temporary's member dangles
    for (const auto& step : order["sagaSteps"]) out.push_back(step["step"]);
    return out;
  }

  bool hasHistoryReason(const json& order, const std::string& text) {
    for (const auto& change : order["history"]) {
      if (change["reason"].is_string() &&
          change["reason"].get<std::string>().find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  json reviews() {
    auto response = client_->Get("/v1/reviews");
    if (!response || response->status != 200) return json();
    return json::parse(response->body, nullptr, false)["items"];
  }

  TempDir dir_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(Saga, CancelWithoutADelivery) {
  start({});  // no delivery service: nothing to cancel there
  const std::string id = postOrder()["id"];
  auto [status, order] = post("/v1/orders/" + id + "/cancel", R"({"reason":"changed my mind"})");
  EXPECT_EQ(status, 202) << order;
  EXPECT_EQ(order["status"], "CANCELLED");
  EXPECT_EQ(order["sagaState"], "COMPENSATED");
  EXPECT_TRUE(hasHistoryReason(order, "changed my mind"));
  EXPECT_EQ(events(id, "ORDER_CANCELLED"), 1);
  EXPECT_EQ(steps(id), (std::vector<std::string>{"AVAILABILITY_CHECKED", "ORDER_CREATED",
                                                 "COMPENSATION_STARTED", "ORDER_CANCELLED"}));

  auto [again, same] = post("/v1/orders/" + id + "/cancel");
  EXPECT_EQ(again, 200);  // nothing new happens
  EXPECT_EQ(same["history"].size(), order["history"].size());
  EXPECT_EQ(events(id, "ORDER_CANCELLED"), 1);

  EXPECT_EQ(post("/v1/orders/ORD-01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel").first, 404);
  EXPECT_EQ(post("/v1/orders/" + id + "/cancel", R"({"why":"x"})").first, 400);
  EXPECT_EQ(post("/v1/orders/" + id + "/cancel", "not json").first, 400);
  auto get = client_->Get("/v1/orders/" + id + "/cancel");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
}

TEST_F(Saga, CancelWithADeliveryCancelsItThenTheOrder) {
  FakeDeliveryService delivery;
  start(fastDelivery(delivery));
  std::string id, delivery_id;
  std::tie(id, delivery_id) = orderWithDelivery();
  auto [status, order] = post("/v1/orders/" + id + "/cancel");
  EXPECT_EQ(status, 202) << order;
  EXPECT_EQ(order["status"], "CANCELLED");
  EXPECT_EQ(delivery.status(delivery_id), "CANCELLED");
  EXPECT_EQ(delivery.cancelCount(delivery_id), 1);
  const auto recorded = steps(id);
  EXPECT_EQ(recorded,
            (std::vector<std::string>{"AVAILABILITY_CHECKED", "ORDER_CREATED", "DELIVERY_INITIATED",
                                      "SAGA_COMPLETED", "COMPENSATION_STARTED",
                                      "DELIVERY_CANCELLED", "ORDER_CANCELLED"}));
}

TEST_F(Saga, CancelWhileDeliveryIsDownReachesItOnceItIsBack) {
  FakeDeliveryService delivery;
  start(fastDelivery(delivery));
  std::string id, delivery_id;
  std::tie(id, delivery_id) = orderWithDelivery();
  delivery.setFault(Fault::kRefuse);
  auto [status, order] = post("/v1/orders/" + id + "/cancel");
  EXPECT_EQ(status, 202) << order;
  EXPECT_EQ(order["status"], "PENDING_SHIPMENT");  // accepted, not done yet
  EXPECT_EQ(order["sagaState"], "COMPENSATING");
  EXPECT_EQ(post("/v1/orders/" + id + "/cancel").first, 202);  // still under way

  delivery.setFault(Fault::kNone);
  EXPECT_TRUE(eventually([&] { return getOrder(id)["status"] == "CANCELLED"; }, seconds(10)))
      << node_->logs();
  EXPECT_EQ(delivery.status(delivery_id), "CANCELLED");
  EXPECT_EQ(delivery.cancelCount(delivery_id), 1);
  EXPECT_EQ(getOrder(id)["sagaState"], "COMPENSATED");
  EXPECT_EQ(events(id, "ORDER_CANCELLED"), 1);
}

TEST_F(Saga, ACancelAnsweredWithAnHtmlPageIsRetriedUntilTheDeliveryIsCancelled) {
  FakeDeliveryService delivery;
  start(fastDelivery(delivery));
  std::string id, delivery_id;
  std::tie(id, delivery_id) = orderWithDelivery();
  delivery.setFault(Fault::kMalformed);  // 200 with an HTML page, nothing cancelled
  auto [status, order] = post("/v1/orders/" + id + "/cancel");
  EXPECT_EQ(status, 202) << order;
  EXPECT_EQ(order["sagaState"], "COMPENSATING");
  const std::string cancel_path = "/deliveries/" + delivery_id + "/cancel";
  ASSERT_TRUE(eventually([&] { return delivery.requestCount(cancel_path) >= 2; }, seconds(10)))
      << node_->logs();
  EXPECT_EQ(getOrder(id)["status"], "PENDING_SHIPMENT");  // never taken for done
  EXPECT_EQ(events(id, "ORDER_CANCELLED"), 0);

  delivery.setFault(Fault::kNone);
  EXPECT_TRUE(eventually([&] { return getOrder(id)["status"] == "CANCELLED"; }, seconds(10)))
      << node_->logs();
  EXPECT_EQ(delivery.status(delivery_id), "CANCELLED");
  EXPECT_EQ(getOrder(id)["sagaState"], "COMPENSATED");
  EXPECT_EQ(events(id, "ORDER_CANCELLED"), 1);
}

TEST_F(Saga, ACancelTheDeliveryServiceAcknowledgedAndLostIsMadeAgainByReconciliation) {
  FakeDeliveryService delivery;
  start(reconcilingOften(delivery));
  std::string id, delivery_id;
  std::tie(id, delivery_id) = orderWithDelivery();
  delivery.forgetNextCancel();  // 200 CANCELLED, and the delivery stays CREATED
  auto [status, order] = post("/v1/orders/" + id + "/cancel");
  EXPECT_EQ(status, 202) << order;
  EXPECT_EQ(order["status"], "CANCELLED");

  // Cancelled again, then read back as cancelled on a later run: no more checking.
  SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
  ASSERT_TRUE(eventually(
      [&] {
        return db.execAndGet("SELECT delivery_cancel_unverified FROM orders WHERE id = '" + id +
                             "'")
                   .getInt() == 0;
      },
      seconds(10)))
      << node_->logs();
  EXPECT_EQ(delivery.status(delivery_id), "CANCELLED");
  EXPECT_EQ(delivery.cancelCount(delivery_id), 2);  // no third cancel
  EXPECT_TRUE(hasHistoryReason(getOrder(id), "cancelled again")) << getOrder(id);
  EXPECT_EQ(getOrder(id)["status"], "CANCELLED");
  EXPECT_EQ(events(id, "ORDER_CANCELLED"), 1);
}

TEST_F(Saga, ReconciliationAppliesAValidStatusAndFlagsAnInvalidOne) {
  FakeDeliveryService delivery;
  start(reconcilingOften(delivery));
  std::string id, delivery_id;
  std::tie(id, delivery_id) = orderWithDelivery();

  delivery.setStatus(delivery_id, "IN_TRANSIT");
  ASSERT_TRUE(eventually([&] { return getOrder(id)["status"] == "SHIPPED"; }, seconds(10)))
      << node_->logs();
  EXPECT_TRUE(hasHistoryReason(getOrder(id), "reconciled: delivery " + delivery_id));
  EXPECT_EQ(events(id, "ORDER_STATUS_RECONCILED"), 1);
  EXPECT_EQ(post("/v1/orders/" + id + "/cancel").first, 409);  // shipped: too late

  delivery.setStatus(delivery_id, "CREATED");  // SHIPPED -> PENDING_SHIPMENT: invalid
  ASSERT_TRUE(
      eventually([&] { return getOrder(id)["requiresManualReview"] == true; }, seconds(10)));
  const json order = getOrder(id);
  EXPECT_EQ(order["status"], "SHIPPED");
  EXPECT_EQ(order["reviewReason"].get<std::string>().rfind("Invalid status transition", 0), 0u)
      << order;
  const json queue = reviews();
  ASSERT_EQ(queue.size(), 1u) << queue;
  EXPECT_EQ(queue[0]["orderId"], id);
  EXPECT_EQ(queue[0]["kind"], "RECONCILIATION");

  delivery.setStatus(delivery_id, "DELIVERED");
  EXPECT_TRUE(eventually([&] { return getOrder(id)["status"] == "DELIVERED"; }, seconds(10)));
  EXPECT_EQ(reviews().size(), 0u);  // the inconsistency resolved itself
}

TEST_F(Saga, AReconciliationRunWithFailingOrdersStillReconcilesTheOthers) {
  FakeDeliveryService delivery;
  start(reconcilingOften(delivery));
  std::vector<std::string> ids;
  std::vector<std::string> deliveries;
  for (int i = 0; i < 3; ++i) {
    const json created = postOrder();
    ids.push_back(created["id"]);
    deliveries.push_back(created["deliveryId"]);
  }
  delivery.failStatusReads(deliveries[1]);
  delivery.setStatus(deliveries[0], "DELIVERED");
  delivery.setStatus(deliveries[1], "DELIVERED");
  delivery.setStatus(deliveries[2], "RETURNED");
  ASSERT_TRUE(eventually(
      [&] {
        return getOrder(ids[0])["status"] == "DELIVERED" &&
               getOrder(ids[2])["status"] == "DELIVERY_FAILED";
      },
      seconds(10)))
      << node_->logs();
  EXPECT_EQ(getOrder(ids[1])["status"], "PENDING_SHIPMENT");
  SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
  SQLite::Statement last(db,
                         "SELECT status, failed, COALESCE(error, '') FROM reconciliation_runs"
                         " WHERE reconciled > 0 ORDER BY id DESC LIMIT 1");
  ASSERT_TRUE(last.executeStep());
  EXPECT_EQ(last.getColumn(0).getString(), "DEGRADED");
  EXPECT_EQ(last.getColumn(1).getInt(), 1);
  EXPECT_NE(last.getColumn(2).getString().find(ids[1]), std::string::npos);
  EXPECT_NE(node_->logs().find("reconciliation failed for order"), std::string::npos);
}

TEST_F(Saga, StaffApproveAndCancelFromTheReviewQueue) {
  FakeDeliveryService delivery;
  delivery.setFault(Fault::kServerError);
  auto env = fastDelivery(delivery);
  env["OUTPOST_DELIVERY_SERVICE_RETRY_MAX_ATTEMPTS"] = "1";  // straight to review
  env["OUTPOST_BREAKERS_DELIVERY_SERVICE_CONSECUTIVE_FAILURES"] = "100";
  env["OUTPOST_BREAKERS_DELIVERY_SERVICE_VOLUME_THRESHOLD"] = "100";
  start(env);
  const std::string approved = postOrder()["id"];
  const std::string cancelled = postOrder()["id"];
  ASSERT_TRUE(eventually([&] { return reviews().size() == 2; }, seconds(10))) << node_->logs();
  const json queue = reviews();
  EXPECT_EQ(queue[0]["orderId"], approved);  // oldest first
  EXPECT_EQ(queue[0]["kind"], "DELIVERY");
  EXPECT_TRUE(queue[0]["createdAt"].is_string());
  EXPECT_NE(queue[0]["reason"].get<std::string>().find("HTTP 500"), std::string::npos);

  delivery.setFault(Fault::kNone);
  auto [approve_status, approve] = post("/v1/reviews/" + approved + "/resolve",
                                        R"({"action":"approve","note":"called the courier"})");
  EXPECT_EQ(approve_status, 200) << approve;
  EXPECT_EQ(approve["requiresManualReview"], false);
  EXPECT_TRUE(hasHistoryReason(approve, "manual review: approve: called the courier"));
  // Approving an order whose delivery had given up starts the delivery again.
  EXPECT_TRUE(
      eventually([&] { return getOrder(approved)["deliveryId"].is_string(); }, seconds(10)));

  auto [cancel_status, cancel] = post("/v1/reviews/" + cancelled + "/resolve",
                                      R"({"action":"cancel","note":"customer gone"})");
  EXPECT_EQ(cancel_status, 202) << cancel;
  EXPECT_TRUE(
      eventually([&] { return getOrder(cancelled)["status"] == "CANCELLED"; }, seconds(10)));
  EXPECT_TRUE(hasHistoryReason(getOrder(cancelled), "customer gone"));
  // Its one attempt failed without a usable answer, so the node cannot know that no
  // delivery exists: it asks with the same Idempotency-Key and cancels what it gets.
  for (const auto& delivery_id : delivery.deliveryIdsForOrder(cancelled)) {
    EXPECT_EQ(delivery.status(delivery_id), "CANCELLED");
  }
  EXPECT_EQ(reviews().size(), 0u);

  EXPECT_EQ(post("/v1/reviews/" + approved + "/resolve", R"({"action":"approve"})").first, 409);
  EXPECT_EQ(post("/v1/reviews/" + approved + "/resolve", R"({"action":"maybe"})").first, 400);
  EXPECT_EQ(
      post("/v1/reviews/ORD-01ARZ3NDEKTSV4RRFFQ69G5FAV/resolve", R"({"action":"approve"})").first,
      404);
}

TEST_F(Saga, ReviewCommandsWorkOnTheFileWhileTheNodeIsDown) {
  FakeDeliveryService delivery;
  delivery.setRejectAll(true);  // a permanent rejection: flagged (and compensated)
  auto env = fastDelivery(delivery);
  start(env);
  const std::string id = postOrder()["id"];
  ASSERT_TRUE(eventually([&] { return reviews().size() == 1; }, seconds(10)));
  ASSERT_EQ(node_->terminate(), 0);

  const std::map<std::string, std::string> cli_env = {{"OUTPOST_DATABASE", node_->database()}};
  RunResult listed = runOutpost({"review", "list"}, cli_env);
  EXPECT_EQ(listed.exit_status, 0) << listed.output;
  EXPECT_NE(listed.output.find(id), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("1 open item"), std::string::npos) << listed.output;
  RunResult as_json = runOutpost({"review", "list", "--json"}, cli_env);
  EXPECT_EQ(json::parse(as_json.output, nullptr, false)[0]["orderId"], id) << as_json.output;

  RunResult bad = runOutpost({"review", "resolve", id, "--action", "maybe"}, cli_env);
  EXPECT_EQ(bad.exit_status, 2) << bad.output;
  RunResult resolved =
      runOutpost({"review", "resolve", id, "--action", "approve", "--note", "refunded"}, cli_env);
  EXPECT_EQ(resolved.exit_status, 0) << resolved.output;
  EXPECT_EQ(runOutpost({"review", "list"}, cli_env).output.find(id), std::string::npos);
  RunResult twice = runOutpost({"review", "resolve", id, "--action", "approve"}, cli_env);
  EXPECT_EQ(twice.exit_status, 2);
  EXPECT_NE(twice.output.find("no open review item"), std::string::npos) << twice.output;

  restart();
  EXPECT_TRUE(hasHistoryReason(getOrder(id), "manual review: approve: refunded"));
}

TEST_F(Saga, ACrashWhileTheDeliveryCallHangsConvergesAfterRestart) {
  FakeDeliveryService delivery;
  auto env = fastDelivery(delivery);
  env["OUTPOST_DELIVERY_SERVICE_TIMEOUT_MS"] = "20000";  // the call hangs until the kill
  delivery.setFault(Fault::kHang);
  start(env);
  std::thread till([&] { node_->client()->Post("/v1/orders", kOrder, "application/json"); });
  ASSERT_TRUE(eventually([&] { return delivery.requestCount("/deliveries") == 1; }, seconds(10)));
  node_->killHard();
  till.join();
  // The delivery service finishes the request the node died waiting for: a delivery now
  // exists that the node never heard of.
  delivery.setFault(Fault::kNone);
  ASSERT_TRUE(eventually([&] { return delivery.deliveryCount() == 1; }, seconds(5)));

  restart();
  EXPECT_NE(node_->logs().find("resuming interrupted sagas"), std::string::npos) << node_->logs();
  auto listed = client_->Get("/v1/orders");
  ASSERT_TRUE(listed);
  const json page = json::parse(listed->body);
  ASSERT_EQ(page["items"].size(), 1u);  // committed before the call: never lost
  const std::string id = page["items"][0]["id"];
  ASSERT_TRUE(eventually([&] { return getOrder(id)["sagaState"] == "COMPLETED"; }, seconds(10)))
      << node_->logs();
  const json order = getOrder(id);
  EXPECT_EQ(order["deliveryId"], delivery.deliveryIdsForOrder(id).at(0));
  EXPECT_EQ(delivery.deliveriesPerOrder()[id], 1);  // the same Idempotency-Key: no second one
  EXPECT_EQ(events(id, "DELIVERY_INITIATED"), 1);
}

TEST_F(Saga, ACrashWhileTheCancelCallHangsIsCompensatedAfterRestart) {
  FakeDeliveryService delivery;
  auto env = fastDelivery(delivery);
  env["OUTPOST_DELIVERY_SERVICE_TIMEOUT_MS"] = "20000";
  start(env);
  std::string id, delivery_id;
  std::tie(id, delivery_id) = orderWithDelivery();
  delivery.setFault(Fault::kHang);
  std::thread till(
      [&] { node_->client()->Post("/v1/orders/" + id + "/cancel", "", "application/json"); });
  ASSERT_TRUE(eventually(
      [&] { return delivery.requestCount("/deliveries/" + delivery_id + "/cancel") == 1; },
      seconds(10)));
  node_->killHard();
  till.join();
  delivery.setFault(Fault::kRefuse);  // and it stays down for a while after the restart

  restart();
  EXPECT_EQ(getOrder(id)["sagaState"], "COMPENSATING");
  delivery.setFault(Fault::kNone);
  ASSERT_TRUE(eventually([&] { return getOrder(id)["status"] == "CANCELLED"; }, seconds(10)))
      << node_->logs();
  EXPECT_EQ(delivery.status(delivery_id), "CANCELLED");
  EXPECT_EQ(getOrder(id)["sagaState"], "COMPENSATED");
  EXPECT_EQ(events(id, "ORDER_CANCELLED"), 1);
}

}  // namespace
}  // namespace outpost::testing
