#include "alerts/alert_checker.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "alerts/alert_store.h"
#include "node/context.h"
#include "store/store.h"
#include "support/fake_clock.h"
#include "support/node_process.h"

namespace outpost::alerts {
namespace {

using nlohmann::json;

class AlertCheckerTest : public ::testing::Test {
 protected:
  AlertCheckerTest()
      : log_file_(std::fopen(dir_.file("log").c_str(), "w")), log_(clock_, log_file_) {}
  ~AlertCheckerTest() override { std::fclose(log_file_); }

  void SetUp() override {
    auto opened = store::Store::open({dir_.file("alerts.db"), 2000});
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    context_.emplace(node::Context{*store_, clock_, random_, log_, metrics_, "node-1"});
    figures_.circuit_breaker_states = {{"delivery-service", "CLOSED"}, {"events", "CLOSED"}};
  }

  std::unique_ptr<AlertChecker> makeChecker(bool webhook = true) {
    return std::make_unique<AlertChecker>(AlertCheckerDependencies{*context_,
                                                                   {100, 50},
                                                                   60000,
                                                                   webhook,
                                                                   [this] { return figures_; },
                                                                   [this] { ++webhook_wakes_; }});
  }

  int count(const std::string& sql) {
    return *store_->read([&](store::Connection& c) {
      SQLite::Statement query(c.db(), sql);
      query.executeStep();
      return query.getColumn(0).getInt();
    });
  }
  int events(const std::string& type) {
    return count("SELECT COUNT(*) FROM outbox_events WHERE event_type = '" + type + "'");
  }
  std::vector<json> webhookBodies() {
    return *store_->read([](store::Connection& c) {
      std::vector<json> bodies;
      SQLite::Statement query(c.db(), "SELECT body FROM alert_webhooks ORDER BY id");
      while (query.executeStep()) bodies.push_back(json::parse(query.getColumn(0).getString()));
      return bodies;
    });
  }
  int logLines(const std::string& message) {
    std::ifstream file(dir_.file("log"));
    std::string line;
    int found = 0;
    while (std::getline(file, line)) {
      if (json::parse(line).value("msg", "") == message) ++found;
    }
    return found;
  }
  void checkTimes(AlertChecker& checker, int times) {
    for (int i = 0; i < times; ++i) {
      EXPECT_EQ(checker.runPass([] { return false; }), std::chrono::milliseconds(60000));
      clock_.advance(std::chrono::milliseconds(60000));
    }
  }

  testing::TempDir dir_;
  FakeClock clock_;
  SystemRandom random_{7};
  std::FILE* log_file_;
  observability::Logger log_;
  std::unique_ptr<store::Store> store_;
  observability::Metrics metrics_;
  std::optional<node::Context> context_;
  observability::ReliabilityFigures figures_;
  int webhook_wakes_ = 0;
};

TEST_F(AlertCheckerTest, AnOutboxBacklogIsRaisedOnceAndClearedOnce) {
  auto checker = makeChecker();
  figures_.stored.outbox_events_pending = 101;
  checkTimes(*checker, 3);
  EXPECT_EQ(events(kAlertRaised), 1);
  ASSERT_EQ(checker->active().size(), 1u);
  EXPECT_EQ(checker->active()[0]["alert"], kOutboxBacklog);
  EXPECT_EQ(checker->active()[0]["details"]["pendingCount"], 101);
  EXPECT_EQ(count("SELECT COUNT(*) FROM active_alerts"), 1);
  EXPECT_EQ(logLines("alert raised"), 1);

  figures_.stored.outbox_events_pending = 100;  // not above the threshold any more
  checkTimes(*checker, 3);
  EXPECT_EQ(events(kAlertRaised), 1);
  EXPECT_EQ(events(kAlertCleared), 1);
  EXPECT_TRUE(checker->active().empty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM active_alerts"), 0);
  EXPECT_EQ(logLines("alert cleared"), 1);

  const auto bodies = webhookBodies();
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[0]["alert"], kOutboxBacklog);
  EXPECT_EQ(bodies[0]["state"], "RAISED");
  EXPECT_EQ(bodies[0]["details"], json({{"pendingCount", 101}, {"threshold", 100}}));
  EXPECT_EQ(bodies[0]["nodeId"], "node-1");
  EXPECT_TRUE(bodies[0]["at"].is_string());
  EXPECT_EQ(bodies[1]["state"], "CLEARED");
  EXPECT_EQ(bodies[1]["details"]["pendingCount"], 100);
  EXPECT_EQ(webhook_wakes_, 2);
}

TEST_F(AlertCheckerTest, ABacklogEqualToItsThresholdRaisesNothing) {
  auto checker = makeChecker();
  figures_.stored.outbox_events_pending = 100;
  figures_.stored.manual_review_queue_length = 50;
  checkTimes(*checker, 2);
  EXPECT_TRUE(checker->active().empty());
  EXPECT_EQ(events(kAlertRaised), 0);
  figures_.stored.manual_review_queue_length = 51;
  checkTimes(*checker, 1);
  ASSERT_EQ(checker->active().size(), 1u);
  EXPECT_EQ(checker->active()[0]["alert"], kManualReviewBacklog);
  EXPECT_EQ(checker->active()[0]["details"], json({{"queueLength", 51}, {"threshold", 50}}));
}

TEST_F(AlertCheckerTest, ABreakerProbingItsServiceStaysOneAlertWithTheServices) {
  auto checker = makeChecker();
  figures_.circuit_breaker_states["delivery-service"] = "OPEN";
  checkTimes(*checker, 1);
  figures_.circuit_breaker_states["delivery-service"] = "HALF_OPEN";
  figures_.circuit_breaker_states["events"] = "OPEN";
  checkTimes(*checker, 1);
  figures_.circuit_breaker_states["delivery-service"] = "OPEN";
  checkTimes(*checker, 1);
  EXPECT_EQ(events(kAlertRaised), 1);
  EXPECT_EQ(events(kAlertCleared), 0);
  ASSERT_EQ(checker->active().size(), 1u);
  EXPECT_EQ(checker->active()[0]["alert"], kCircuitBreakerOpen);
  // /health shows the services as of the last check; the raise told of the first one.
  EXPECT_EQ(checker->active()[0]["details"]["services"], json({"delivery-service", "events"}));
  EXPECT_EQ(webhookBodies()[0]["details"]["services"], json({"delivery-service"}));

  figures_.circuit_breaker_states = {{"delivery-service", "CLOSED"}, {"events", "CLOSED"}};
  checkTimes(*checker, 2);
  EXPECT_EQ(events(kAlertCleared), 1);
  EXPECT_TRUE(checker->active().empty());
}

TEST_F(AlertCheckerTest, ARestartNeitherRaisesAgainNorForgetsToClear) {
  figures_.stored.manual_review_queue_length = 60;
  makeChecker()->runPass([] { return false; });

  auto restarted = makeChecker();
  clock_.advance(std::chrono::milliseconds(5000));
  checkTimes(*restarted, 2);
  EXPECT_EQ(events(kAlertRaised), 1);
  ASSERT_EQ(restarted->active().size(), 1u);
  EXPECT_EQ(restarted->active()[0]["raisedAt"], "2023-11-14T22:13:20.000Z");

  figures_.stored.manual_review_queue_length = 0;
  auto restarted_again = makeChecker();
  checkTimes(*restarted_again, 2);
  EXPECT_EQ(events(kAlertCleared), 1);
  EXPECT_TRUE(restarted_again->active().empty());
}

TEST_F(AlertCheckerTest, AnUnreadableDatabaseClearsNothing) {
  auto checker = makeChecker();
  figures_.stored.outbox_events_pending = 500;
  checkTimes(*checker, 1);
  figures_.database_available = false;
  figures_.stored = {};  // what the node reports when it cannot read the file
  checkTimes(*checker, 3);
  EXPECT_EQ(events(kAlertCleared), 0);
  EXPECT_EQ(checker->active().size(), 1u);
}

TEST_F(AlertCheckerTest, WithoutAWebhookNoCallIsQueued) {
  auto checker = makeChecker(false);
  figures_.stored.outbox_events_pending = 101;
  checkTimes(*checker, 1);
  EXPECT_EQ(events(kAlertRaised), 1);
  EXPECT_TRUE(webhookBodies().empty());
  EXPECT_EQ(webhook_wakes_, 0);
}

}  // namespace
}  // namespace outpost::alerts
