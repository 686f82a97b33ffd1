// Backlog age (SPEC §11): how long the oldest PENDING event has waited, read by an index
// however long the backlog, shown by every face of the figures, and the OUTBOX_STALE
// alert, which holds only over its threshold and only with an events destination.
#include <gtest/gtest.h>

#include "alerts/alert_rules.h"
#include "observability/metrics.h"
#include "observability/reliability.h"
#include "store/connection.h"
#include "store/migrations.h"
#include "support/node_process.h"

namespace outpost::observability {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

Config configWith(std::map<std::string, std::string> env = {}) {
  auto config = loadConfig({std::nullopt, std::move(env), "node-1"});
  EXPECT_TRUE(config) << config.error().message;
  return *config;
}

Config withDestination() {
  return configWith({{"OUTPOST_EVENTS_SQS_QUEUE_URL", "http://127.0.0.1:9/1/q"}});
}

class OldestPendingAge : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::openConnection({dir_.file("age.db"), 2000});
    ASSERT_TRUE(opened) << opened.error().message;
    connection_ = std::move(*opened);
    auto migrated = store::migrate(*connection_, store::embeddedMigrations(), 0);
    ASSERT_TRUE(migrated) << migrated.error().message;
  }

  void addEvent(const std::string& id, const std::string& status, std::int64_t created_at) {
    SQLite::Statement insert(connection_->db(),
                             "INSERT INTO outbox_events (id, event_type, aggregate_id, event_data,"
                             " status, created_at, next_attempt_at) VALUES (?, 'T', 'o-1', '{}',"
                             " ?, ?, 0)");
    insert.bind(1, id);
    insert.bind(2, status);
    insert.bind(3, created_at);
    insert.exec();
  }

  ReliabilityFigures figuresAt(std::int64_t now_ms, const Config& config = configWith()) {
    FigureInputs inputs;
    inputs.stored = readStoredFigures(*connection_);
    inputs.now_ms = now_ms;
    return assembleFigures(config, inputs);
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Connection> connection_;
};

TEST_F(OldestPendingAge, IsZeroWithNoPendingEvent) {
  EXPECT_FALSE(readStoredFigures(*connection_).oldest_pending_created_at.has_value());
  EXPECT_EQ(figuresAt(kNow).outbox_oldest_pending_age_seconds, 0);
  addEvent("sent", "SENT", kNow - 3'600'000);
  addEvent("failed", "FAILED", kNow - 7'200'000);
  const auto figures = figuresAt(kNow);
  EXPECT_EQ(figures.outbox_oldest_pending_age_seconds, 0);
  EXPECT_EQ(healthJson(figures)["outboxOldestPendingAgeSeconds"], 0);
}

TEST_F(OldestPendingAge, IsTheOldestPendingEventsAgeInWholeSeconds) {
  addEvent("sent-older", "SENT", kNow - 3'600'000);  // SENT and FAILED are not waiting
  addEvent("failed-older", "FAILED", kNow - 7'200'000);
  addEvent("oldest", "PENDING", kNow - 90'999);
  addEvent("newer", "PENDING", kNow - 10'000);
  EXPECT_EQ(readStoredFigures(*connection_).oldest_pending_created_at, kNow - 90'999);
  const auto figures = figuresAt(kNow);
  EXPECT_EQ(figures.outbox_oldest_pending_age_ms, 90'999);
  EXPECT_EQ(figures.outbox_oldest_pending_age_seconds, 90);
  EXPECT_EQ(healthJson(figures)["outboxOldestPendingAgeSeconds"], 90);
  connection_->db().exec("UPDATE outbox_events SET status = 'SENT' WHERE id = 'oldest'");
  EXPECT_EQ(figuresAt(kNow).outbox_oldest_pending_age_seconds, 10);
}

TEST_F(OldestPendingAge, AClockSteppedBackBeforeTheCommitReadsAsNoAge) {
  addEvent("future", "PENDING", kNow + 5'000);
  EXPECT_EQ(figuresAt(kNow).outbox_oldest_pending_age_seconds, 0);
}

TEST_F(OldestPendingAge, IsFoundByTheStatusIndexNeverAScanOrASort) {
  SQLite::Statement plan(connection_->db(),
                         "EXPLAIN QUERY PLAN SELECT created_at FROM outbox_events WHERE status ="
                         " 'PENDING' ORDER BY seq LIMIT 1");
  std::string details;
  while (plan.executeStep()) details += plan.getColumn(3).getString() + "\n";
  EXPECT_NE(details.find("SEARCH outbox_events USING INDEX outbox_by_status (status=?)"),
            std::string::npos)
      << details;
  EXPECT_EQ(details.find("TEMP B-TREE"), std::string::npos) << details;
}

TEST_F(OldestPendingAge, IsAGaugeInTheMetrics) {
  addEvent("oldest", "PENDING", kNow - 42'000);
  const std::string text = Metrics().render(figuresAt(kNow));
  EXPECT_NE(text.find("# TYPE outpost_outbox_oldest_pending_age_seconds gauge\n"),
            std::string::npos);
  EXPECT_NE(text.find("\noutpost_outbox_oldest_pending_age_seconds 42\n"), std::string::npos)
      << text;
}

ReliabilityFigures agedFigures(const Config& config, std::int64_t age_ms) {
  FigureInputs inputs;
  StoredFigures stored;
  stored.outbox_events_pending = 1;
  stored.oldest_pending_created_at = kNow - age_ms;
  inputs.stored = stored;
  inputs.now_ms = kNow;
  return assembleFigures(config, inputs);
}

TEST(OutboxStaleRule, HoldsOnlyWhenTheAgeIsOverTheThreshold) {
  const alerts::Thresholds thresholds{100, 50, 900'000};
  const auto at = alerts::evaluate(agedFigures(withDestination(), 900'000), thresholds);
  EXPECT_FALSE(at.at(alerts::kOutboxStale).holds);
  const auto over = alerts::evaluate(agedFigures(withDestination(), 900'001), thresholds);
  EXPECT_TRUE(over.at(alerts::kOutboxStale).holds);
  EXPECT_EQ(over.at(alerts::kOutboxStale).details,
            (nlohmann::json{{"oldestAgeSeconds", 900}, {"thresholdSeconds", 900}}));
}

TEST(OutboxStaleRule, NeverHoldsWithoutAnEventsDestination) {
  const alerts::Thresholds thresholds{100, 50, 1000};
  const auto offline = alerts::evaluate(agedFigures(configWith(), 86'400'000), thresholds);
  EXPECT_FALSE(offline.at(alerts::kOutboxStale).holds);
  EXPECT_EQ(offline.at(alerts::kOutboxStale).details["oldestAgeSeconds"], 86'400);
}

TEST(OutboxStaleRule, ASubSecondThresholdKeepsItsFraction) {
  const alerts::Thresholds thresholds{100, 50, 1500};
  const auto over = alerts::evaluate(agedFigures(withDestination(), 2000), thresholds);
  EXPECT_TRUE(over.at(alerts::kOutboxStale).holds);
  EXPECT_EQ(over.at(alerts::kOutboxStale).details["thresholdSeconds"], 1.5);
}

}  // namespace
}  // namespace outpost::observability
