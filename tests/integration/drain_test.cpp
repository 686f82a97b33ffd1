// `outpost drain` against the real binary (SPEC §10): the node stops taking orders, and the
// drain, not the relay's poll or a retry's backoff, forwards every event (counted at the
// queue by eventId) and delivery initiation (counted at the fake delivery service).
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/eventually.h"
#include "support/fake_services.h"
#include "support/fauxqs.h"
#include "support/node_process.h"
#include "support/outbox_backlog.h"
#include "support/test_certificate.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

const char* const kInit = R"({"queues": [{"name": "drained"}]})";
const std::string kOrder =
    R"({"customerId":"c-1","items":[{"productId":"sku-1","quantity":2}],"shippingAddress":{"line1":"1 Quay St"}})";
constexpr const char* kAdmin = "admin-secret";
// Longer than any test: whatever goes out in time was sent by the drain.
constexpr const char* kNever = "600000";

std::set<std::string> eventIdsIn(const std::string& database) {
  SQLite::Database db(database, SQLite::OPEN_READONLY);
  SQLite::Statement query(db, "SELECT id FROM outbox_events");
  std::set<std::string> ids;
  while (query.executeStep()) ids.insert(query.getColumn(0).getString());
  return ids;
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class Drain : public ::testing::Test {
 protected:
  void SetUp() override {
    fauxqs_ = Fauxqs::start(dir_, kInit);
    ASSERT_NE(fauxqs_, nullptr);
    queue_url_ = fauxqs_->queueUrl("drained");
    ASSERT_FALSE(queue_url_.empty());
  }

  // Events go to the queue; the relay polls, backs off and waits for its breaker's trial
  // for longer than the test (the first outage opens the breaker). Deliveries go to the
  // fake service (without one, initiations wait and no drain ends them).
  std::map<std::string, std::string> eventsEnv() {
    return {{"OUTPOST_DELIVERY_SERVICE_URL", delivery_.url()},
            {"OUTPOST_EVENTS_ENDPOINT_URL", fauxqs_->endpoint()},
            {"OUTPOST_EVENTS_SQS_QUEUE_URL", queue_url_},
            {"OUTPOST_EVENTS_POLL_INTERVAL_MS", kNever},
            {"OUTPOST_BREAKERS_EVENTS_RESET_TIMEOUT_MS", kNever},
            {"OUTPOST_BREAKERS_EVENTS_CONSECUTIVE_FAILURES", "1"},
            {"AWS_ACCESS_KEY_ID", "test"},
            {"AWS_SECRET_ACCESS_KEY", "test"}};
  }

  void start(std::map<std::string, std::string> env) {
    node_ = NodeProcess::start(dir_, {std::move(env), dir_.file("outpost.db")});
    ASSERT_NE(node_, nullptr);
    client_ = node_->client();
  }

  // What `outpost drain` needs to find the node: its listen address (and a token, TLS).
  RunResult drain(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), "drain");
    env["OUTPOST_LISTEN"] = "127.0.0.1:" + std::to_string(node_->port());
    return runOutpost(args, env);
  }

  httplib::Result postOrder() { return client_->Post("/v1/orders", kOrder, "application/json"); }

  std::string takeOrder() {
    auto response = postOrder();
    EXPECT_TRUE(response);
    if (!response) return "";
    EXPECT_EQ(response->status, 201) << response->body;
    return json::parse(response->body, nullptr, false).value("id", "");
  }

  json health() {
    auto response = client_->Get("/health");
    EXPECT_TRUE(response);
    return response ? json::parse(response->body, nullptr, false) : json();
  }

  std::set<std::string> eventIdsAtTheQueue(std::size_t count) {
    std::set<std::string> ids;
    for (const auto& message : fauxqs_->receiveAtLeast(queue_url_, count, seconds(10))) {
      ids.insert(json::parse(message["Body"].get<std::string>())["eventId"].get<std::string>());
    }
    return ids;
  }

  TempDir dir_;
  FakeDeliveryService delivery_;
  std::unique_ptr<Fauxqs> fauxqs_;
  std::string queue_url_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(Drain, RefusesOrdersForwardsEveryEventOnceTheQueueIsBackAndResumes) {
  fauxqs_->stop();
  start(eventsEnv());
  std::vector<std::string> orders;
  for (int i = 0; i < 20; ++i) orders.push_back(takeOrder());
  EXPECT_FALSE(health()["draining"].get<bool>());

  // The queue is down: the counts are left, and the node refuses orders from now on.
  auto started = std::chrono::steady_clock::now();
  auto left = drain({"--timeout-ms", "2000"});
  const double timed_out_after = secondsSince(started);
  EXPECT_EQ(left.exit_status, 1) << left.output;
  const int pending = countEvents(node_->database(), "PENDING");
  EXPECT_GE(pending, 20);
  EXPECT_NE(left.output.find("not drained: " + std::to_string(pending) +
                             " events, 0 deliveries pending after 2."),
            std::string::npos)
      << left.output;
  EXPECT_EQ(left.output.find("draining:"), std::string::npos) << "no progress lines off a terminal";
  EXPECT_LT(timed_out_after, 5.0);

  auto refused = postOrder();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->get_header_value("Content-Type"), "application/problem+json");
  EXPECT_FALSE(refused->get_header_value("Retry-After").empty());
  EXPECT_EQ(json::parse(refused->body)["type"], "urn:outpost:problem:draining");
  EXPECT_TRUE(health()["draining"].get<bool>());
  auto read = client_->Get("/v1/orders/" + orders[0]);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);

  // The queue is back; its breaker would wait ten minutes, the relay's poll as long.
  ASSERT_TRUE(fauxqs_->restart());
  started = std::chrono::steady_clock::now();
  auto drained = drain({});
  const double drained_after = secondsSince(started);
  EXPECT_EQ(drained.exit_status, 0) << drained.output << node_->logs();
  EXPECT_EQ(drained.output, "drained: 0 events, 0 deliveries pending\n");
  const auto committed = eventIdsIn(node_->database());
  EXPECT_EQ(countEvents(node_->database(), "SENT"), static_cast<int>(committed.size()));
  EXPECT_EQ(eventIdsAtTheQueue(committed.size()), committed);
  std::printf(
      "[ measured ] %zu events forwarded by the drain in %.2f s; a drain against a "
      "down queue answered after %.2f s\n",
      committed.size(), drained_after, timed_out_after);
  EXPECT_TRUE(health()["draining"].get<bool>());  // until resumed

  auto resumed = drain({"--resume"});
  EXPECT_EQ(resumed.exit_status, 0) << resumed.output;
  takeOrder();
  EXPECT_FALSE(health()["draining"].get<bool>());
}

TEST_F(Drain, InitiatesWaitingDeliveriesWithoutWaitingOutTheirRetryDelay) {
  FakeDeliveryService& delivery = delivery_;
  delivery.setFault(Fault::kRefuse);
  auto env = eventsEnv();
  env["OUTPOST_DELIVERY_SERVICE_TIMEOUT_MS"] = "500";
  env["OUTPOST_DELIVERY_SERVICE_RETRY_INITIAL_DELAY_MS"] = kNever;
  env["OUTPOST_DELIVERY_SERVICE_RETRY_MAX_DELAY_MS"] = kNever;
  env["OUTPOST_BREAKERS_DELIVERY_SERVICE_RESET_TIMEOUT_MS"] = kNever;
  env["OUTPOST_BREAKERS_DELIVERY_SERVICE_CONSECUTIVE_FAILURES"] = "1";
  start(env);
  std::vector<std::string> orders;
  for (int i = 0; i < 5; ++i) orders.push_back(takeOrder());
  EXPECT_EQ(delivery.deliveryCount(), 0);
  EXPECT_EQ(health()["circuitBreakerStates"]["delivery-service"], "OPEN");

  delivery.setFault(Fault::kNone);
  const auto started = std::chrono::steady_clock::now();
  auto drained = drain({"--timeout-ms", "20000"});
  const double drained_after = secondsSince(started);
  EXPECT_EQ(drained.exit_status, 0) << drained.output << node_->logs();
  EXPECT_EQ(drained.output, "drained: 0 events, 0 deliveries pending\n");
  EXPECT_EQ(delivery.deliveryCount(), 5);
  for (const auto& id : orders) {
    auto order = client_->Get("/v1/orders/" + id);
    ASSERT_TRUE(order);
    EXPECT_TRUE(json::parse(order->body)["deliveryId"].is_string()) << order->body;
  }
  const auto committed = eventIdsIn(node_->database());
  EXPECT_EQ(eventIdsAtTheQueue(committed.size()), committed);
  std::printf(
      "[ measured ] 5 waiting delivery initiations and %zu events forwarded by the "
      "drain in %.2f s\n",
      committed.size(), drained_after);
}

TEST_F(Drain, TheAdminRoutesNeedTheAdminTokenWhichTheCommandReadsFromItsConfig) {
  auto env = eventsEnv();
  env["OUTPOST_ADMIN_TOKEN"] = kAdmin;
  start(env);
  auto refused = client_->Post("/v1/admin/drain", "", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->get_header_value("Content-Type"), "application/problem+json");
  EXPECT_EQ(client_->Post("/v1/admin/resume", "", "application/json")->status, 401);

  const httplib::Headers admin = {{"Authorization", std::string("Bearer ") + kAdmin}};
  auto invalid =
      client_->Post("/v1/admin/drain", admin, R"({"timeoutMs": -1})", "application/json");
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 400) << invalid->body;
  EXPECT_EQ(json::parse(invalid->body)["errors"][0]["field"], "timeoutMs");
  EXPECT_FALSE(health()["draining"].get<bool>());  // a refused request changes nothing

  auto no_token = drain({"--timeout-ms", "1000"});
  EXPECT_EQ(no_token.exit_status, 1);
  EXPECT_NE(no_token.output.find("admin_token"), std::string::npos) << no_token.output;

  takeOrder();
  ASSERT_TRUE(eventually([&] { return countEvents(node_->database(), "SENT") >= 1; }))
      << node_->logs();
  writeFile(dir_.file("config.json"), std::string(R"({"admin_token": ")") + kAdmin + "\"}");
  auto drained = drain({"--config", dir_.file("config.json")});
  EXPECT_EQ(drained.exit_status, 0) << drained.output;
  EXPECT_EQ(drained.output, "drained: 0 events, 0 deliveries pending\n");

  auto over_http =
      client_->Post("/v1/admin/drain", admin, R"({"timeoutMs": 0})", "application/json");
  ASSERT_TRUE(over_http);
  EXPECT_EQ(over_http->status, 200);
  EXPECT_EQ(
      json::parse(over_http->body),
      json({{"drained", true}, {"pendingEvents", 0}, {"pendingDeliveries", 0}, {"stuck", false}}));
  auto resumed = client_->Post("/v1/admin/resume", admin, "", "application/json");
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->status, 200);
  takeOrder();
}

TEST_F(Drain, TheCommandReachesANodeOnHttpsThroughItsOwnCertificate) {
  const auto certificate = makeTestCertificate(dir_.path());
  ASSERT_FALSE(certificate.cert_file.empty());
  const std::map<std::string, std::string> tls = {{"OUTPOST_TLS_CERT_FILE", certificate.cert_file},
                                                  {"OUTPOST_TLS_KEY_FILE", certificate.key_file}};
  auto env = eventsEnv();
  env.insert(tls.begin(), tls.end());
  start(env);
  auto drained = drain({}, tls);
  EXPECT_EQ(drained.exit_status, 0) << drained.output;
  EXPECT_EQ(drained.output, "drained: 0 events, 0 deliveries pending\n");
  EXPECT_TRUE(health()["draining"].get<bool>());
}

TEST_F(Drain, WorkWaitingForServicesThatAreNotConfiguredIsReportedAtOnce) {
  start({});  // offline mode: events wait in the outbox, initiations for a delivery URL
  takeOrder();
  const auto started = std::chrono::steady_clock::now();
  auto left = drain({"--timeout-ms", "30000"});
  EXPECT_EQ(left.exit_status, 1) << left.output;
  EXPECT_EQ(left.output.rfind("not drained: 1 events, 1 deliveries pending after 0.", 0), 0u)
      << left.output;
  EXPECT_NE(left.output.find("not configured"), std::string::npos) << left.output;
  EXPECT_LT(secondsSince(started), 5.0);
}

TEST_F(Drain, NoNodeRunningIsOneLineAndExitStatusOne) {
  const int port = freeLoopbackPort();
  auto result = runOutpost({"drain"}, {{"OUTPOST_LISTEN", "127.0.0.1:" + std::to_string(port)}});
  EXPECT_EQ(result.exit_status, 1);
  EXPECT_EQ(result.output, "outpost drain: no node answers at 127.0.0.1:" + std::to_string(port) +
                               ": connection refused\n");
  auto bad = runOutpost({"drain", "--timeout-ms", "soon"});
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_NE(bad.output.find("--timeout-ms"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace outpost::testing
