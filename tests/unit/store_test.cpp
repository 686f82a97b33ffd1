#include "store/store.h"

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <thread>

#include "orders/order_repository.h"
#include "store/migrations.h"
#include "support/fake_clock.h"
#include "support/node_process.h"

namespace outpost::store {
namespace {

using outpost::testing::TempDir;

std::unique_ptr<Store> openStore(const std::string& path, std::int64_t busy_ms = 2000) {
  auto store = Store::open({path, busy_ms});
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

std::int64_t countRows(Store& store, const char* sql) {
  auto count = store.read([&](Connection& c) {
    auto query = c.prepare(sql);
    query->executeStep();
    return query->getColumn(0).getInt64();
  });
  EXPECT_TRUE(count);
  return count ? *count : -1;
}

Status insertJob(Connection& c, const std::string& aggregate) {
  auto insert = c.prepare(
      "INSERT INTO jobs (kind, aggregate_id, next_run_at, created_at, updated_at)"
      " VALUES ('TEST', ?, 0, 0, 0)");
  insert->bind(1, aggregate);
  insert->exec();
  return okStatus();
}

// A write that needs more pages than the file may have, as on a full disk.
Status writeToAFullDisk(Store& store) {
  return store.write([](Connection& c) -> Status {
    c.db().exec("PRAGMA max_page_count = 1");
    return insertJob(c, std::string(100000, 'x'));
  });
}

TEST(Connection, SetsDurabilityPragmas) {
  TempDir dir;
  auto connection = openConnection({dir.file("a.db"), 1234});
  ASSERT_TRUE(connection);
  auto& db = (*connection)->db();
  EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ(db.execAndGet("PRAGMA synchronous").getInt(), 2);  // FULL
  EXPECT_EQ(db.execAndGet("PRAGMA foreign_keys").getInt(), 1);
  EXPECT_EQ(db.execAndGet("PRAGMA busy_timeout").getInt(), 1234);
}

TEST(Migrations, AppliesEveryMigrationOnceAndRecordsIt) {
  TempDir dir;
  auto connection = openConnection({dir.file("a.db"), 2000});
  ASSERT_TRUE(connection);
  auto first = migrate(**connection, embeddedMigrations(), 0);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->from_version, 0);
  EXPECT_EQ(first->to_version, latestSchemaVersion(embeddedMigrations()));
  EXPECT_EQ(first->applied.size(), embeddedMigrations().size());
  auto second = migrate(**connection, embeddedMigrations(), 0);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->applied.empty());
  EXPECT_EQ((*connection)->db().execAndGet("SELECT COUNT(*) FROM schema_migrations").getInt(),
            static_cast<int>(embeddedMigrations().size()));
}

TEST(Migrations, OrdersCancelledBeforeCancelVerificationAreCheckedOnce) {
  TempDir dir;
  auto connection = openConnection({dir.file("a.db"), 2000});
  ASSERT_TRUE(connection);
  std::vector<Migration> before;
  for (const auto& migration : embeddedMigrations()) {
    if (migration.version < 7) before.push_back(migration);
  }
  ASSERT_TRUE(migrate(**connection, before, 0));
  auto insert = [&](const char* id, const char* status, std::optional<std::string> delivery) {
    orders::Order order;
    order.id = id;
    order.customer_id = "c";
    order.status = status;
    order.delivery_id = std::move(delivery);
    orders::insertOrder(**connection, order);
  };
  insert("cancelled-with", "CANCELLED", "dlv-1");
  insert("cancelled-without", "CANCELLED", std::nullopt);
  insert("pending-with", "PENDING_SHIPMENT", "dlv-2");
  ASSERT_TRUE(migrate(**connection, embeddedMigrations(), 0));
  auto& db = (*connection)->db();
  EXPECT_EQ(
      db.execAndGet("SELECT group_concat(id) FROM orders WHERE delivery_cancel_unverified = 1")
          .getString(),
      "cancelled-with");
}

TEST(Migrations, RefusesAFileFromANewerOutpost) {
  TempDir dir;
  auto connection = openConnection({dir.file("a.db"), 2000});
  ASSERT_TRUE(connection);
  ASSERT_TRUE(migrate(**connection, embeddedMigrations(), 0));
  (*connection)->db().exec("INSERT INTO schema_migrations VALUES (999, 'future', 0)");
  auto again = migrate(**connection, embeddedMigrations(), 0);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("newer"), std::string::npos);
}

TEST(Migrations, AFailingMigrationLeavesTheFileAsItWas) {
  TempDir dir;
  auto connection = openConnection({dir.file("a.db"), 2000});
  ASSERT_TRUE(connection);
  const std::vector<Migration> first = {{1, "first", "CREATE TABLE a (x INTEGER);"}};
  ASSERT_TRUE(migrate(**connection, first, 0));
  const std::vector<Migration> broken = {
      first[0],
      {2, "good", "CREATE TABLE b (x INTEGER);"},
      {3, "bad", "CREATE TABLE c (x INTEGER); INSERT INTO nowhere VALUES (1);"}};
  EXPECT_FALSE(migrate(**connection, broken, 0));
  auto& db = (*connection)->db();
  EXPECT_EQ(db.execAndGet("SELECT MAX(version) FROM schema_migrations").getInt(), 1);
  EXPECT_FALSE(db.tableExists("b"));
  EXPECT_FALSE(db.tableExists("c"));
}

// A file at version `version` of the embedded migrations, holding one order.
void makeOldFileWithAnOrder(const std::string& path, int version) {
  auto connection = openConnection({path, 2000});
  ASSERT_TRUE(connection);
  std::vector<Migration> old;
  for (const auto& migration : embeddedMigrations()) {
    if (migration.version <= version) old.push_back(migration);
  }
  ASSERT_TRUE(migrate(**connection, old, 0));
  (*connection)
      ->db()
      .exec(
          "INSERT INTO orders (id, customer_id, status, created_at, updated_at)"
          " VALUES ('ord-old', 'c', 'PENDING_SHIPMENT', 1, 1)");
}

TEST(Migrations, AFileHoldingDataIsBackedUpBeforeItIsMigrated) {
  TempDir dir;
  const std::string path = dir.file("old.db");
  makeOldFileWithAnOrder(path, 3);
  auto connection = openConnection({path, 2000});
  ASSERT_TRUE(connection);
  auto report = migrate(**connection, embeddedMigrations(), 0);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->from_version, 3);
  EXPECT_EQ(report->backup_path, path + ".pre-v3.bak");

  SQLite::Database backup(path + ".pre-v3.bak", SQLite::OPEN_READONLY);
  EXPECT_EQ(backup.execAndGet("SELECT MAX(version) FROM schema_migrations").getInt(), 3);
  EXPECT_EQ(backup.execAndGet("SELECT id FROM orders").getString(), "ord-old");
  EXPECT_EQ(backup.execAndGet("PRAGMA integrity_check").getString(), "ok");
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().string().find(".part-"), std::string::npos) << entry.path();
  }
}

TEST(Migrations, ANewFileOrAnUpToDateOneIsNotBackedUp) {
  TempDir dir;
  auto connection = openConnection({dir.file("new.db"), 2000});
  ASSERT_TRUE(connection);
  auto created = migrate(**connection, embeddedMigrations(), 0);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->backup_path, std::nullopt);
  auto again = migrate(**connection, embeddedMigrations(), 0);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->backup_path, std::nullopt);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().string().find(".bak"), std::string::npos) << entry.path();
  }
}

TEST(Migrations, ThePlanNamesWhatMigrateWouldDo) {
  const std::string path = "/data/outpost.db";
  auto plan = planMigrations(5, path, embeddedMigrations());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->from_version, 5);
  ASSERT_EQ(plan->pending.size(), embeddedMigrations().size() - 5);
  EXPECT_EQ(plan->pending.front().version, 6);
  EXPECT_EQ(plan->backup_path, path + ".pre-v5.bak");

  auto fresh = planMigrations(0, path, embeddedMigrations());
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->pending.size(), embeddedMigrations().size());
  EXPECT_EQ(fresh->backup_path, std::nullopt);  // nothing in the file to keep

  const int latest = latestSchemaVersion(embeddedMigrations());
  auto current = planMigrations(latest, path, embeddedMigrations());
  ASSERT_TRUE(current);
  EXPECT_TRUE(current->pending.empty());
  EXPECT_EQ(current->backup_path, std::nullopt);
  EXPECT_FALSE(planMigrations(latest + 1, path, embeddedMigrations()));
}

TEST(Store, AReadOnlyStoreReadsAndNeitherWritesNorCreatesNorMigrates) {
  TempDir dir;
  EXPECT_FALSE(store::Store::openReadOnly({dir.file("missing.db"), 2000}));
  EXPECT_FALSE(std::filesystem::exists(dir.file("missing.db")));
  {
    auto writable = store::Store::open({dir.file("s.db"), 2000});
    ASSERT_TRUE(writable);
    ASSERT_TRUE((*writable)->write([](Connection& c) {
      c.exec("CREATE TABLE t (x INTEGER)");
      c.exec("INSERT INTO t VALUES (7)");
      return okStatus();
    }));
  }
  auto reader = store::Store::openReadOnly({dir.file("s.db"), 2000});
  ASSERT_TRUE(reader) << reader.error().message;
  auto value =
      (*reader)->read([](Connection& c) { return c.db().execAndGet("SELECT x FROM t").getInt(); });
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, 7);
  const Status written = (*reader)->write([](Connection& c) {
    c.exec("INSERT INTO t VALUES (8)");
    return okStatus();
  });
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().kind, ErrorKind::kInvalidArgument);
}

TEST(Store, AReadOnlyStoreRefusesAFileAtAnotherSchemaVersion) {
  TempDir dir;
  {
    auto connection = openConnection({dir.file("old.db"), 2000});
    ASSERT_TRUE(connection);
    std::vector<Migration> first_only = {embeddedMigrations().front()};
    ASSERT_TRUE(migrate(**connection, first_only, 0));
  }
  auto reader = store::Store::openReadOnly({dir.file("old.db"), 2000});
  ASSERT_FALSE(reader);
  EXPECT_NE(reader.error().message.find("run 'outpost migrate'"), std::string::npos)
      << reader.error().message;
}

TEST(Store, TheWriterAnswersAPingUnlessItIsStuckInAWrite) {
  TempDir dir;
  auto store = openStore(dir.file("ping.db"));
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->writerResponds(std::chrono::seconds(5)));

  std::promise<void> release;
  std::promise<void> entered;
  std::thread stuck([&] {
    (void)store->write([&](Connection&) {
      entered.set_value();
      release.get_future().wait();
      return okStatus();
    });
  });
  entered.get_future().wait();
  EXPECT_FALSE(store->writerResponds(std::chrono::milliseconds(100)));
  release.set_value();
  stuck.join();
  EXPECT_TRUE(store->writerResponds(std::chrono::seconds(5)));

  store->shutdown();
  EXPECT_FALSE(store->writerResponds(std::chrono::seconds(5)));
}

TEST(Store, AReadOnlyStoreHasNoWriterToAnswer) {
  TempDir dir;
  ASSERT_TRUE(openStore(dir.file("r.db")));
  auto reader = Store::openReadOnly({dir.file("r.db"), 2000});
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_FALSE((*reader)->writerResponds(std::chrono::milliseconds(10)));
}

TEST(Store, ConcurrentWritesAreAllCommitted) {
  TempDir dir;
  auto store = openStore(dir.file("a.db"));
  ASSERT_TRUE(store);
  std::vector<std::thread> writers;
  std::atomic<int> failures = 0;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string id = std::to_string(t) + "-" + std::to_string(i);
        if (!store->write([&](Connection& c) { return insertJob(c, id); })) ++failures;
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(countRows(*store, "SELECT COUNT(*) FROM jobs"), 400);
}

TEST(Store, AFailedWriteRollsBackOnlyItself) {
  TempDir dir;
  auto store = openStore(dir.file("a.db"));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->write([](Connection& c) { return insertJob(c, "first"); }));
  auto duplicate = store->write([](Connection& c) {
    (void)insertJob(c, "half-done");
    return insertJob(c, "first");  // UNIQUE(kind, aggregate_id)
  });
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().kind, ErrorKind::kConflict);
  auto refused = store->write([](Connection& c) -> Status {
    (void)insertJob(c, "also-half-done");
    return Error::invalidArgument("changed my mind");
  });
  EXPECT_FALSE(refused);
  EXPECT_EQ(countRows(*store, "SELECT COUNT(*) FROM jobs"), 1);
}

TEST(Store, WriteBlockedPastBusyTimeoutIsUnavailable) {
  TempDir dir;
  auto store = openStore(dir.file("a.db"), 100);
  ASSERT_TRUE(store);
  SQLite::Database other(dir.file("a.db"), SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  auto blocked = store->write([](Connection& c) { return insertJob(c, "x"); });
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().kind, ErrorKind::kUnavailable);
  other.exec("ROLLBACK");
  EXPECT_TRUE(store->write([](Connection& c) { return insertJob(c, "x"); }));
}

TEST(Store, FullDatabaseIsUnavailableAndWritesNothing) {
  TempDir dir;
  auto store = openStore(dir.file("a.db"));
  ASSERT_TRUE(store);
  const auto before = countRows(*store, "SELECT COUNT(*) FROM jobs");
  auto full = writeToAFullDisk(*store);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(countRows(*store, "SELECT COUNT(*) FROM jobs"), before);
}

TEST(Store, ReadsDoNotWaitForAHeldWriteLock) {
  TempDir dir;
  auto store = openStore(dir.file("a.db"), 5000);
  ASSERT_TRUE(store);
  SQLite::Database other(dir.file("a.db"), SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  other.exec(
      "INSERT INTO jobs (kind, aggregate_id, next_run_at, created_at, updated_at)"
      " VALUES ('T', 'uncommitted', 0, 0, 0)");
  EXPECT_EQ(countRows(*store, "SELECT COUNT(*) FROM jobs"), 0);
  other.exec("ROLLBACK");
}

TEST(Store, UnopenableFileIsUnavailable) {
  auto store = Store::open({"/nonexistent-dir/for/sure/a.db", 100});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().kind, ErrorKind::kUnavailable);
}

}  // namespace
}  // namespace outpost::store

namespace outpost::store {
namespace {

TEST(StoreBreaker, OutagesOpenTheDatabaseBreakerAndATrialClosesIt) {
  TempDir dir;
  auto store = openStore(dir.file("a.db"), 50);
  ASSERT_TRUE(store);
  FakeClock clock;
  resilience::CircuitBreaker breaker({"database", 50, 20000, 2, 2, 10000, 1000, 10}, clock);
  store->setBreaker(&breaker);
  SQLite::Database other(dir.file("a.db"), SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  for (int i = 0; i < 2; ++i) {
    auto blocked = store->write([](Connection& c) { return insertJob(c, "x"); });
    ASSERT_FALSE(blocked);
  }
  EXPECT_EQ(breaker.state(), resilience::BreakerState::kOpen);
  other.exec("ROLLBACK");
  // Open: refused without touching the file, even though it is usable again.
  auto refused = store->write([](Connection& c) { return insertJob(c, "y"); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kUnavailable);
  auto read = store->read([](Connection& c) { return currentSchemaVersion(c); });
  ASSERT_FALSE(read);  // reads are refused too
  EXPECT_EQ(read.error().kind, ErrorKind::kUnavailable);
  clock.advance(std::chrono::milliseconds(20000));
  EXPECT_TRUE(store->write([](Connection& c) { return insertJob(c, "y"); }));
  EXPECT_EQ(breaker.state(), resilience::BreakerState::kClosed);
  store->setBreaker(nullptr);
  EXPECT_EQ(countRows(*store, "SELECT COUNT(*) FROM jobs"), 1);
}

TEST(StoreBreaker, SuccessfulReadsNeverDiluteFailingWrites) {
  TempDir dir;
  auto store = openStore(dir.file("a.db"));
  ASSERT_TRUE(store);
  FakeClock clock;
  // Only the consecutive rule can trip it: the window would need 1000 calls.
  resilience::CircuitBreaker breaker({"database", 50, 20000, 1000, 3, 10000, 1000, 10}, clock);
  store->setBreaker(&breaker);
  for (int write = 0; write < 3; ++write) {
    EXPECT_EQ(breaker.state(), resilience::BreakerState::kClosed) << "after " << write;
    auto full = writeToAFullDisk(*store);
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().kind, ErrorKind::kUnavailable);
    for (int read = 0; read < 10; ++read) {  // a /health poller between the writes
      ASSERT_TRUE(store->read([](Connection& c) { return currentSchemaVersion(c); }) ||
                  breaker.state() == resilience::BreakerState::kOpen);
    }
  }
  EXPECT_EQ(breaker.state(), resilience::BreakerState::kOpen);
  EXPECT_EQ(breaker.snapshot().failures_in_window, 3);
}

TEST(StoreBreaker, AReadMayBeTheTrialThatClosesIt) {
  TempDir dir;
  auto store = openStore(dir.file("a.db"));
  ASSERT_TRUE(store);
  FakeClock clock;
  resilience::CircuitBreaker breaker({"database", 50, 20000, 1000, 1, 10000, 1000, 10}, clock);
  store->setBreaker(&breaker);
  ASSERT_FALSE(writeToAFullDisk(*store));
  ASSERT_EQ(breaker.state(), resilience::BreakerState::kOpen);
  clock.advance(std::chrono::milliseconds(20000));
  ASSERT_TRUE(store->read([](Connection& c) { return currentSchemaVersion(c); }));
  EXPECT_EQ(breaker.state(), resilience::BreakerState::kClosed);
}

TEST(StoreBreaker, ConstraintErrorsAreNotOutages) {
  TempDir dir;
  auto store = openStore(dir.file("a.db"));
  ASSERT_TRUE(store);
  FakeClock clock;
  resilience::CircuitBreaker breaker({"database", 50, 20000, 2, 2, 10000, 1000, 10}, clock);
  store->setBreaker(&breaker);
  ASSERT_TRUE(store->write([](Connection& c) { return insertJob(c, "dup"); }));
  for (int i = 0; i < 5; ++i) {
    auto duplicate = store->write([](Connection& c) { return insertJob(c, "dup"); });
    ASSERT_FALSE(duplicate);
    EXPECT_EQ(duplicate.error().kind, ErrorKind::kConflict);
  }
  EXPECT_EQ(breaker.state(), resilience::BreakerState::kClosed);
}

}  // namespace
}  // namespace outpost::store
