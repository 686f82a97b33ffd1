// Staff views of the outbox: GET /v1/outbox pages, POST /v1/outbox/{id}/retry re-queues a
// dead letter (409 otherwise), POST /v1/outbox/retry-failed re-queues them all (SPEC §11),
// admin_token guards them, and `outpost outbox` does the same from the file.
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

  // Every event (one ORDER_CREATED per order) a dead letter; their order ids.
  std::vector<std::string> failEveryEvent() {
    SQLite::Database db(node_->database(), SQLite::OPEN_READWRITE);
    db.exec(
        "UPDATE outbox_events SET status = 'FAILED', retry_count = 5,"
        " last_error = 'AuthorizationError'");
    SQLite::Statement orders(db, "SELECT aggregate_id FROM outbox_events ORDER BY seq");
    std::vector<std::string> ids;
    while (orders.executeStep()) ids.push_back(orders.getColumn(0).getString());
    return ids;
  }

  // "STATUS:RETRIES" of each event, in commit order.
  std::vector<std::string> eventStates() {
    SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
    SQLite::Statement rows(db,
                           "SELECT status || ':' || retry_count FROM outbox_events ORDER BY seq");
    std::vector<std::string> states;
    while (rows.executeStep()) states.push_back(rows.getColumn(0).getString());
    return states;
  }

  httplib::Result retryFailed(const std::string& body, const httplib::Headers& headers = kAdmin) {
    return client_->Post("/v1/outbox/retry-failed", headers, body, "application/json");
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
};

int requeuedIn(const httplib::Result& response) {
  EXPECT_TRUE(response);
  if (!response) return -1;
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(response->get_header_value("Content-Type"), "application/json");
  return json::parse(response->body, nullptr, false).value("requeued", -1);
}

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

TEST_F(OutboxAdminApi, RetryFailedRequeuesEveryMatchingDeadLetterAtOnce) {
  const auto orders = failEveryEvent();
  ASSERT_EQ(orders.size(), 3u);
  EXPECT_EQ(requeuedIn(retryFailed(R"({"eventType":"DELIVERY_INITIATED"})")), 0);
  EXPECT_EQ(requeuedIn(retryFailed(R"({"aggregateId":")" + orders[1] + R"("})")), 1);
  EXPECT_EQ(eventStates(), (std::vector<std::string>{"FAILED:5", "PENDING:0", "FAILED:5"}));
  EXPECT_EQ(requeuedIn(retryFailed(R"({"eventType":"ORDER_CREATED","aggregateId":")" + orders[2] +
                                   R"("})")),
            1);
  EXPECT_EQ(requeuedIn(retryFailed("")), 1);  // no body: every FAILED event left
  EXPECT_EQ(eventStates(), (std::vector<std::string>{"PENDING:0", "PENDING:0", "PENDING:0"}));
  EXPECT_EQ(requeuedIn(retryFailed("{}")), 0);
  // /health's count follows (figure_counts, kept in the same transaction).
  auto health = json::parse(client_->Get("/health")->body);
  EXPECT_EQ(health["failedEventCount"], 0);
  EXPECT_EQ(health["outboxEventsPending"], 3);
}

TEST_F(OutboxAdminApi, RetryFailedRefusesABadBodyAndChangesNothing) {
  failEveryEvent();
  for (const std::string& body : std::vector<std::string>{
           R"({"eventType":"ORDER_CREATED","colour":"red"})", R"({"eventType":""})",
           R"({"aggregateId":")" + std::string(129, 'x') + R"("})", R"({"eventType":5})", "[]",
           "{not json"}) {
    auto response = retryFailed(body);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400) << body;
    EXPECT_EQ(response->get_header_value("Content-Type"), "application/problem+json") << body;
  }
  const json unknown = json::parse(retryFailed(R"({"colour":"red"})")->body);
  ASSERT_EQ(unknown["errors"].size(), 1u) << unknown;
  EXPECT_EQ(unknown["errors"][0]["field"], "colour");
  EXPECT_EQ(eventStates(), (std::vector<std::string>{"FAILED:5", "FAILED:5", "FAILED:5"}));
}

TEST_F(OutboxAdminApi, RetryFailedIsNeverTakenForAnEventId) {
  failEveryEvent();
  // The single retry's route sees an event called "retry-failed", which does not exist.
  auto single = client_->Post("/v1/outbox/retry-failed/retry", kAdmin, "", "application/json");
  ASSERT_TRUE(single);
  EXPECT_EQ(single->status, 404);
  auto get = client_->Get("/v1/outbox/retry-failed", kAdmin);
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->get_header_value("Allow"), "POST");
  EXPECT_EQ(eventStates(), (std::vector<std::string>{"FAILED:5", "FAILED:5", "FAILED:5"}));
}

TEST_F(OutboxAdminApi, AdminTokenGuardsRetryFailed) {
  failEveryEvent();
  for (const httplib::Headers& refused :
       {httplib::Headers{}, httplib::Headers{{"Authorization", "Bearer wrong"}}}) {
    auto response = retryFailed("", refused);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 401);
    EXPECT_EQ(response->get_header_value("Content-Type"), "application/problem+json");
  }
  EXPECT_EQ(eventStates(), (std::vector<std::string>{"FAILED:5", "FAILED:5", "FAILED:5"}));
  EXPECT_EQ(requeuedIn(retryFailed("")), 3);
}

TEST(OutboxAdminOpen, WithoutAnAdminTokenRetryFailedIsOpen) {
  TempDir dir;
  auto node = NodeProcess::start(dir);
  ASSERT_NE(node, nullptr);
  auto client = node->client();
  ASSERT_EQ(client->Post("/v1/orders", kOrder, "application/json")->status, 201);
  {
    SQLite::Database db(node->database(), SQLite::OPEN_READWRITE);
    db.exec("UPDATE outbox_events SET status = 'FAILED', retry_count = 5");
  }
  EXPECT_EQ(requeuedIn(client->Post("/v1/outbox/retry-failed", "", "application/json")), 1);
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

TEST_F(OutboxAdminApi, CommandLineRetriesEveryFailedEventFromTheFile) {
  failEveryEvent();
  const std::map<std::string, std::string> env = {{"OUTPOST_DATABASE", node_->database()}};
  auto none = runOutpost({"outbox", "retry", "--all-failed", "--event-type", "ALERT_RAISED"}, env);
  EXPECT_EQ(none.exit_status, 0) << none.output;
  EXPECT_EQ(none.output, "requeued 0 events\n");
  auto typed =
      runOutpost({"outbox", "retry", "--all-failed", "--event-type", "ORDER_CREATED"}, env);
  EXPECT_EQ(typed.exit_status, 0) << typed.output;
  EXPECT_EQ(typed.output, "requeued 3 events\n");
  EXPECT_EQ(eventStates(), (std::vector<std::string>{"PENDING:0", "PENDING:0", "PENDING:0"}));
  failEveryEvent();
  auto all = runOutpost({"outbox", "retry", "--all-failed"}, env);
  EXPECT_EQ(all.exit_status, 0) << all.output;
  EXPECT_EQ(all.output, "requeued 3 events\n");
}

TEST_F(OutboxAdminApi, CommandLineRefusesAnIdWithAllFailedAndAStrayEventType) {
  failEveryEvent();
  const std::map<std::string, std::string> env = {{"OUTPOST_DATABASE", node_->database()}};
  const std::vector<std::vector<std::string>> misuses = {
      {"outbox", "retry", "some-id", "--all-failed"},
      {"outbox", "retry", "some-id", "--event-type", "ORDER_CREATED"},
      {"outbox", "retry", "--all-failed", "--event-type", ""},
      {"outbox", "list", "--all-failed"},
      {"outbox", "retry", "--all-failed", "--status", "FAILED"}};
  for (const auto& args : misuses) {
    auto result = runOutpost(args, env);
    EXPECT_EQ(result.exit_status, 2) << args[2] << " " << result.output;
    EXPECT_NE(result.output.find("outpost"), std::string::npos) << result.output;
  }
  auto both = runOutpost(misuses[0], env);
  EXPECT_NE(both.output.find("not both"), std::string::npos) << both.output;
  EXPECT_EQ(eventStates(), (std::vector<std::string>{"FAILED:5", "FAILED:5", "FAILED:5"}));
  auto help = runOutpost({"outbox", "--help"});
  EXPECT_NE(help.output.find("--all-failed"), std::string::npos) << help.output;
}

}  // namespace
}  // namespace outpost::testing
