// The order API against the real binary: happy path, every bad input of SPEC §3,
// idempotent replay and conflict, pages, and the HTTP edges (401, 404, 405, 413).
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "support/node_process.h"

namespace outpost::testing {
namespace {

using nlohmann::json;

const json kValidOrder = {
    {"customerId", "cust-1"},
    {"items", {{{"productId", "sku-1"}, {"quantity", 2}, {"unitPriceCents", 499}}}},
    {"shippingAddress", {{"line1", "1 Quay St"}}},
    {"metadata", {{"till", 4}}}};

class OrdersApi : public ::testing::Test {
 protected:
  void SetUp() override { startNode({}); }

  void startNode(std::map<std::string, std::string> env) {
    node_ = NodeProcess::start(dir_, {std::move(env), ""});
    ASSERT_NE(node_, nullptr);
    client_ = node_->client();
  }

  httplib::Result post(const std::string& body, httplib::Headers headers = {}) {
    return client_->Post("/v1/orders", headers, body, "application/json");
  }

  std::int64_t count(const std::string& sql) {
    SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getInt64();
  }

  void expectProblem(const httplib::Result& response, int status) {
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, status) << response->body;
    EXPECT_EQ(response->get_header_value("Content-Type"), "application/problem+json");
    const json problem = json::parse(response->body, nullptr, false);
    ASSERT_TRUE(problem.is_object()) << response->body;
    EXPECT_EQ(problem["status"], status);
    for (const char* key : {"type", "title", "detail"}) {
      EXPECT_TRUE(problem.contains(key) && problem[key].is_string())
          << key << " in " << response->body;
    }
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(OrdersApi, CreatedOrderIsCommittedWithItsEventAndDeliveryJob) {
  auto response = post(kValidOrder.dump());
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 201) << response->body;
  const json created = json::parse(response->body);
  const std::string id = created["id"];
  EXPECT_EQ(id.substr(0, 4), "ORD-");
  EXPECT_EQ(id.size(), 30u);
  EXPECT_EQ(created["status"], "PENDING_SHIPMENT");
  EXPECT_EQ(created["requiresManualReview"], false);
  EXPECT_TRUE(created["deliveryId"].is_null());
  EXPECT_TRUE(created["createdAt"].is_string());
  EXPECT_EQ(response->get_header_value("Location"), "/v1/orders/" + id);

  auto fetched = client_->Get("/v1/orders/" + id);
  ASSERT_TRUE(fetched);
  ASSERT_EQ(fetched->status, 200);
  const json order = json::parse(fetched->body);
  EXPECT_EQ(order["customerId"], "cust-1");
  EXPECT_EQ(order["items"], kValidOrder["items"]);
  EXPECT_EQ(order["shippingAddress"], kValidOrder["shippingAddress"]);
  EXPECT_EQ(order["metadata"], kValidOrder["metadata"]);
  EXPECT_TRUE(order["reviewReason"].is_null());
  ASSERT_EQ(order["history"].size(), 1u);
  EXPECT_EQ(order["history"][0]["status"], "PENDING_SHIPMENT");

  SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
  SQLite::Statement event(
      db, "SELECT event_type, status, event_data FROM outbox_events WHERE aggregate_id = ?");
  event.bind(1, id);
  ASSERT_TRUE(event.executeStep());
  EXPECT_EQ(event.getColumn(0).getString(), "ORDER_CREATED");
  EXPECT_EQ(event.getColumn(1).getString(), "PENDING");  // no destination: offline mode
  const json envelope = json::parse(event.getColumn(2).getString());
  for (const char* key : {"eventId", "eventType", "occurredAt", "nodeId", "aggregateId", "data"}) {
    EXPECT_TRUE(envelope.contains(key)) << key;
  }
  EXPECT_EQ(envelope["nodeId"], "test-node");
  EXPECT_EQ(envelope["aggregateId"], id);
  EXPECT_EQ(envelope["data"]["orderId"], id);
  EXPECT_EQ(
      count("SELECT COUNT(*) FROM jobs WHERE kind = 'INITIATE_DELIVERY' AND aggregate_id = '" + id +
            "'"),
      1);
}

TEST_F(OrdersApi, EveryBadInputGetsAClearProblemAndCreatesNothing) {
  struct Case {
    std::string name;
    std::string body;
    std::string content_type;
    int status;
    std::string field;  // expected in errors[], if any
  };
  std::string long_text(129, 'x');
  std::vector<Case> cases = {
      {"not json", "{\"customerId\":", "application/json", 400, ""},
      {"invalid utf-8", "{\"customerId\":\"\xff\xfe\",\"items\":[]}", "application/json", 400, ""},
      {"array body", "[]", "application/json", 400, "body"},
      {"empty body", "", "application/json", 400, ""},
      {"wrong media type", kValidOrder.dump(), "text/plain", 400, ""},
      {"missing customer", R"({"items":[{"productId":"p","quantity":1}]})", "application/json", 400,
       "customerId"},
      {"empty customer", R"({"customerId":"","items":[{"productId":"p","quantity":1}]})",
       "application/json", 400, "customerId"},
      {"long customer",
       R"({"customerId":")" + long_text + R"(","items":[{"productId":"p","quantity":1}]})",
       "application/json", 400, "customerId"},
      {"customer number", R"({"customerId":7,"items":[{"productId":"p","quantity":1}]})",
       "application/json", 400, "customerId"},
      {"no items", R"({"customerId":"c","items":[]})", "application/json", 400, "items"},
      {"items not array", R"({"customerId":"c","items":{}})", "application/json", 400, "items"},
      {"zero quantity", R"({"customerId":"c","items":[{"productId":"p","quantity":0}]})",
       "application/json", 400, "items[0].quantity"},
      {"huge quantity", R"({"customerId":"c","items":[{"productId":"p","quantity":10001}]})",
       "application/json", 400, "items[0].quantity"},
      {"fractional quantity", R"({"customerId":"c","items":[{"productId":"p","quantity":1.5}]})",
       "application/json", 400, "items[0].quantity"},
      {"missing product", R"({"customerId":"c","items":[{"quantity":1}]})", "application/json", 400,
       "items[0].productId"},
      {"negative price",
       R"({"customerId":"c","items":[{"productId":"p","quantity":1,"unitPriceCents":-5}]})",
       "application/json", 400, "items[0].unitPriceCents"},
      {"unknown field",
       R"({"customerId":"c","items":[{"productId":"p","quantity":1}],"discount":5})",
       "application/json", 400, "discount"},
      {"unknown item field", R"({"customerId":"c","items":[{"productId":"p","quantity":1,"x":1}]})",
       "application/json", 400, "items[0].x"},
      {"address not object",
       R"({"customerId":"c","items":[{"productId":"p","quantity":1}],"shippingAddress":"here"})",
       "application/json", 400, "shippingAddress"},
  };
  json many_items = kValidOrder;
  many_items["items"] = json::array();
  for (int i = 0; i < 101; ++i)
    many_items["items"].push_back({{"productId", "p"}, {"quantity", 1}});
  cases.push_back({"101 items", many_items.dump(), "application/json", 400, "items"});

  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto response = client_->Post("/v1/orders", c.body, c.content_type);
    expectProblem(response, c.status);
    if (!c.field.empty() && response) {
      const json problem = json::parse(response->body);
      ASSERT_TRUE(problem.contains("errors")) << response->body;
      bool named = false;
      for (const auto& error : problem["errors"]) named = named || error["field"] == c.field;
      EXPECT_TRUE(named) << response->body;
    }
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM orders"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox_events"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM jobs"), 0);
}

TEST_F(OrdersApi, BodyOver64KiBIs413AndNotStored) {
  json big = kValidOrder;
  big["metadata"] = {{"blob", std::string(64 * 1024, 'a')}};
  expectProblem(post(big.dump()), 413);
  json fits = kValidOrder;
  fits["metadata"] = {{"blob", std::string(60 * 1024, 'a')}};
  auto response = post(fits.dump());
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(count("SELECT COUNT(*) FROM orders"), 1);
}

TEST_F(OrdersApi, UnknownRoutesAndMethodsAreProblems) {
  expectProblem(client_->Get("/v1/nothing"), 404);
  expectProblem(client_->Get("/v1/orders/ORD-01ARZ3NDEKTSV4RRFFQ69G5FAV"), 404);
  expectProblem(client_->Get("/v1/orders/not-an-id"), 404);
  auto deleted = client_->Delete("/v1/orders");
  expectProblem(deleted, 405);
  EXPECT_EQ(deleted->get_header_value("Allow"), "GET, POST");
  expectProblem(client_->Put("/v1/orders/ORD-01ARZ3NDEKTSV4RRFFQ69G5FAV", "{}", "application/json"),
                405);
}

TEST_F(OrdersApi, IdempotentRepeatReplaysTheFirstAnswer) {
  const httplib::Headers key = {{"Idempotency-Key", "till-4-sale-991"}};
  auto first = post(kValidOrder.dump(), key);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201);
  EXPECT_FALSE(first->has_header("Idempotent-Replayed"));
  // Same body with other spacing and key order is the same request.
  json reordered = json::parse(kValidOrder.dump());
  auto second = post(reordered.dump(2), key);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 201);
  EXPECT_EQ(second->body, first->body);
  EXPECT_EQ(second->get_header_value("Idempotent-Replayed"), "true");
  EXPECT_EQ(second->get_header_value("Location"), first->get_header_value("Location"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM orders"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox_events"), 1);
}

TEST_F(OrdersApi, IdempotencyKeyWithAnotherBodyIs422) {
  const httplib::Headers key = {{"Idempotency-Key", "k-1"}};
  ASSERT_EQ(post(kValidOrder.dump(), key)->status, 201);
  json other = kValidOrder;
  other["customerId"] = "someone-else";
  expectProblem(post(other.dump(), key), 422);
  EXPECT_EQ(count("SELECT COUNT(*) FROM orders"), 1);
}

TEST_F(OrdersApi, IdempotencyKeyMustBeAtMost255Characters) {
  expectProblem(post(kValidOrder.dump(), {{"Idempotency-Key", std::string(256, 'k')}}), 400);
  auto ok = post(kValidOrder.dump(), {{"Idempotency-Key", std::string(255, 'k')}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201);
}

TEST_F(OrdersApi, IdempotentReplaySurvivesARestart) {
  const httplib::Headers key = {{"Idempotency-Key", "survivor"}};
  auto first = post(kValidOrder.dump(), key);
  ASSERT_EQ(first->status, 201);
  ASSERT_EQ(node_->terminate(), 0);
  startNode({});
  auto again = post(kValidOrder.dump(), key);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, first->body);
  EXPECT_EQ(again->get_header_value("Idempotent-Replayed"), "true");
}

TEST_F(OrdersApi, ConcurrentRepeatsOfOneKeyCreateOneOrder) {
  const httplib::Headers key = {{"Idempotency-Key", "racing"}};
  std::vector<std::thread> clients;
  std::atomic<int> created = 0, replayed = 0, in_flight = 0, other = 0;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      auto client = node_->client();
      auto response = client->Post("/v1/orders", key, kValidOrder.dump(), "application/json");
      if (!response) return void(++other);
      if (response->status == 409) return void(++in_flight);
      if (response->status != 201) return void(++other);
      if (response->has_header("Idempotent-Replayed"))
        ++replayed;
      else
        ++created;
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(created, 1);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(created + replayed + in_flight, 8);
  EXPECT_EQ(count("SELECT COUNT(*) FROM orders"), 1);
}

TEST_F(OrdersApi, ListIsNewestFirstInCursorPages) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(json::parse(post(kValidOrder.dump())->body)["id"]);
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = client_->Get("/v1/orders?limit=2" + (cursor.empty() ? "" : "&after=" + cursor));
    ASSERT_TRUE(page);
    ASSERT_EQ(page->status, 200) << page->body;
    const json body = json::parse(page->body);
    for (const auto& order : body["items"]) seen.push_back(order["id"]);
    cursor = body["next"].is_null() ? "" : body["next"].get<std::string>();
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  std::reverse(ids.begin(), ids.end());
  EXPECT_EQ(seen, ids);

  auto filtered = json::parse(client_->Get("/v1/orders?status=PENDING_SHIPMENT&limit=500")->body);
  EXPECT_EQ(filtered["items"].size(), 5u);
  auto none = json::parse(client_->Get("/v1/orders?status=DELIVERED")->body);
  EXPECT_TRUE(none["items"].empty());
  EXPECT_TRUE(none["next"].is_null());
}

TEST_F(OrdersApi, BadListQueriesAreProblems) {
  for (const std::string query :
       {"limit=0", "limit=501", "limit=ten", "status=LOST", "after=ORD-x", "colour=red"}) {
    SCOPED_TRACE(query);
    expectProblem(client_->Get("/v1/orders?" + query), 400);
  }
  auto edge = client_->Get("/v1/orders?limit=500");
  ASSERT_TRUE(edge);
  EXPECT_EQ(edge->status, 200);
}

TEST_F(OrdersApi, HealthEndpointsAnswer) {
  auto live = client_->Get("/livez");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  auto ready = client_->Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
}

TEST_F(OrdersApi, ApiTokenGuardsOrders) {
  ASSERT_EQ(node_->terminate(), 0);
  startNode({{"OUTPOST_API_TOKEN", "till-secret-123456"}});
  expectProblem(post(kValidOrder.dump()), 401);
  expectProblem(post(kValidOrder.dump(), {{"Authorization", "Bearer wrong"}}), 401);
  expectProblem(client_->Get("/v1/orders"), 401);
  auto ok = post(kValidOrder.dump(), {{"Authorization", "Bearer till-secret-123456"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201);
  EXPECT_EQ(client_->Get("/livez")->status, 200);  // health needs no token
  EXPECT_EQ(node_->logs().find("till-secret-123456"), std::string::npos);
}

TEST_F(OrdersApi, MetricsTokenGuardsMetricsOnly) {
  ASSERT_EQ(node_->terminate(), 0);
  startNode({{"OUTPOST_METRICS_TOKEN", "scrape-secret-98765"}});
  auto anonymous = client_->Get("/metrics");
  expectProblem(anonymous, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Bearer");
  expectProblem(client_->Get("/metrics", {{"Authorization", "Bearer scrape-secret-9876"}}), 401);
  auto scraped = client_->Get("/metrics", {{"Authorization", "bearer scrape-secret-98765"}});
  ASSERT_TRUE(scraped);
  EXPECT_EQ(scraped->status, 200);
  EXPECT_NE(scraped->body.find("outpost_http_requests_total"), std::string::npos);
  for (const char* open : {"/livez", "/readyz", "/health"}) {
    auto answer = client_->Get(open);
    ASSERT_TRUE(answer) << open;
    EXPECT_EQ(answer->status, 200) << open;
    EXPECT_EQ(answer->body.find("scrape-secret"), std::string::npos) << open;
  }
  auto order = post(kValidOrder.dump());  // the metrics token guards nothing else
  ASSERT_TRUE(order);
  EXPECT_EQ(order->status, 201);
  EXPECT_EQ(node_->logs().find("scrape-secret-98765"), std::string::npos);
}

TEST_F(OrdersApi, SigtermFinishesInFlightRequestsAndExitsPromptly) {
  std::atomic<int> answered = 0, failed = 0;
  std::atomic<bool> stop = false;
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      auto client = node_->client();
      while (!stop) {
        auto response = client->Post("/v1/orders", kValidOrder.dump(), "application/json");
        if (!response) break;  // the node is gone: connection refused or closed
        if (response->status == 201)
          ++answered;
        else
          ++failed;
      }
    });
  }
  const auto warmup_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (answered < 20 && std::chrono::steady_clock::now() < warmup_deadline) {
    std::this_thread::yield();
  }
  ASSERT_GE(answered, 20) << node_->logs();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(node_->terminate(std::chrono::seconds(8)), 0) << node_->logs();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(8));
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(failed, 0);
  EXPECT_GE(count("SELECT COUNT(*) FROM orders"), answered.load());
}

}  // namespace
}  // namespace outpost::testing
