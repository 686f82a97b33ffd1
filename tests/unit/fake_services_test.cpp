#include "support/fake_services.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "clients/http_client.h"

namespace outpost::testing {
namespace {

using clients::CallClass;
using clients::CurlHttpClient;
using clients::HttpRequest;
using clients::HttpResponse;
using nlohmann::json;

HttpResponse post(CurlHttpClient& client, const std::string& url, const json& body,
                  const std::string& idempotency_key = "") {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.body = body.dump();
  if (!idempotency_key.empty()) request.headers = {{"Idempotency-Key", idempotency_key}};
  return client.send(request);
}

HttpResponse get(CurlHttpClient& client, const std::string& url, std::int64_t timeout_ms = 3000) {
  HttpRequest request;
  request.url = url;
  request.timeout_ms = timeout_ms;
  return client.send(request);
}

json delivery(const std::string& order_id) {
  return {{"orderId", order_id},
          {"items", json::array({{{"productId", "p-1"}, {"quantity", 2}}})},
          {"shippingAddress", {{"street", "1 Main St"}, {"city", "Springfield"}}}};
}

TEST(FakeServices, ProductAvailabilityUsesStockAndDefaults) {
  FakeProductService products;
  products.setStock("p-2", false, 0);
  CurlHttpClient client;
  const HttpResponse response =
      post(client, products.url() + "/availability", {{"productIds", {"p-1", "p-2"}}});
  ASSERT_EQ(response.call_class, CallClass::kSuccess) << response.error;
  EXPECT_EQ(json::parse(response.body),
            json::parse(R"([{"productId":"p-1","available":true,"quantity":1000},
                            {"productId":"p-2","available":false,"quantity":0}])"));
  EXPECT_EQ(post(client, products.url() + "/availability", {{"ids", 1}}).call_class,
            CallClass::kPermanent);
  EXPECT_EQ(products.requestCount("/availability"), 2);
}

TEST(FakeServices, DeliveryCreationIsIdempotentPerKey) {
  FakeDeliveryService deliveries;
  CurlHttpClient client;
  const std::string url = deliveries.url() + "/deliveries";

  const HttpResponse first = post(client, url, delivery("o-1"), "o-1");
  ASSERT_EQ(first.status, 201) << first.error;
  const json created = json::parse(first.body);
  EXPECT_EQ(created["status"], "CREATED");
  const HttpResponse again = post(client, url, delivery("o-1"), "o-1");
  EXPECT_EQ(again.call_class, CallClass::kSuccess);
  EXPECT_EQ(json::parse(again.body)["id"], created["id"]);
  EXPECT_EQ(post(client, url, delivery("o-2"), "o-2").status, 201);
  // The same key for another order is refused, and creates nothing.
  EXPECT_EQ(post(client, url, delivery("o-3"), "o-1").call_class, CallClass::kPermanent);
  // No key at all: a client bug, refused.
  EXPECT_EQ(post(client, url, delivery("o-4")).status, 400);

  EXPECT_EQ(deliveries.deliveryCount(), 2);
  EXPECT_EQ(deliveries.deliveriesPerOrder(), (std::map<std::string, int>{{"o-1", 1}, {"o-2", 1}}));
  const std::string id = created["id"];
  EXPECT_EQ(deliveries.deliveryIdsForOrder("o-1"), std::vector<std::string>{id});
  EXPECT_EQ(deliveries.requestCount("/deliveries"), 5);
}

TEST(FakeServices, ConcurrentRetriesOfOneOrderMakeOneDelivery) {
  FakeDeliveryService deliveries;
  CurlHttpClient client;
  const std::string url = deliveries.url() + "/deliveries";
  std::atomic<int> successes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        const std::string order = "o-" + std::to_string(i);  // every thread sends every order
        if (post(client, url, delivery(order), order).status == 201) ++successes;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(successes.load(), 40);
  EXPECT_EQ(deliveries.deliveryCount(), 5);
  for (const auto& [order, count] : deliveries.deliveriesPerOrder()) EXPECT_EQ(count, 1) << order;
}

TEST(FakeServices, DeliveryStatusAndCancel) {
  FakeDeliveryService deliveries;
  CurlHttpClient client;
  const std::string url = deliveries.url() + "/deliveries";
  const std::string a = json::parse(post(client, url, delivery("o-1"), "o-1").body)["id"];
  const std::string b = json::parse(post(client, url, delivery("o-2"), "o-2").body)["id"];

  deliveries.setStatus(a, "IN_TRANSIT");
  HttpResponse response = get(client, url + "/" + a);
  ASSERT_EQ(response.call_class, CallClass::kSuccess);
  EXPECT_EQ(json::parse(response.body)["status"], "IN_TRANSIT");
  EXPECT_EQ(get(client, url + "/nope").status, 404);

  EXPECT_EQ(post(client, url + "/" + a + "/cancel", json::object()).status, 409);
  response = post(client, url + "/" + b + "/cancel", json::object());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body), (json{{"id", b}, {"status", "CANCELLED"}}));
  EXPECT_EQ(deliveries.status(b), "CANCELLED");
}

TEST(FakeServices, RejectAllIsPermanent) {
  FakeDeliveryService deliveries;
  deliveries.setRejectAll(true);
  CurlHttpClient client;
  const HttpResponse response =
      post(client, deliveries.url() + "/deliveries", delivery("o-1"), "o-1");
  EXPECT_EQ(response.status, 422);
  EXPECT_EQ(response.call_class, CallClass::kPermanent);
  EXPECT_EQ(deliveries.deliveryCount(), 0);
}

TEST(FakeServices, ServerErrorIsRetriable) {
  FakeProductService products;
  products.setFault(Fault::kServerError);
  CurlHttpClient client;
  const HttpResponse response =
      post(client, products.url() + "/availability", {{"productIds", {"p-1"}}});
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.call_class, CallClass::kRetriable);
}

TEST(FakeServices, MalformedAnswersWithTheSuccessStatusAndNoJson) {
  FakeDeliveryService deliveries;
  deliveries.setFault(Fault::kMalformed);
  CurlHttpClient client;
  const HttpResponse response =
      post(client, deliveries.url() + "/deliveries", delivery("o-1"), "o-1");
  // A transport-level success; the service client must classify it as retriable.
  EXPECT_EQ(response.call_class, CallClass::kSuccess);
  EXPECT_EQ(response.status, 201);
  EXPECT_TRUE(json::parse(response.body, nullptr, false).is_discarded());
  EXPECT_EQ(deliveries.deliveryCount(), 0);
}

TEST(FakeServices, FlappingAlternatesFailureAndSuccess) {
  FakeProductService products;
  products.setFault(Fault::kFlapping);
  CurlHttpClient client;
  std::vector<CallClass> classes;
  for (int i = 0; i < 4; ++i) {
    classes.push_back(
        post(client, products.url() + "/availability", {{"productIds", {"p-1"}}}).call_class);
  }
  EXPECT_EQ(classes, (std::vector<CallClass>{CallClass::kRetriable, CallClass::kSuccess,
                                             CallClass::kRetriable, CallClass::kSuccess}));
}

TEST(FakeServices, HangTimesOutUntilCleared) {
  FakeDeliveryService deliveries;
  deliveries.setFault(Fault::kHang);
  CurlHttpClient client;
  const HttpResponse hung = get(client, deliveries.url() + "/deliveries/x", 300);
  EXPECT_EQ(hung.call_class, CallClass::kRetriable);
  EXPECT_TRUE(hung.timed_out);
  EXPECT_EQ(hung.status, 0);

  deliveries.setFault(Fault::kNone);
  EXPECT_EQ(get(client, deliveries.url() + "/deliveries/x").status, 404);
}

TEST(FakeServices, StopReleasesHungRequests) {
  auto deliveries = std::make_unique<FakeDeliveryService>();
  deliveries->setFault(Fault::kHang);
  const std::string url = deliveries->url() + "/deliveries/x";
  HttpResponse response;
  std::thread caller([&] {
    CurlHttpClient client;
    response = get(client, url, 30000);
  });
  // Wait until the request is hanging in the fake, then stop it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (deliveries->requestCount("/deliveries/x") == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(deliveries->requestCount("/deliveries/x"), 1);
  const auto started = std::chrono::steady_clock::now();
  deliveries->stop();
  caller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(response.call_class, CallClass::kRetriable);
  EXPECT_FALSE(response.timed_out);
}

TEST(FakeServices, RefusingDropsAHungRequestUnanswered) {
  FakeDeliveryService deliveries;
  deliveries.setFault(Fault::kHang);
  const std::string url = deliveries.url() + "/deliveries/x";
  HttpResponse response;
  std::thread caller([&] {
    CurlHttpClient client;
    response = get(client, url, 30000);
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (deliveries.requestCount("/deliveries/x") == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  deliveries.setFault(Fault::kRefuse);
  caller.join();
  EXPECT_EQ(response.call_class, CallClass::kRetriable);
  EXPECT_EQ(response.status, 0);
  EXPECT_FALSE(response.timed_out);
}

TEST(FakeServices, RefuseThenRecoverOnTheSamePort) {
  FakeProductService products;
  const int port = products.port();
  const std::string url = products.url() + "/availability";
  const json body = {{"productIds", {"p-1"}}};
  CurlHttpClient client;
  // Leaves a keep-alive connection in the client's pool: refusing must not answer on it.
  ASSERT_EQ(post(client, url, body).call_class, CallClass::kSuccess);

  products.setFault(Fault::kRefuse);
  const HttpResponse refused = post(client, url, body);
  EXPECT_EQ(refused.call_class, CallClass::kRetriable);
  EXPECT_EQ(refused.status, 0);
  EXPECT_EQ(refused.error, "connection refused");
  CurlHttpClient fresh;
  EXPECT_EQ(post(fresh, url, body).error, "connection refused");

  products.setFault(Fault::kNone);
  EXPECT_EQ(products.port(), port);
  EXPECT_EQ(post(client, url, body).call_class, CallClass::kSuccess);
  EXPECT_EQ(products.requestCount("/availability"), 2);  // the refused one never arrived
}

}  // namespace
}  // namespace outpost::testing
