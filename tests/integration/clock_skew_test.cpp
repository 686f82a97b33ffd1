// SPEC §11 clock skew, the real binary: SNS and SQS (fauxqs) behind a proxy whose clock is
// 2 h ahead of this box's and that refuses a signature more than 5 min off, as AWS does.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/eventually.h"
#include "support/fauxqs.h"
#include "support/node_process.h"
#include "support/skewed_aws_proxy.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const char* const kInit = R"({
  "queues": [{"name": "direct"}, {"name": "from-topic"}],
  "topics": [{"name": "events"}],
  "subscriptions": [{"topic": "events", "queue": "from-topic"}]
})";
const std::string kTopicArn = "arn:aws:sns:us-east-1:000000000000:events";
const std::string kOrder = R"({"customerId":"c-1","items":[{"productId":"sku-1","quantity":1}]})";
constexpr const char* kAdmin = "admin-secret";
constexpr std::int64_t kTwoHoursMs = 2 * 3600 * 1000;

class ClockSkew : public ::testing::Test {
 protected:
  void SetUp() override {
    fauxqs_ = Fauxqs::start(dir_, kInit);
    ASSERT_NE(fauxqs_, nullptr);
    proxy_ = SkewedAwsProxy::start(fauxqs_->port(), std::chrono::hours(2));
    ASSERT_NE(proxy_, nullptr);
    node_ =
        NodeProcess::start(dir_, {{{"OUTPOST_EVENTS_ENDPOINT_URL", proxy_->url()},
                                   {"OUTPOST_EVENTS_SNS_TOPIC_ARN", kTopicArn},
                                   {"OUTPOST_EVENTS_SQS_QUEUE_URL", fauxqs_->queueUrl("direct")},
                                   {"OUTPOST_EVENTS_POLL_INTERVAL_MS", "60000"},
                                   {"OUTPOST_ALERTS_CHECK_INTERVAL_MS", "100"},
                                   {"OUTPOST_ADMIN_TOKEN", kAdmin},
                                   {"AWS_ACCESS_KEY_ID", "AKIDTEST"},
                                   {"AWS_SECRET_ACCESS_KEY", "test-secret"}},
                                  dir_.file("outpost.db")});
    ASSERT_NE(node_, nullptr);
    client_ = node_->client();
  }

  void postOrders(int count) {
    for (int i = 0; i < count; ++i) {
      auto response = client_->Post("/v1/orders", kOrder, "application/json");
      ASSERT_TRUE(response);
      ASSERT_EQ(response->status, 201) << response->body;
    }
  }

  // Every event in the outbox (a page of at most 500).
  std::vector<json> outbox() {
    auto response =
        client_->Get("/v1/outbox?limit=500", {{"Authorization", std::string("Bearer ") + kAdmin}});
    if (!response || response->status != 200) return {};
    return json::parse(response->body)["items"].get<std::vector<json>>();
  }

  // `orders` ORDER_CREATED events are in the outbox, and every event there (alert events
  // too) is SENT without a retry.
  bool allSentWithoutRetries(int orders) {
    int created = 0;
    for (const auto& event : outbox()) {
      if (event["status"] != "SENT" || event["retryCount"] != 0) return false;
      created += event["eventType"] == "ORDER_CREATED" ? 1 : 0;
    }
    return created == orders;
  }

  // Receives from `queue` until `orders` ORDER_CREATED events have arrived there in all.
  bool orderEventsArrive(const std::string& queue, int orders) {
    int& arrived = arrived_[queue];
    return eventually(
        [&] {
          for (const auto& message : fauxqs_->receive(fauxqs_->queueUrl(queue), 10, 0)) {
            json body = json::parse(message["Body"].get<std::string>());
            if (body.contains("TopicArn")) body = json::parse(body["Message"].get<std::string>());
            arrived += body["eventType"] == "ORDER_CREATED" ? 1 : 0;
          }
          return arrived >= orders;
        },
        seconds(15));
  }

  json health() {
    auto response = client_->Get("/health");
    return response ? json::parse(response->body, nullptr, false) : json();
  }

  static bool hasClockSkewAlert(const json& health) {
    for (const auto& alert : health.value("alerts", json::array())) {
      if (alert.value("alert", "") == "CLOCK_SKEW") return true;
    }
    return false;
  }

  TempDir dir_;
  std::unique_ptr<Fauxqs> fauxqs_;
  std::unique_ptr<SkewedAwsProxy> proxy_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
  std::map<std::string, int> arrived_;  // ORDER_CREATED events received, by queue
};

TEST_F(ClockSkew, EventsReachSnsAndSqsSignedAtTheServicesTimeWithNothingFailedOrRetried) {
  postOrders(3);  // one ORDER_CREATED event each (no delivery service configured)

  EXPECT_TRUE(orderEventsArrive("direct", 3)) << node_->logs();
  EXPECT_TRUE(orderEventsArrive("from-topic", 3)) << node_->logs();
  ASSERT_TRUE(eventually([&] { return allSentWithoutRetries(3); }, seconds(10))) << node_->logs();
  const int refusals = proxy_->refusals();
  EXPECT_GE(refusals, 1);  // the first request, signed at the box's clock
  EXPECT_LE(refusals, 2);  // at most the first of each destination

  json now = health();
  EXPECT_LT(std::llabs(now["clockSkewMs"].get<std::int64_t>() - kTwoHoursMs), 5000) << now;
  EXPECT_TRUE(eventually([&] { return hasClockSkewAlert(health()); }, seconds(10))) << health();
  EXPECT_EQ(health()["status"], "DEGRADED");
  EXPECT_EQ(health()["failedEventCount"], 0);
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("\noutpost_clock_skew_seconds 7"), std::string::npos)
      << metrics->body;
  EXPECT_NE(node_->logs().find("signing AWS requests with the services' clock"), std::string::npos);

  // The offset is kept: the next batch goes without another refusal.
  postOrders(2);
  EXPECT_TRUE(orderEventsArrive("direct", 5)) << node_->logs();
  EXPECT_TRUE(orderEventsArrive("from-topic", 5)) << node_->logs();
  ASSERT_TRUE(eventually([&] { return allSentWithoutRetries(5); }, seconds(10))) << node_->logs();
  EXPECT_EQ(proxy_->refusals(), refusals);
  // On the wire: one X-Amz-Date a request, as AWS needs (libcurl 7.88 would send two).
  EXPECT_EQ(proxy_->mostDateHeaders(), 1u);
  EXPECT_GE(proxy_->forwarded(), 4);
}

}  // namespace
}  // namespace outpost::testing
