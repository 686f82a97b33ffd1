// What the operator sees, against the real binary: /health figures that follow their
// causes (events rejected by the emulator, a reconciliation run that could check nothing,
// a database that cannot be read), a /metrics scrape that promtool accepts after traffic of
// every kind, and alerts raised once and cleared once at a fake webhook.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "store/connection.h"
#include "store/migrations.h"
#include "support/database_lock.h"
#include "support/eventually.h"
#include "support/fake_services.h"
#include "support/fauxqs.h"
#include "support/node_process.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kOrder = R"({"customerId":"c-1","items":[{"productId":"sku-1","quantity":1}]})";
constexpr const char* kAdmin = "admin-secret";
const char* const kInit = R"({"queues": [{"name": "orders"}]})";

class Monitoring : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> env) {
    env["OUTPOST_ADMIN_TOKEN"] = kAdmin;
    node_ = NodeProcess::start(dir_, {std::move(env), ""});
    ASSERT_NE(node_, nullptr);
    client_ = node_->client();
  }

  // expected_status 0: any.
  json health(int expected_status = 200) {
    auto response = client_->Get("/health");
    EXPECT_TRUE(response);
    if (!response) return json();
    if (expected_status != 0) {
      EXPECT_EQ(response->status, expected_status) << response->body;
    }
    return json::parse(response->body, nullptr, false);
  }

  std::string scrape() {
    auto response = client_->Get("/metrics");
    EXPECT_TRUE(response);
    if (!response) return "";
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->get_header_value("Content-Type"),
              "text/plain; version=0.0.4; charset=utf-8");
    return response->body;
  }

  // The value of the sample written exactly as `series` (name and labels), or -1.
  static double sample(const std::string& text, const std::string& series) {
    const std::string start = "\n" + series + " ";
    const auto at = text.find(start);
    return at == std::string::npos ? -1 : std::stod(text.substr(at + start.size()));
  }

  std::string postOrder(const httplib::Headers& headers = {}, int expected = 201) {
    auto posted = client_->Post("/v1/orders", headers, kOrder, "application/json");
    EXPECT_TRUE(posted);
    if (!posted) return "";
    EXPECT_EQ(posted->status, expected) << posted->body;
    return json::parse(posted->body, nullptr, false).value("id", "");
  }

  httplib::Headers admin() const { return {{"Authorization", std::string("Bearer ") + kAdmin}}; }

  std::int64_t countInFile(const std::string& sql) {
    SQLite::Database db(node_->database(), SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getInt64();
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(Monitoring, FailedEventsAndTheReconciliationOutcomeFollowTheirCauses) {
  auto fauxqs = Fauxqs::start(dir_, kInit);
  ASSERT_NE(fauxqs, nullptr);
  FakeDeliveryService delivery;
  start({{"OUTPOST_EVENTS_ENDPOINT_URL", fauxqs->endpoint()},
         {"OUTPOST_EVENTS_SQS_QUEUE_URL", fauxqs->endpoint() + "/000000000000/no-such-queue"},
         {"OUTPOST_EVENTS_POLL_INTERVAL_MS", "200"},
         {"OUTPOST_EVENTS_MAX_RETRIES", "1"},
         {"AWS_ACCESS_KEY_ID", "test"},
         {"AWS_SECRET_ACCESS_KEY", "test"},
         {"OUTPOST_DELIVERY_SERVICE_URL", delivery.url()},
         {"OUTPOST_RECONCILIATION_INTERVAL_MS", "300"}});
  json before = health();
  EXPECT_EQ(before["failedEventCount"], 0) << before;
  EXPECT_EQ(before["reconciliationJobsStatus"], "HEALTHY");

  // The emulator rejects every event (no such queue), so each ends FAILED.
  const std::string order_id = postOrder();
  ASSERT_TRUE(eventually([&] { return health()["failedEventCount"] >= 2; }, seconds(10)))
      << node_->logs();
  EXPECT_EQ(health()["failedEventCount"],
            countInFile("SELECT COUNT(*) FROM outbox_events WHERE status = 'FAILED'"));

  // The only delivery's record breaks: the next run can check nothing.
  const auto deliveries = delivery.deliveryIdsForOrder(order_id);
  ASSERT_EQ(deliveries.size(), 1u);
  delivery.failStatusReads(deliveries[0]);
  ASSERT_TRUE(
      eventually([&] { return health()["reconciliationJobsStatus"] == "FAILED"; }, seconds(10)))
      << node_->logs();
}

TEST_F(Monitoring, ADatabaseThatCannotBeReadIsUnavailableWith503) {
  start({{"OUTPOST_DATABASE_BUSY_TIMEOUT_MS", "200"},
         {"OUTPOST_BREAKERS_DATABASE_VOLUME_THRESHOLD", "2"},
         // The alert checker's reads succeed meanwhile; they are not counted.
         // Long enough that the checks below are done before the breaker's trial.
         {"OUTPOST_BREAKERS_DATABASE_RESET_TIMEOUT_MS", "5000"},
         {"OUTPOST_ALERTS_CHECK_INTERVAL_MS", "50"}});
  EXPECT_EQ(health()["status"], "HEALTHY");
  {
    HeldWriteLock holder(node_->database(), "BEGIN EXCLUSIVE");
    for (int i = 0; i < 2; ++i) postOrder({}, 503);
    const json down = health(503);
    EXPECT_EQ(down["status"], "UNAVAILABLE") << down;
    EXPECT_EQ(down["circuitBreakerStates"]["database"], "OPEN");
    const std::string metrics = scrape();
    EXPECT_EQ(sample(metrics, "outpost_database_available"), 0) << metrics;
    EXPECT_EQ(sample(metrics, R"(outpost_circuit_breaker_state{breaker="database",state="OPEN"})"),
              1);
    holder.release();
  }
  // Nothing here reads the database until its breaker has closed: the alert checker's own
  // read is the trial. Its figures must then say CLOSED, not raise CIRCUIT_BREAKER_OPEN
  // for a database that is back.
  const auto databaseClosed = [&] {
    std::istringstream lines(node_->logs());
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find(R"("breaker":"database")") != std::string::npos &&
          line.find(R"("msg":"circuit breaker CLOSED")") != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(eventually(databaseClosed, seconds(15))) << node_->logs();
  const auto checks = [&] {
    return sample(scrape(), R"(outpost_job_runs_total{job="alerts",outcome="ok"})");
  };
  const double checked = checks();
  ASSERT_TRUE(eventually([&] { return checks() >= checked + 3; }, seconds(10)));
  EXPECT_EQ(countInFile("SELECT COUNT(*) FROM outbox_events WHERE event_type = 'ALERT_RAISED'"), 0)
      << node_->logs();
  EXPECT_EQ(health()["status"], "HEALTHY");
}

TEST_F(Monitoring, PromtoolAcceptsAScrapeAfterTrafficOfEveryKind) {
  ASSERT_EQ(std::system("command -v promtool >/dev/null"), 0)
      << "promtool is missing: bash scripts/test.sh installs it (Debian package prometheus)";
  auto fauxqs = Fauxqs::start(dir_, kInit);
  ASSERT_NE(fauxqs, nullptr);
  FakeDeliveryService delivery;
  delivery.setFault(Fault::kServerError);
  start({{"OUTPOST_EVENTS_ENDPOINT_URL", fauxqs->endpoint()},
         {"OUTPOST_EVENTS_SQS_QUEUE_URL", fauxqs->queueUrl("orders")},
         {"AWS_ACCESS_KEY_ID", "test"},
         {"AWS_SECRET_ACCESS_KEY", "test"},
         {"OUTPOST_DELIVERY_SERVICE_URL", delivery.url()},
         {"OUTPOST_DELIVERY_SERVICE_RETRY_INITIAL_DELAY_MS", "100"},
         {"OUTPOST_BREAKERS_DELIVERY_SERVICE_CONSECUTIVE_FAILURES", "1"},
         {"OUTPOST_BREAKERS_DELIVERY_SERVICE_RESET_TIMEOUT_MS", "200"},
         {"OUTPOST_ALERTS_CHECK_INTERVAL_MS", "100"}});

  // Orders while delivery fails (a retry, the breaker opening), then with it back.
  const std::string first = postOrder({{"Idempotency-Key", "till-1-0001"}});
  postOrder({{"Idempotency-Key", "till-1-0001"}});  // a replay: not a new order
  delivery.setFault(Fault::kNone);
  ASSERT_TRUE(eventually([&] { return delivery.deliveryCount() == 1; }, seconds(10)))
      << node_->logs();
  const std::string second = postOrder();
  ASSERT_TRUE(client_->Get("/v1/orders/" + first));
  ASSERT_TRUE(client_->Get("/v1/orders/no-such-order"));
  ASSERT_TRUE(client_->Post("/v1/orders", "{", "application/json"));
  ASSERT_TRUE(client_->Post("/v1/orders/" + second + "/cancel", "", "application/json"));
  ASSERT_TRUE(client_->Get("/v1/reviews", admin()));
  ASSERT_TRUE(client_->Get("/v1/outbox?status=PENDING", admin()));
  ASSERT_TRUE(client_->Get("/v1/outbox"));  // 401
  ASSERT_TRUE(client_->Put("/health", "", "application/json"));
  ASSERT_TRUE(client_->Get("/no/such/path"));
  ASSERT_TRUE(client_->Get("/readyz"));
  health();
  ASSERT_TRUE(eventually(
      [&] {
        return countInFile("SELECT COUNT(*) FROM outbox_events WHERE status = 'PENDING'") == 0;
      },
      seconds(10)))
      << node_->logs();

  // A request is counted once its answer is written, a moment after the client has it:
  // the scrape is taken once the last request before it shows.
  std::string text;
  ASSERT_TRUE(eventually(
      [&] {
        text = scrape();
        return sample(
                   text,
                   R"(outpost_http_requests_total{method="GET",route="/health",status="200"})") ==
               1;
      },
      seconds(5)))
      << text;
  writeFile(dir_.file("scrape.txt"), text);
  const std::string check = "promtool check metrics < " + dir_.file("scrape.txt") + " > " +
                            dir_.file("promtool.txt") + " 2>&1";
  const int promtool = std::system(check.c_str());
  std::ifstream findings(dir_.file("promtool.txt"));
  const std::string said((std::istreambuf_iterator<char>(findings)), {});
  EXPECT_EQ(promtool, 0) << said << "\n" << text;
  EXPECT_EQ(said, "") << text;

  EXPECT_EQ(sample(text, "outpost_orders_created_total"), 2) << text;
  EXPECT_GE(sample(text, "outpost_events_sent_total"), 4);  // two orders' events at least
  EXPECT_GE(sample(text, R"(outpost_outbox_events{status="SENT"})"), 4);
  EXPECT_GE(sample(text, "outpost_delivery_retries_total"), 1);
  EXPECT_GE(
      sample(text,
             R"(outpost_circuit_breaker_transitions_total{breaker="delivery-service",to="OPEN"})"),
      1);
  EXPECT_GE(
      sample(
          text,
          R"(outpost_circuit_breaker_transitions_total{breaker="delivery-service",to="CLOSED"})"),
      1);
  EXPECT_GE(sample(text, R"(outpost_job_runs_total{job="outbox-relay",outcome="ok"})"), 1);
  EXPECT_GE(sample(text, R"(outpost_job_runs_total{job="alerts",outcome="ok"})"), 1);
  EXPECT_EQ(
      sample(text, R"(outpost_http_requests_total{method="POST",route="/v1/orders",status="201"})"),
      3);  // two orders and the replay
  EXPECT_EQ(
      sample(text, R"(outpost_http_requests_total{method="POST",route="/v1/orders",status="400"})"),
      1);
  EXPECT_EQ(
      sample(text,
             R"(outpost_http_requests_total{method="GET",route="/v1/orders/{id}",status="404"})"),
      1);
  EXPECT_EQ(
      sample(
          text,
          R"(outpost_http_requests_total{method="POST",route="/v1/orders/{id}/cancel",status="202"})"),
      1);
  // Authorization comes before routing: a refused request has no route.
  EXPECT_EQ(
      sample(text, R"(outpost_http_requests_total{method="GET",route="unmatched",status="401"})"),
      1);
  EXPECT_EQ(
      sample(text, R"(outpost_http_requests_total{method="PUT",route="/health",status="405"})"), 1);
  EXPECT_EQ(
      sample(text, R"(outpost_http_requests_total{method="GET",route="unmatched",status="404"})"),
      1);
  EXPECT_EQ(
      sample(text,
             R"(outpost_http_request_duration_seconds_count{method="POST",route="/v1/orders"})"),
      4);
  EXPECT_EQ(sample(text, R"(outpost_review_queue_items)"), 0);
}

TEST_F(Monitoring, AlertsAreRaisedOnceAndClearedOnceAtTheWebhook) {
  FakeWebhook webhook;
  webhook.failNext(1);  // the first call fails: it is retried, not lost
  FakeDeliveryService delivery;
  delivery.setFault(Fault::kRefuse);
  start({{"OUTPOST_DELIVERY_SERVICE_URL", delivery.url()},
         {"OUTPOST_DELIVERY_SERVICE_TIMEOUT_MS", "500"},
         {"OUTPOST_DELIVERY_SERVICE_RETRY_MAX_ATTEMPTS", "1"},  // a failure goes to review
         {"OUTPOST_BREAKERS_DELIVERY_SERVICE_CONSECUTIVE_FAILURES", "1"},
         {"OUTPOST_BREAKERS_DELIVERY_SERVICE_RESET_TIMEOUT_MS", "300"},
         {"OUTPOST_RECONCILIATION_INTERVAL_MS", "3600000"},
         {"OUTPOST_ALERTS_CHECK_INTERVAL_MS", "100"},
         {"OUTPOST_ALERTS_MANUAL_REVIEW_BACKLOG", "1"},
         {"OUTPOST_ALERTS_OUTBOX_BACKLOG", "1000"},
         {"OUTPOST_ALERTS_WEBHOOK_URL", webhook.hookUrl()}});
  const auto checks = [&] {
    return sample(scrape(), R"(outpost_job_runs_total{job="alerts",outcome="ok"})");
  };
  const auto calls = [&](const std::string& alert, const std::string& state) {
    int found = 0;
    for (const auto& body : webhook.received()) {
      const json call = json::parse(body);
      if (call["alert"] == alert && call["state"] == state) ++found;
    }
    return found;
  };
  const auto waitForChecks = [&](int more) {
    const double target = checks() + more;
    ASSERT_TRUE(eventually([&] { return checks() >= target; }, seconds(10)));
  };

  const std::string first = postOrder();
  const std::string second = postOrder();  // two items in review: more than 1
  ASSERT_TRUE(
      eventually([&] { return calls("MANUAL_REVIEW_BACKLOG", "RAISED") == 1; }, seconds(10)))
      << node_->logs();
  waitForChecks(5);
  EXPECT_EQ(calls("MANUAL_REVIEW_BACKLOG", "RAISED"), 1);
  EXPECT_EQ(calls("CIRCUIT_BREAKER_OPEN", "RAISED"), 1);
  const json raised = health();
  EXPECT_EQ(raised["status"], "DEGRADED");
  std::set<std::string> active;
  for (const auto& alert : raised["alerts"]) active.insert(alert["alert"]);
  EXPECT_EQ(active, (std::set<std::string>{"CIRCUIT_BREAKER_OPEN", "MANUAL_REVIEW_BACKLOG"}))
      << raised;
  // The operator on the box reads the same alerts from the file.
  const RunResult status =
      runOutpost({"status", "--json"}, {{"OUTPOST_DATABASE", node_->database()}});
  const json offline = json::parse(status.output, nullptr, false);
  ASSERT_TRUE(offline.is_object()) << status.output;
  std::set<std::string> stored;
  for (const auto& alert : offline["alerts"]) stored.insert(alert["alert"]);
  EXPECT_EQ(stored, active) << status.output;
  EXPECT_EQ(offline["status"], "DEGRADED");
  const json body = json::parse(webhook.received().front());
  EXPECT_EQ(body["nodeId"], "test-node");
  EXPECT_TRUE(body["at"].is_string());
  EXPECT_TRUE(body["details"].is_object());

  // Delivery is back and staff approve both orders: they are delivered, the breaker
  // closes and the queue empties.
  delivery.setFault(Fault::kNone);
  for (const auto& id : {first, second}) {
    auto resolved =
        client_->Post("/v1/reviews/" + id + "/resolve", admin(),
                      R"({"action":"approve","note":"delivery is back"})", "application/json");
    ASSERT_TRUE(resolved);
    EXPECT_EQ(resolved->status, 200) << resolved->body;
  }
  ASSERT_TRUE(eventually(
      [&] {
        return calls("MANUAL_REVIEW_BACKLOG", "CLEARED") == 1 &&
               calls("CIRCUIT_BREAKER_OPEN", "CLEARED") == 1;
      },
      seconds(10)))
      << node_->logs();
  waitForChecks(5);
  EXPECT_EQ(webhook.received().size(), 4u);
  const json cleared = health();
  EXPECT_EQ(cleared["status"], "HEALTHY") << cleared;
  EXPECT_EQ(cleared["alerts"], json::array());
  EXPECT_EQ(countInFile("SELECT COUNT(*) FROM outbox_events WHERE event_type = 'ALERT_RAISED'"), 2);
  EXPECT_EQ(countInFile("SELECT COUNT(*) FROM outbox_events WHERE event_type = 'ALERT_CLEARED'"),
            2);
  const std::string logs = node_->logs();
  const auto lines = [&](const std::string& message) {
    const std::regex pattern("\"msg\":\"" + message + "\"");
    return std::distance(std::sregex_iterator(logs.begin(), logs.end(), pattern),
                         std::sregex_iterator());
  };
  EXPECT_EQ(lines("alert raised"), 2) << logs;
  EXPECT_EQ(lines("alert cleared"), 2) << logs;
  EXPECT_EQ(lines("alert webhook call failed; retrying"), 1) << logs;
}

TEST(MonitoringStatus, AFileNotYetMigratedIsNamedNotMisread) {
  TempDir dir;
  {
    auto connection = store::openConnection({dir.file("old.db"), 2000});
    ASSERT_TRUE(connection);
    std::vector<store::Migration> up_to_five;
    for (const auto& migration : store::embeddedMigrations()) {
      if (migration.version <= 5) up_to_five.push_back(migration);
    }
    ASSERT_TRUE(store::migrate(**connection, up_to_five, 0));
  }
  const RunResult status = runOutpost({"status"}, {{"OUTPOST_DATABASE", dir.file("old.db")}});
  EXPECT_EQ(status.exit_status, 1);
  EXPECT_NE(status.output.find("schema version 5"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("run 'outpost migrate'"), std::string::npos) << status.output;
  // The listing commands only read too: they name the version and change nothing.
  for (const std::vector<std::string>& listing :
       {std::vector<std::string>{"outbox", "list"}, std::vector<std::string>{"review", "list"}}) {
    const RunResult listed = runOutpost(listing, {{"OUTPOST_DATABASE", dir.file("old.db")}});
    EXPECT_EQ(listed.exit_status, 1) << listing[0];
    EXPECT_NE(listed.output.find("schema version 5"), std::string::npos) << listed.output;
    EXPECT_NE(listed.output.find("run 'outpost migrate'"), std::string::npos) << listed.output;
  }
  {
    SQLite::Database db(dir.file("old.db"), SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("SELECT MAX(version) FROM schema_migrations").getInt(), 5);
  }
  ASSERT_EQ(runOutpost({"migrate"}, {{"OUTPOST_DATABASE", dir.file("old.db")}}).exit_status, 0);
  EXPECT_EQ(runOutpost({"status"}, {{"OUTPOST_DATABASE", dir.file("old.db")}}).exit_status, 0);
  EXPECT_EQ(runOutpost({"outbox", "list"}, {{"OUTPOST_DATABASE", dir.file("old.db")}}).exit_status,
            0);
}

}  // namespace
}  // namespace outpost::testing
