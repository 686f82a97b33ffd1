// Edges a till or an attacker can reach: a held database lock answers 503 and writes
// nothing, and a client that stalls mid-request is cut off without holding up others.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/database_lock.h"
#include "support/node_process.h"
#include "support/raw_http.h"

namespace outpost::testing {
namespace {

constexpr const char* kOrder = R"({"customerId":"c","items":[{"productId":"p","quantity":1}]})";

TEST(DatabaseOutage, LockedDatabaseAnswers503WithRetryAfterAndWritesNothing) {
  TempDir dir;
  auto node = NodeProcess::start(dir, {{{"OUTPOST_DATABASE_BUSY_TIMEOUT_MS", "100"}}, ""});
  ASSERT_NE(node, nullptr);
  auto client = node->client();
  {
    HeldWriteLock holder(node->database());
    auto refused = client->Post("/v1/orders", kOrder, "application/json");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 503) << refused->body;
    EXPECT_EQ(refused->get_header_value("Content-Type"), "application/problem+json");
    EXPECT_FALSE(refused->get_header_value("Retry-After").empty());
    auto problem = nlohmann::json::parse(refused->body);
    EXPECT_EQ(problem["title"], "System temporarily unavailable");
    auto ready = client->Get("/readyz");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 503);
    holder.release();
  }
  SQLite::Database db(node->database(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM orders").getInt(), 0);
  auto served = client->Post("/v1/orders", kOrder, "application/json");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 201);
  EXPECT_EQ(client->Get("/readyz")->status, 200);
}

TEST(SlowClient, StalledRequestIsCutOffAndOthersAreServed) {
  TempDir dir;
  auto node = NodeProcess::start(dir);
  ASSERT_NE(node, nullptr);
  auto stalled = RawConnection::open(node->port());
  ASSERT_NE(stalled, nullptr);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(stalled->send("POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n"));

  auto served = node->client()->Post("/v1/orders", kOrder, "application/json");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 201);

  // SPEC §8: cut off 5 s after its first byte, with a 408 first.
  const auto cut_off = stalled->readResponse(std::chrono::seconds(15));
  ASSERT_TRUE(cut_off);
  EXPECT_EQ(cut_off->status, 408);
  EXPECT_TRUE(stalled->closesWithin(std::chrono::seconds(1)));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(5500));
  SQLite::Database db(node->database(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM orders").getInt(), 1);
}

}  // namespace
}  // namespace outpost::testing
