// figure_counts (schema/006): the counts /health, /metrics and `outpost status` read must
// equal what a COUNT(*) finds, after every kind of change and after the migration that
// creates them on a file that already holds rows.
#include <gtest/gtest.h>

#include "observability/reliability.h"
#include "store/connection.h"
#include "store/migrations.h"
#include "support/node_process.h"

namespace outpost::observability {
namespace {

using store::Connection;

class FigureCounts : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::openConnection({dir_.file("counts.db"), 2000});
    ASSERT_TRUE(opened) << opened.error().message;
    connection_ = std::move(*opened);
  }

  void migrateTo(int version) {
    std::vector<store::Migration> wanted;
    for (const auto& migration : store::embeddedMigrations()) {
      if (migration.version <= version) wanted.push_back(migration);
    }
    auto migrated = store::migrate(*connection_, wanted, 0);
    ASSERT_TRUE(migrated) << migrated.error().message;
  }

  void exec(const std::string& sql) { connection_->db().exec(sql); }

  std::int64_t count(const std::string& sql) {
    return connection_->db().execAndGet(sql).getInt64();
  }

  void expectCountsMatch(const std::string& after) {
    const StoredFigures figures = readStoredFigures(*connection_);
    EXPECT_EQ(figures.outbox_events_pending,
              count("SELECT COUNT(*) FROM outbox_events WHERE status = 'PENDING'"))
        << after;
    EXPECT_EQ(figures.outbox_events_sent,
              count("SELECT COUNT(*) FROM outbox_events WHERE status = 'SENT'"))
        << after;
    EXPECT_EQ(figures.failed_event_count,
              count("SELECT COUNT(*) FROM outbox_events WHERE status = 'FAILED'"))
        << after;
    EXPECT_EQ(figures.manual_review_queue_length,
              count("SELECT COUNT(*) FROM review_items WHERE resolved_at IS NULL"))
        << after;
  }

  void addOrder(const std::string& id) {
    exec("INSERT INTO orders (id, customer_id, status, created_at, updated_at) VALUES ('" + id +
         "', 'c', 'PENDING_SHIPMENT', 0, 0)");
  }
  void addEvent(const std::string& id, const std::string& status) {
    exec(
        "INSERT INTO outbox_events (id, event_type, aggregate_id, event_data, status,"
        " created_at, next_attempt_at) VALUES ('" +
        id + "', 'T', 'o-1', '{}', '" + status + "', 0, 0)");
  }
  void addReview(const std::string& order_id, const std::string& kind) {
    exec("INSERT INTO review_items (order_id, kind, reason, created_at, updated_at) VALUES ('" +
         order_id + "', '" + kind + "', 'r', 0, 0)");
  }

  testing::TempDir dir_;
  std::unique_ptr<Connection> connection_;
};

TEST_F(FigureCounts, FollowEveryChange) {
  migrateTo(store::latestSchemaVersion(store::embeddedMigrations()));
  expectCountsMatch("an empty file");
  for (int i = 0; i < 5; ++i) addEvent("e" + std::to_string(i), "PENDING");
  addEvent("sent-at-once", "SENT");
  expectCountsMatch("inserts");
  EXPECT_EQ(readStoredFigures(*connection_).outbox_events_pending, 5);
  exec("UPDATE outbox_events SET status = 'SENT' WHERE id IN ('e0', 'e1')");
  exec("UPDATE outbox_events SET status = 'FAILED' WHERE id = 'e2'");
  exec("UPDATE outbox_events SET retry_count = 1 WHERE id = 'e3'");     // not a status change
  exec("UPDATE outbox_events SET status = 'PENDING' WHERE id = 'e4'");  // the same status
  expectCountsMatch("status changes");
  exec("UPDATE outbox_events SET status = 'PENDING' WHERE id = 'e2'");  // staff re-queue
  exec("DELETE FROM outbox_events WHERE status = 'SENT'");              // retention
  expectCountsMatch("a re-queue and a retention pass");

  addOrder("o-1");
  addOrder("o-2");
  addReview("o-1", "DELIVERY");
  addReview("o-1", "AVAILABILITY");
  addReview("o-2", "DELIVERY");
  exec(
      "INSERT INTO review_items (order_id, kind, reason, created_at, updated_at, resolved_at)"
      " VALUES ('o-2', 'AVAILABILITY', 'r', 0, 0, 5)");  // resolved from the start
  expectCountsMatch("review items");
  EXPECT_EQ(readStoredFigures(*connection_).manual_review_queue_length, 3);
  exec("UPDATE review_items SET resolved_at = 9 WHERE order_id = 'o-1' AND kind = 'DELIVERY'");
  exec("UPDATE review_items SET note = 'x' WHERE order_id = 'o-2'");
  expectCountsMatch("a resolved item");
  exec("PRAGMA foreign_keys = ON");
  exec("DELETE FROM orders WHERE id = 'o-2'");  // its items go with it (ON DELETE CASCADE)
  expectCountsMatch("an order deleted with its items");
  EXPECT_EQ(readStoredFigures(*connection_).manual_review_queue_length, 1);
}

TEST_F(FigureCounts, TheMigrationCountsWhatTheFileAlreadyHolds) {
  migrateTo(5);
  addEvent("a", "PENDING");
  addEvent("b", "PENDING");
  addEvent("c", "SENT");
  addEvent("d", "FAILED");
  addOrder("o-1");
  addReview("o-1", "DELIVERY");
  migrateTo(store::latestSchemaVersion(store::embeddedMigrations()));
  expectCountsMatch("the migration");
  EXPECT_EQ(readStoredFigures(*connection_).outbox_events_pending, 2);
  EXPECT_EQ(readStoredFigures(*connection_).manual_review_queue_length, 1);
}

}  // namespace
}  // namespace outpost::observability
