// The fauxqs test peer itself: it starts, speaks SQS (JSON protocol) and SNS (query
// protocol) unsigned, and can be stopped and restarted from its init file.
#include "support/fauxqs.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

namespace outpost::testing {
namespace {

const char* const kInit = R"({
  "queues": [
    {"name": "orders"},
    {"name": "orders.fifo", "attributes": {"FifoQueue": "true"}},
    {"name": "from-topic"}
  ],
  "topics": [{"name": "events"}],
  "subscriptions": [{"topic": "events", "queue": "from-topic"}]
})";

const char* const kTopicArn = "arn:aws:sns:us-east-1:000000000000:events";

httplib::Result sqsPost(const Fauxqs& fauxqs, const std::string& action,
                        const nlohmann::json& body) {
  httplib::Client client("127.0.0.1", fauxqs.port());
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(10));
  return client.Post("/", {{"X-Amz-Target", "AmazonSQS." + action}}, body.dump(),
                     "application/x-amz-json-1.0");
}

// fauxqs names queues http://sqs.<region>.localhost:PORT/<account>/<name> (FAUXQS_HOST
// only replaces "localhost"; 127.0.0.1 there would give an unresolvable name) and finds a
// queue by region and name whatever the host, so requests always go to endpoint().
TEST(Fauxqs, QueueUrlsNameTheQueueAndAnyHostFindsIt) {
  TempDir dir;
  auto fauxqs = Fauxqs::start(dir, kInit);
  ASSERT_NE(fauxqs, nullptr);
  const std::string port = std::to_string(fauxqs->port());
  EXPECT_EQ(fauxqs->endpoint(), "http://127.0.0.1:" + port);
  EXPECT_EQ(fauxqs->queueUrl("orders"),
            "http://sqs.us-east-1.localhost:" + port + "/000000000000/orders");
  EXPECT_EQ(fauxqs->queueUrl("orders.fifo"),
            "http://sqs.us-east-1.localhost:" + port + "/000000000000/orders.fifo");

  const std::string loopback_url = fauxqs->endpoint() + "/000000000000/orders";
  auto sent =
      sqsPost(*fauxqs, "SendMessage", {{"QueueUrl", loopback_url}, {"MessageBody", "by-ip"}});
  ASSERT_TRUE(sent) << httplib::to_string(sent.error());
  ASSERT_EQ(sent->status, 200) << sent->body;
  auto messages = fauxqs->receiveAtLeast(fauxqs->queueUrl("orders"), 1, std::chrono::seconds(5));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["Body"], "by-ip");
}

TEST(Fauxqs, DeliversAnSqsMessage) {
  TempDir dir;
  auto fauxqs = Fauxqs::start(dir, kInit);
  ASSERT_NE(fauxqs, nullptr);
  const std::string url = fauxqs->queueUrl("orders");
  ASSERT_FALSE(url.empty());

  auto sent =
      sqsPost(*fauxqs, "SendMessage",
              {{"QueueUrl", url},
               {"MessageBody", R"({"orderId":"o-1"})"},
               {"MessageAttributes",
                {{"eventType", {{"DataType", "String"}, {"StringValue", "OrderCreated"}}}}}});
  ASSERT_TRUE(sent) << httplib::to_string(sent.error());
  ASSERT_EQ(sent->status, 200) << sent->body;

  auto messages = fauxqs->receiveAtLeast(url, 1, std::chrono::seconds(5));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["Body"], R"({"orderId":"o-1"})");
  EXPECT_EQ(messages[0]["MessageAttributes"]["eventType"]["StringValue"], "OrderCreated");
  EXPECT_TRUE(messages[0]["Attributes"].contains("SentTimestamp")) << messages[0].dump();
  // receive() deleted it.
  EXPECT_TRUE(fauxqs->receive(url, 10, 0).empty());
}

TEST(Fauxqs, DeliversAFifoMessageWithItsGroup) {
  TempDir dir;
  auto fauxqs = Fauxqs::start(dir, kInit);
  ASSERT_NE(fauxqs, nullptr);
  const std::string url = fauxqs->queueUrl("orders.fifo");
  ASSERT_FALSE(url.empty());
  for (const char* id : {"e-1", "e-2"}) {
    auto sent = sqsPost(*fauxqs, "SendMessage",
                        {{"QueueUrl", url},
                         {"MessageBody", id},
                         {"MessageGroupId", "order-1"},
                         {"MessageDeduplicationId", id}});
    ASSERT_TRUE(sent) << httplib::to_string(sent.error());
    ASSERT_EQ(sent->status, 200) << sent->body;
  }
  auto messages = fauxqs->receiveAtLeast(url, 2, std::chrono::seconds(5));
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0]["Body"], "e-1");
  EXPECT_EQ(messages[1]["Body"], "e-2");
  EXPECT_EQ(messages[0]["Attributes"]["MessageGroupId"], "order-1");
}

TEST(Fauxqs, DeliversAnSnsPublishToTheSubscribedQueue) {
  TempDir dir;
  auto fauxqs = Fauxqs::start(dir, kInit);
  ASSERT_NE(fauxqs, nullptr);

  httplib::Client client("127.0.0.1", fauxqs->port());
  client.set_connection_timeout(std::chrono::seconds(2));
  const httplib::Params form = {{"Action", "Publish"},
                                {"TopicArn", kTopicArn},
                                {"Message", R"({"orderId":"o-2"})"},
                                {"Version", "2010-03-31"}};
  auto published = client.Post("/", form);
  ASSERT_TRUE(published) << httplib::to_string(published.error());
  ASSERT_EQ(published->status, 200) << published->body;
  EXPECT_NE(published->body.find("<MessageId>"), std::string::npos) << published->body;

  auto messages =
      fauxqs->receiveAtLeast(fauxqs->queueUrl("from-topic"), 1, std::chrono::seconds(5));
  ASSERT_EQ(messages.size(), 1u);
  // Not raw delivery: the body is the SNS envelope.
  auto envelope = nlohmann::json::parse(messages[0]["Body"].get<std::string>(), nullptr, false);
  ASSERT_TRUE(envelope.is_object()) << messages[0].dump();
  EXPECT_EQ(envelope["Type"], "Notification");
  EXPECT_EQ(envelope["TopicArn"], kTopicArn);
  EXPECT_EQ(envelope["Message"], R"({"orderId":"o-2"})");
}

TEST(Fauxqs, StopRefusesConnectionsAndRestartRecreatesTheInitQueues) {
  TempDir dir;
  auto fauxqs = Fauxqs::start(dir, kInit);
  ASSERT_NE(fauxqs, nullptr);
  const int port = fauxqs->port();
  const std::string url = fauxqs->queueUrl("orders");
  auto sent = sqsPost(*fauxqs, "SendMessage", {{"QueueUrl", url}, {"MessageBody", "before"}});
  ASSERT_TRUE(sent && sent->status == 200);

  fauxqs->stop();
  auto refused = sqsPost(*fauxqs, "GetQueueUrl", {{"QueueName", "orders"}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), httplib::Error::Connection);

  ASSERT_TRUE(fauxqs->restart());
  EXPECT_EQ(fauxqs->port(), port);
  EXPECT_EQ(fauxqs->queueUrl("orders"), url);
  // State was in memory: the message sent before the stop is gone.
  EXPECT_TRUE(fauxqs->receive(url, 10, 0).empty());
  sent = sqsPost(*fauxqs, "SendMessage", {{"QueueUrl", url}, {"MessageBody", "after"}});
  ASSERT_TRUE(sent && sent->status == 200);
  auto messages = fauxqs->receiveAtLeast(url, 1, std::chrono::seconds(5));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["Body"], "after");
}

}  // namespace
}  // namespace outpost::testing
