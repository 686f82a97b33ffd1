// Staff views of the outbox: GET /v1/outbox pages, POST /v1/outbox/{id}/retry re-queues a
// dead letter (409 otherwise), admin_token guards both, and `outpost outbox` does the same
// from the file.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/node_process.h"

namespace outpost::testing {
namespace {

using nlohmann::json;

constexpr const char* kOrder = R"({"customerId":"c","items":[{"productId":"p","quantity":1}]})";
const httplib::Headers kAdmin = {{"Authorization", "Bearer admin-secret-0123456789"}};

class OutboxAdminApi : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = NodeProcess::start(dir_, {{{"OUTPOST_ADMIN_TOKEN", "admin-secret-0123456789"}}, ""});
    ASSERT_NE(node_, nullptr);
    client_ = node_->client();
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(client_->Post("/v1/orders", kOrder, "application/json")->status, 201);
    }
  }

  // The relay is not here yet: a test marks an event as a dead letter itself.
  std::string failOneEvent() {
    SQLite::Database db(node_->database(), SQLite::OPEN_READWRITE);
    const std::string id = db.execAndGet("SELECT id FROM outbox_events LIMIT 1").getString();
    SQLite::Statement fail(db,
                           "UPDATE outbox_events SET status = 'FAILED', retry_count = 5,"
                           " last_error = 'queue does not exist' WHERE id = ?");
    fail.bind(1, id);
    fail.exec();
    return id;
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(OutboxAdminApi, ListsEventsNewestFirstInPages) {
  auto first = client_->Get("/v1/outbox?limit=2", kAdmin);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  const json page = json::parse(first->body);
  ASSERT_EQ(page["items"].size(), 2u);
  const json& event = page["items"][0];
  for (const char* key : {"id", "eventType", "aggregateId", "status", "retryCount", "lastError",
                          "createdAt", "sentAt", "nextAttemptAt"}) {
    EXPECT_TRUE(event.contains(key)) << key;
  }
  EXPECT_EQ(event["status"], "PENDING");
  ASSERT_TRUE(page["next"].is_string());
  auto second = client_->Get("/v1/outbox?limit=2&after=" + page["next"].get<std::string>(), kAdmin);
  const json rest = json::parse(second->body);
  EXPECT_EQ(rest["items"].size(), 1u);
  EXPECT_TRUE(rest["next"].is_null());
  EXPECT_NE(rest["items"][0]["id"], page["items"][1]["id"]);
}

TEST_F(OutboxAdminApi, RetryPutsAFailedEventBackToPending) {
  const std::string id = failOneEvent();
  auto failed = json::parse(client_->Get("/v1/outbox?status=FAILED", kAdmin)->body);
  ASSERT_EQ(failed["items"].size(), 1u);
  EXPECT_EQ(failed["items"][0]["lastError"], "queue does not exist");
  auto retried = client_->Post("/v1/outbox/" + id + "/retry", kAdmin, "", "application/json");
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->status, 200) << retried->body;
  SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
  SQLite::Statement row(db, "SELECT status, retry_count FROM outbox_events WHERE id = ?");
  row.bind(1, id);
  ASSERT_TRUE(row.executeStep());
  EXPECT_EQ(row.getColumn(0).getString(), "PENDING");
  EXPECT_EQ(row.getColumn(1).getInt(), 0);
  // Not FAILED any more: 409. Unknown: 404.
  EXPECT_EQ(client_->Post("/v1/outbox/" + id + "/retry", kAdmin, "", "application/json")->status,
            409);
  EXPECT_EQ(client_->Post("/v1/outbox/no-such-event/retry", kAdmin, "", "application/json")->status,
            404);
}

TEST_F(OutboxAdminApi, AdminTokenGuardsTheOutbox) {
  EXPECT_EQ(client_->Get("/v1/outbox")->status, 401);
  EXPECT_EQ(client_->Get("/v1/outbox", {{"Authorization", "Bearer wrong"}})->status, 401);
  EXPECT_EQ(client_->Post("/v1/outbox/x/retry", "", "application/json")->status, 401);
  EXPECT_EQ(client_->Get("/v1/outbox", kAdmin)->status, 200);
}

TEST_F(OutboxAdminApi, BadQueriesAreProblems) {
  for (const std::string query : {"status=LOST", "limit=0", "limit=501", "after=x", "colour=red"}) {
    auto response = client_->Get("/v1/outbox?" + query, kAdmin);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400) << query;
    EXPECT_EQ(response->get_header_value("Content-Type"), "application/problem+json");
  }
}

TEST_F(OutboxAdminApi, CommandLineListsAndRetriesFromTheFile) {
  const std::string id = failOneEvent();
  const std::map<std::string, std::string> env = {{"OUTPOST_DATABASE", node_->database()}};
  auto listed = runOutpost({"outbox", "list", "--status", "FAILED"}, env);
  EXPECT_EQ(listed.exit_status, 0) << listed.output;
  EXPECT_NE(listed.output.find(id), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("queue does not exist"), std::string::npos);
  auto as_json = runOutpost({"outbox", "list", "--json"}, env);
  EXPECT_EQ(as_json.exit_status, 0);
  EXPECT_EQ(json::parse(as_json.output).size(), 3u);
  auto retried = runOutpost({"outbox", "retry", id}, env);
  EXPECT_EQ(retried.exit_status, 0) << retried.output;
  auto again = runOutpost({"outbox", "retry", id}, env);
  EXPECT_EQ(again.exit_status, 2);
  EXPECT_NE(again.output.find("not FAILED"), std::string::npos) << again.output;
  auto bad = runOutpost({"outbox", "list", "--status", "LOST"}, env);
  EXPECT_EQ(bad.exit_status, 2);
  auto missing = runOutpost({"outbox", "list"}, {{"OUTPOST_DATABASE", dir_.file("none.db")}});
  EXPECT_EQ(missing.exit_status, 1);
  EXPECT_NE(missing.output.find("no database"), std::string::npos);
}

}  // namespace
}  // namespace outpost::testing
