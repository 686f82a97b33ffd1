// GET /health and `outpost status` against the real binary: each figure follows its cause
// (a breaker opened by a failing fake, events waiting in the outbox, orders flagged for
// review), and the CLI reads the same figures from the file once the node is down.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/eventually.h"
#include "support/fake_services.h"
#include "support/node_process.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const std::string kOrder = R"({"customerId":"c-1","items":[{"productId":"sku-1","quantity":1}]})";

class Health : public ::testing::Test {
 protected:
  json health(int expected_status = 200) {
    auto response = client_->Get("/health");
    EXPECT_TRUE(response);
    if (!response) return json();
    EXPECT_EQ(response->status, expected_status) << response->body;
    return json::parse(response->body, nullptr, false);
  }

  std::int64_t pendingInFile() {
    SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT COUNT(*) FROM outbox_events WHERE status = 'PENDING'").getInt64();
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(Health, EveryFigureFollowsItsCauseAndStatusReadsTheSameFromTheFile) {
  FakeDeliveryService delivery;
  delivery.setFault(Fault::kRefuse);
  const std::map<std::string, std::string> env = {
      {"OUTPOST_DELIVERY_SERVICE_URL", delivery.url()},
      {"OUTPOST_DELIVERY_SERVICE_TIMEOUT_MS", "500"},
      {"OUTPOST_DELIVERY_SERVICE_RETRY_MAX_ATTEMPTS", "1"},  // a failure goes to review
      {"OUTPOST_BREAKERS_DELIVERY_SERVICE_CONSECUTIVE_FAILURES", "2"},
      {"OUTPOST_RECONCILIATION_INTERVAL_MS", "3600000"}};
  node_ = NodeProcess::start(dir_, {env, ""});
  ASSERT_NE(node_, nullptr);
  client_ = node_->client();

  json before = health();
  EXPECT_EQ(before["status"], "HEALTHY") << before;
  for (const char* name : {"delivery-service", "product-service", "events", "database"}) {
    EXPECT_EQ(before["circuitBreakerStates"][name], "CLOSED") << name;
  }
  EXPECT_EQ(before["outboxEventsPending"], 0);
  EXPECT_EQ(before["failedEventCount"], 0);
  EXPECT_EQ(before["manualReviewQueueLength"], 0);
  EXPECT_EQ(before["reconciliationJobsStatus"], "HEALTHY");
  EXPECT_EQ(before["alerts"], json::array());
  EXPECT_EQ(before["services"]["delivery-service"], "configured");
  EXPECT_EQ(before["services"]["events"], "not configured");

  // Two orders while delivery refuses: the breaker opens, both go to review, and their
  // events wait in the outbox (no destination configured).
  for (int i = 0; i < 2; ++i) {
    auto posted = client_->Post("/v1/orders", kOrder, "application/json");
    ASSERT_TRUE(posted);
    ASSERT_EQ(posted->status, 201);
  }
  ASSERT_TRUE(eventually([&] { return health()["manualReviewQueueLength"] == 2; }, seconds(10)))
      << node_->logs();
  const json after = health();
  EXPECT_EQ(after["status"], "DEGRADED") << after;
  EXPECT_EQ(after["circuitBreakerStates"]["delivery-service"], "OPEN");
  EXPECT_GE(after["outboxEventsPending"], 4);  // ORDER_CREATED + DELIVERY_INITIATION_FAILED
  // The node may still be committing (an alert's event): the figure catches up with the file.
  EXPECT_TRUE(
      eventually([&] { return health()["outboxEventsPending"] == pendingInFile(); }, seconds(10)));
  auto wrong = client_->Post("/health", "", "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);

  ASSERT_EQ(node_->terminate(), 0);
  const std::map<std::string, std::string> cli_env = {{"OUTPOST_DATABASE", node_->database()}};
  RunResult as_json = runOutpost({"status", "--json"}, cli_env);
  EXPECT_EQ(as_json.exit_status, 0) << as_json.output;
  const json offline = json::parse(as_json.output, nullptr, false);
  EXPECT_EQ(offline["status"], "DEGRADED") << as_json.output;
  EXPECT_EQ(offline["circuitBreakerStates"]["delivery-service"], "OPEN");
  EXPECT_EQ(offline["outboxEventsPending"], pendingInFile());
  EXPECT_EQ(offline["manualReviewQueueLength"], 2);
  EXPECT_EQ(offline["failedEventCount"], 0);

  RunResult text = runOutpost({"status"}, cli_env);
  EXPECT_EQ(text.exit_status, 0);
  EXPECT_NE(text.output.find("DEGRADED"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("manual review queue:        2"), std::string::npos) << text.output;

  RunResult missing = runOutpost({"status"}, {{"OUTPOST_DATABASE", dir_.file("none.db")}});
  EXPECT_EQ(missing.exit_status, 1);
  EXPECT_EQ(runOutpost({"status", "--limit", "3"}, cli_env).exit_status, 2);
}

}  // namespace
}  // namespace outpost::testing
