// The forwarding trail of SPEC §11 against the real binary and fauxqs: GET /v1/orders/{id}
// shows the order's events PENDING while the destination is unreachable and SENT, with
// sentAt, once it is back; the cancel answer carries the same trail.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "support/eventually.h"
#include "support/fauxqs.h"
#include "support/node_process.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

const char* const kInit = R"({"queues": [{"name": "trail"}]})";
constexpr const char* kOrder = R"({"customerId":"c","items":[{"productId":"p","quantity":1}]})";

class ForwardingTrail : public ::testing::Test {
 protected:
  void SetUp() override {
    fauxqs_ = Fauxqs::start(dir_, kInit);
    ASSERT_NE(fauxqs_, nullptr);
    const std::string queue_url = fauxqs_->queueUrl("trail");
    ASSERT_FALSE(queue_url.empty());
    // Down before the first order: its events can only wait.
    fauxqs_->stop();
    node_ = NodeProcess::start(dir_, {{{"OUTPOST_EVENTS_ENDPOINT_URL", fauxqs_->endpoint()},
                                       {"OUTPOST_EVENTS_SQS_QUEUE_URL", queue_url},
                                       {"OUTPOST_EVENTS_POLL_INTERVAL_MS", "200"},
                                       {"OUTPOST_BREAKERS_EVENTS_RESET_TIMEOUT_MS", "500"},
                                       {"AWS_ACCESS_KEY_ID", "test"},
                                       {"AWS_SECRET_ACCESS_KEY", "test"}},
                                      ""});
    ASSERT_NE(node_, nullptr);
    client_ = node_->client();
  }

  json trailOf(const std::string& order_id) {
    auto response = client_->Get("/v1/orders/" + order_id);
    EXPECT_TRUE(response);
    if (!response) return json::array();
    EXPECT_EQ(response->status, 200) << response->body;
    return json::parse(response->body, nullptr, false).value("events", json::array());
  }

  std::string postOrder() {
    auto created = client_->Post("/v1/orders", kOrder, "application/json");
    EXPECT_TRUE(created);
    if (!created) return "";
    EXPECT_EQ(created->status, 201) << created->body;
    return json::parse(created->body, nullptr, false).value("id", "");
  }

  TempDir dir_;
  std::unique_ptr<Fauxqs> fauxqs_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ForwardingTrail, ShowsTheOrdersEventPendingThenSentOnceTheDestinationIsBack) {
  const std::string order_id = postOrder();
  const json waiting = trailOf(order_id);
  ASSERT_EQ(waiting.size(), 1u) << waiting;
  EXPECT_EQ(waiting[0]["eventType"], "ORDER_CREATED");
  EXPECT_EQ(waiting[0]["status"], "PENDING");
  EXPECT_TRUE(waiting[0]["sentAt"].is_null());
  EXPECT_EQ(waiting[0]["retryCount"], 0);  // an outage burns no retry
  EXPECT_TRUE(waiting[0]["createdAt"].is_string());
  EXPECT_TRUE(waiting[0].contains("lastError"));

  ASSERT_TRUE(fauxqs_->restart());
  json sent;
  EXPECT_TRUE(eventually(
      [&] {
        sent = trailOf(order_id);
        return sent.size() == 1 && sent[0]["status"] == "SENT";
      },
      seconds(20), milliseconds(100)))
      << sent << node_->logs();
  EXPECT_EQ(sent[0]["id"], waiting[0]["id"]);
  ASSERT_TRUE(sent[0]["sentAt"].is_string()) << sent;
  EXPECT_GE(sent[0]["sentAt"].get<std::string>(), sent[0]["createdAt"].get<std::string>());
  EXPECT_EQ(fauxqs_->receiveAtLeast(fauxqs_->queueUrl("trail"), 1, seconds(10)).size(), 1u);
}

TEST_F(ForwardingTrail, TheCancelAnswerCarriesTheTrailInCommitOrder) {
  const std::string order_id = postOrder();
  auto cancelled = client_->Post("/v1/orders/" + order_id + "/cancel", "", "application/json");
  ASSERT_TRUE(cancelled);
  ASSERT_EQ(cancelled->status, 202) << cancelled->body;
  const json answer = json::parse(cancelled->body);
  ASSERT_TRUE(answer["events"].is_array()) << answer;
  ASSERT_GE(answer["events"].size(), 1u) << answer;
  EXPECT_EQ(answer["events"][0]["eventType"], "ORDER_CREATED");
  // GET shows the same events, in the same (commit) order.
  const json read_back = trailOf(order_id);
  ASSERT_GE(read_back.size(), answer["events"].size());
  for (std::size_t i = 0; i < answer["events"].size(); ++i) {
    EXPECT_EQ(read_back[i]["id"], answer["events"][i]["id"]) << i;
  }
}

}  // namespace
}  // namespace outpost::testing
