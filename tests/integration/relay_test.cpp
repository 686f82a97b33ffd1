// The outbox relay against the fauxqs SNS/SQS emulator (SPEC §4.3, §9): what is asserted is
// what arrived in the queues, and the outbox rows that say so.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/eventually.h"
#include "support/fake_services.h"
#include "support/fauxqs.h"
#include "support/node_process.h"
#include "support/outbox_backlog.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

const char* const kInit = R"({
  "queues": [
    {"name": "direct"},
    {"name": "from-topic"},
    {"name": "direct.fifo", "attributes": {"FifoQueue": "true"}},
    {"name": "from-topic.fifo", "attributes": {"FifoQueue": "true"}}
  ],
  "topics": [{"name": "events"}, {"name": "events.fifo", "attributes": {"FifoTopic": "true"}}],
  "subscriptions": [
    {"topic": "events", "queue": "from-topic"},
    {"topic": "events.fifo", "queue": "from-topic.fifo"}
  ]
})";

const std::string kTopicArn = "arn:aws:sns:us-east-1:000000000000:events";
const std::string kFifoTopicArn = "arn:aws:sns:us-east-1:000000000000:events.fifo";
const std::string kOrder =
    R"({"customerId":"c-1","items":[{"productId":"sku-1","quantity":2}],"shippingAddress":{"line1":"1 Quay St"}})";
constexpr const char* kAdmin = "admin-secret";

struct OutboxRow {
  std::string status;
  int retry_count = 0;
  std::string last_error;
};

class Relay : public ::testing::Test {
 protected:
  void SetUp() override {
    fauxqs_ = Fauxqs::start(dir_, kInit);
    ASSERT_NE(fauxqs_, nullptr);
  }

  // The node sends to the emulator, signed with test credentials; the poll interval is a
  // minute, so whatever arrives sooner came from the wake-up on commit.
  std::map<std::string, std::string> eventsEnv(const std::string& topic_arn,
                                               const std::string& queue_name) {
    std::map<std::string, std::string> env = {{"OUTPOST_EVENTS_ENDPOINT_URL", fauxqs_->endpoint()},
                                              {"OUTPOST_EVENTS_POLL_INTERVAL_MS", "60000"},
                                              {"OUTPOST_ADMIN_TOKEN", kAdmin},
                                              {"AWS_ACCESS_KEY_ID", "test"},
                                              {"AWS_SECRET_ACCESS_KEY", "test"}};
    if (!topic_arn.empty()) env["OUTPOST_EVENTS_SNS_TOPIC_ARN"] = topic_arn;
    if (!queue_name.empty()) env["OUTPOST_EVENTS_SQS_QUEUE_URL"] = fauxqs_->queueUrl(queue_name);
    return env;
  }

  void start(std::map<std::string, std::string> env) {
    node_ = NodeProcess::start(dir_, {std::move(env), dir_.file("outpost.db")});
    ASSERT_NE(node_, nullptr);
    client_ = node_->client();
  }

  std::string postOrder() {
    auto response = client_->Post("/v1/orders", kOrder, "application/json");
    EXPECT_TRUE(response);
    if (!response) return "";
    EXPECT_EQ(response->status, 201) << response->body;
    return json::parse(response->body, nullptr, false).value("id", "");
  }

  std::vector<json> receive(const std::string& queue, std::size_t count,
                            milliseconds limit = seconds(10)) {
    return fauxqs_->receiveAtLeast(fauxqs_->queueUrl(queue), count, limit);
  }

  OutboxRow row(const std::string& event_id) {
    SQLite::Database db(dir_.file("outpost.db"), SQLite::OPEN_READONLY);
    SQLite::Statement query(
        db, "SELECT status, retry_count, COALESCE(last_error, '') FROM outbox_events WHERE id = ?");
    query.bind(1, event_id);
    if (!query.executeStep()) return {"missing", 0, ""};
    return {query.getColumn(0).getString(), query.getColumn(1).getInt(),
            query.getColumn(2).getString()};
  }

  std::vector<std::string> eventIds(const std::string& order_id) {
    SQLite::Database db(dir_.file("outpost.db"), SQLite::OPEN_READONLY);
    SQLite::Statement query(db, "SELECT id FROM outbox_events WHERE aggregate_id = ? ORDER BY seq");
    query.bind(1, order_id);
    std::vector<std::string> ids;
    while (query.executeStep()) ids.push_back(query.getColumn(0).getString());
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<Fauxqs> fauxqs_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
};

json bodyOf(const json& message) { return json::parse(message["Body"].get<std::string>()); }

// The event envelope inside an SNS notification.
json notifiedEvent(const json& message) {
  return json::parse(bodyOf(message)["Message"].get<std::string>());
}

void expectEnvelope(const json& event, const std::string& order_id) {
  EXPECT_EQ(event["eventType"], "ORDER_CREATED") << event;
  EXPECT_EQ(event["aggregateId"], order_id) << event;
  EXPECT_EQ(event["nodeId"], "test-node") << event;
  EXPECT_TRUE(event["eventId"].is_string()) << event;
  EXPECT_TRUE(event["occurredAt"].is_string()) << event;
  EXPECT_EQ(event["data"]["id"], order_id) << event;
  EXPECT_EQ(event["data"]["items"][0]["productId"], "sku-1") << event;
}

TEST_F(Relay, EventsReachTheTopicsQueueAndTheDirectQueueWellBeforeThePoll) {
  start(eventsEnv(kTopicArn, "direct"));
  std::set<std::string> orders;
  for (int i = 0; i < 3; ++i) orders.insert(postOrder());

  const auto direct = receive("direct", 3, seconds(10));
  const auto via_topic = receive("from-topic", 3, seconds(10));
  // Both within 10 s each; the poll interval is 60 s.
  ASSERT_EQ(direct.size(), 3u) << node_->logs();
  ASSERT_EQ(via_topic.size(), 3u) << node_->logs();

  for (const auto& message : direct) {
    const json event = bodyOf(message);
    EXPECT_EQ(orders.count(event["aggregateId"]), 1u) << event;
    expectEnvelope(event, event["aggregateId"]);
    EXPECT_EQ(message["MessageAttributes"]["eventType"]["StringValue"], "ORDER_CREATED");
    const std::string id = event["eventId"];
    // Recorded once both destinations answered, which may be just after this arrived.
    EXPECT_TRUE(eventually([&] { return row(id).status == "SENT"; }, seconds(5)));
  }
  for (const auto& message : via_topic) {
    const json notification = bodyOf(message);
    EXPECT_EQ(notification["TopicArn"], kTopicArn);
    EXPECT_EQ(notification["MessageAttributes"]["eventType"]["Value"], "ORDER_CREATED")
        << notification;
    const json event = notifiedEvent(message);
    EXPECT_EQ(orders.count(event["aggregateId"]), 1u) << event;
    expectEnvelope(event, event["aggregateId"]);
  }
  // Each was sent once.
  EXPECT_TRUE(receive("direct", 1, seconds(1)).empty());
}

TEST_F(Relay, AnOutageLosesNothingAndFailsNothing) {
  auto env = eventsEnv(kTopicArn, "direct");
  env["OUTPOST_BREAKERS_EVENTS_RESET_TIMEOUT_MS"] = "1000";
  start(env);
  postOrder();
  ASSERT_EQ(receive("direct", 1).size(), 1u);
  ASSERT_EQ(receive("from-topic", 1).size(), 1u);

  fauxqs_->stop();
  std::set<std::string> orders;
  for (int i = 0; i < 10; ++i) orders.insert(postOrder());
  EXPECT_EQ(orders.size(), 10u);
  // The relay met the outage: the events breaker opened (the node keeps its state).
  EXPECT_TRUE(eventually(
      [&] {
        SQLite::Database db(dir_.file("outpost.db"), SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT state FROM breaker_state WHERE name = 'events'");
        return q.executeStep() && q.getColumn(0).getString() == "OPEN";
      },
      seconds(30), milliseconds(50)))
      << node_->logs();
  EXPECT_EQ(countEvents(dir_.file("outpost.db"), "PENDING"), 10);

  ASSERT_TRUE(fauxqs_->restart());  // same port, queues and subscription from the init file
  const auto direct = receive("direct", 10, seconds(30));
  const auto via_topic = receive("from-topic", 10, seconds(30));
  std::set<std::string> arrived;
  for (const auto& message : direct) arrived.insert(bodyOf(message)["aggregateId"]);
  EXPECT_EQ(arrived, orders) << node_->logs();
  std::set<std::string> arrived_via_topic;
  for (const auto& message : via_topic) {
    arrived_via_topic.insert(notifiedEvent(message)["aggregateId"]);
  }
  EXPECT_EQ(arrived_via_topic, orders);
  EXPECT_TRUE(eventually([&] { return countEvents(dir_.file("outpost.db"), "SENT") == 11; },
                         seconds(10), milliseconds(50)));
  EXPECT_EQ(countEvents(dir_.file("outpost.db"), "FAILED"), 0);
  SQLite::Database db(dir_.file("outpost.db"), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT MAX(retry_count) FROM outbox_events").getInt(), 0);
}

TEST_F(Relay, ARejectingDestinationEndsTheEventFailedAndARetrySendsIt) {
  auto env = eventsEnv("", "");
  const std::string missing_queue = fauxqs_->endpoint() + "/000000000000/not-yet";
  env["OUTPOST_EVENTS_SQS_QUEUE_URL"] = missing_queue;
  env["OUTPOST_EVENTS_POLL_INTERVAL_MS"] = "200";  // a rejected event is tried at each poll
  env["OUTPOST_EVENTS_MAX_RETRIES"] = "3";
  start(env);
  const std::string order_id = postOrder();
  const auto ids = eventIds(order_id);
  ASSERT_EQ(ids.size(), 1u);
  const std::string id = ids[0];

  ASSERT_TRUE(eventually([&] { return row(id).status == "FAILED"; }, seconds(15), milliseconds(50)))
      << node_->logs();
  const OutboxRow failed = row(id);
  EXPECT_EQ(failed.retry_count, 3);
  EXPECT_NE(failed.last_error.find("QueueDoesNotExist"), std::string::npos) << failed.last_error;
  auto listed = client_->Get("/v1/outbox?status=FAILED",
                             {{"Authorization", std::string("Bearer ") + kAdmin}});
  ASSERT_TRUE(listed);
  const json page = json::parse(listed->body);
  ASSERT_EQ(page["items"].size(), 1u) << listed->body;
  EXPECT_EQ(page["items"][0]["id"], id);
  EXPECT_EQ(page["items"][0]["retryCount"], 3);

  // The operator fixes the destination and re-queues the event.
  ASSERT_FALSE(fauxqs_->createQueue("not-yet").empty());
  auto retried =
      client_->Post("/v1/outbox/" + id + "/retry",
                    {{"Authorization", std::string("Bearer ") + kAdmin}}, "", "application/json");
  ASSERT_TRUE(retried);
  EXPECT_LT(retried->status, 300) << retried->body;
  const auto arrived = receive("not-yet", 1, seconds(10));
  ASSERT_EQ(arrived.size(), 1u) << node_->logs();
  EXPECT_EQ(bodyOf(arrived[0])["eventId"], id);
  EXPECT_TRUE(eventually([&] { return row(id).status == "SENT"; }, seconds(5), milliseconds(50)));
}

TEST_F(Relay, FifoDestinationsGetTheOrderAsGroupAndTheEventAsDeduplicationId) {
  FakeDeliveryService delivery;  // a delivered order has two events: created, initiated
  auto env = eventsEnv(kFifoTopicArn, "direct.fifo");
  env["OUTPOST_DELIVERY_SERVICE_URL"] = delivery.url();
  start(env);
  const std::string order_id = postOrder();
  const auto ids = eventIds(order_id);
  ASSERT_EQ(ids.size(), 2u);

  for (const char* queue : {"direct.fifo", "from-topic.fifo"}) {
    const auto messages = receive(queue, 2, seconds(10));
    ASSERT_EQ(messages.size(), 2u) << queue << node_->logs();
    for (std::size_t i = 0; i < 2; ++i) {
      const json& attributes = messages[i]["Attributes"];
      EXPECT_EQ(attributes["MessageGroupId"], order_id) << queue;
      EXPECT_EQ(attributes["MessageDeduplicationId"], ids[i]) << queue << ": commit order";
      const json event =
          std::string(queue) == "direct.fifo" ? bodyOf(messages[i]) : notifiedEvent(messages[i]);
      EXPECT_EQ(event["eventId"], ids[i]) << queue;
    }
  }
}

TEST_F(Relay, AKillWhileSendingLosesNoEvent) {
  // A backlog written while no node ran, then a node that sends it, killed mid-way.
  const auto ids = fillOutbox(dir_.file("outpost.db"), 1500, 2);
  ASSERT_EQ(ids.size(), 3000u);
  auto env = eventsEnv(kTopicArn, "direct");
  // Over the default threshold, the backlog would raise an alert, and its event would be
  // one more message than the orders' own.
  env["OUTPOST_ALERTS_OUTBOX_BACKLOG"] = "1000000";
  start(env);
  // Killed once it is well under way, so that a batch is most likely in flight.
  ASSERT_TRUE(eventually([&] { return countEvents(dir_.file("outpost.db"), "SENT") >= 600; },
                         seconds(20), milliseconds(1)))
      << node_->logs();
  node_->killHard();
  const int sent_before_kill = countEvents(dir_.file("outpost.db"), "SENT");
  EXPECT_LT(sent_before_kill, 3000) << "the kill came after the relay had finished";

  start(env);
  std::map<std::string, int> direct_copies;
  std::map<std::string, int> topic_copies;
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while ((direct_copies.size() < ids.size() || topic_copies.size() < ids.size()) &&
         std::chrono::steady_clock::now() < deadline) {
    for (const auto& m : receive("direct", 10, seconds(1))) ++direct_copies[bodyOf(m)["eventId"]];
    for (const auto& m : receive("from-topic", 10, seconds(1))) {
      ++topic_copies[notifiedEvent(m)["eventId"]];
    }
  }
  int direct_duplicates = 0;
  int topic_duplicates = 0;
  for (const auto& id : ids) {
    EXPECT_GE(direct_copies[id], 1) << "lost on the queue: " << id;
    EXPECT_GE(topic_copies[id], 1) << "lost on the topic: " << id;
    direct_duplicates += std::max(0, direct_copies[id] - 1);
    topic_duplicates += std::max(0, topic_copies[id] - 1);
  }
  EXPECT_EQ(direct_copies.size(), ids.size());
  EXPECT_EQ(topic_copies.size(), ids.size());
  EXPECT_TRUE(eventually([&] { return countEvents(dir_.file("outpost.db"), "SENT") == 3000; },
                         seconds(10), milliseconds(50)));
  std::printf(
      "kill -9 after %d of 3000 events were marked SENT: all 3000 arrived; duplicates: "
      "%d on the queue, %d on the topic\n",
      sent_before_kill, direct_duplicates, topic_duplicates);
}

TEST_F(Relay, SigtermDoesNotWaitForAHungDestination) {
  FakeDeliveryService hung;  // any HTTP peer that takes requests and never answers
  hung.setFault(Fault::kHang);
  auto env = eventsEnv("", "");
  env["OUTPOST_EVENTS_ENDPOINT_URL"] = hung.url();
  env["OUTPOST_EVENTS_SQS_QUEUE_URL"] = hung.url() + "/000000000000/direct";
  env["OUTPOST_BREAKERS_EVENTS_TIMEOUT_MS"] = "60000";
  start(env);
  postOrder();
  ASSERT_TRUE(eventually([&] { return hung.requestCount() > 0; }, seconds(10)));
  const auto stopping = std::chrono::steady_clock::now();
  EXPECT_EQ(node_->terminate(seconds(30)), 0) << node_->logs();
  const auto took = std::chrono::steady_clock::now() - stopping;
  // Without cancelling, shutdown would wait for the 60 s request timeout.
  EXPECT_LT(took, seconds(10)) << node_->logs();
  EXPECT_EQ(countEvents(dir_.file("outpost.db"), "PENDING"), 1);
  hung.setFault(Fault::kNone);
}

}  // namespace
}  // namespace outpost::testing
