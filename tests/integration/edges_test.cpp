// Edges a till or an attacker can reach: a held database lock answers 503 and writes
// nothing, and a client that stalls mid-request is cut off without holding up others.
#include <SQLiteCpp/Database.h>
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/node_process.h"

namespace outpost::testing {
namespace {

constexpr const char* kOrder = R"({"customerId":"c","items":[{"productId":"p","quantity":1}]})";

TEST(DatabaseOutage, LockedDatabaseAnswers503WithRetryAfterAndWritesNothing) {
  TempDir dir;
  auto node = NodeProcess::start(dir, {{{"OUTPOST_DATABASE_BUSY_TIMEOUT_MS", "100"}}, ""});
  ASSERT_NE(node, nullptr);
  auto client = node->client();
  {
    SQLite::Database holder(node->database(), SQLite::OPEN_READWRITE);
    holder.exec("BEGIN IMMEDIATE");
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
    holder.exec("ROLLBACK");
  }
  SQLite::Database db(node->database(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM orders").getInt(), 0);
  auto served = client->Post("/v1/orders", kOrder, "application/json");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 201);
  EXPECT_EQ(client->Get("/readyz")->status, 200);
}

int connectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(SlowClient, StalledRequestIsCutOffAndOthersAreServed) {
  TempDir dir;
  auto node = NodeProcess::start(dir);
  ASSERT_NE(node, nullptr);
  const int stalled = connectTo(node->port());
  ASSERT_GE(stalled, 0);
  const std::string partial = "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n";
  ASSERT_EQ(send(stalled, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));

  auto served = node->client()->Post("/v1/orders", kOrder, "application/json");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 201);

  // The node closes the stalled connection: recv returns 0 (or an error).
  timeval limit{15, 0};
  setsockopt(stalled, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  const auto started = std::chrono::steady_clock::now();
  char buffer[512];
  ssize_t got;
  do {
    got = recv(stalled, buffer, sizeof buffer, 0);
  } while (got > 0);
  const auto waited = std::chrono::steady_clock::now() - started;
  close(stalled);
  EXPECT_LT(waited, std::chrono::milliseconds(5500));  // SPEC §8: cut off after 5 s
  SQLite::Database db(node->database(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM orders").getInt(), 1);
}

}  // namespace
}  // namespace outpost::testing
