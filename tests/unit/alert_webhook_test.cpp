#include "alerts/alert_webhook.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <deque>

#include "alerts/alert_store.h"
#include "node/context.h"
#include "store/store.h"
#include "support/fake_clock.h"
#include "support/node_process.h"
#include "support/scripted_http.h"

namespace outpost::alerts {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// Each call of the webhook: a POST to its URL.
std::vector<json> bodiesOf(const testing::ScriptedHttp& receiver) {
  std::vector<json> bodies;
  for (const auto& request : receiver.requests()) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.url, "http://127.0.0.1:9/hook");
    bodies.push_back(json::parse(request.body));
  }
  return bodies;
}

// Queues an answer of each status (0: no answer at all).
void answerWith(testing::ScriptedHttp& receiver, const std::vector<int>& statuses) {
  for (int status : statuses) {
    receiver.queue(status == 0 ? testing::ScriptedHttp::refused()
                               : testing::ScriptedHttp::answer(status, json::object()));
  }
}

class AlertWebhookTest : public ::testing::Test {
 protected:
  AlertWebhookTest() : log_sink_(std::tmpfile()), log_(clock_, log_sink_) {}
  ~AlertWebhookTest() override { std::fclose(log_sink_); }

  void SetUp() override {
    auto opened = store::Store::open({dir_.file("webhook.db"), 2000});
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    context_.emplace(node::Context{*store_, clock_, random_, log_, metrics_, "node-1"});
    webhook_ = std::make_unique<AlertWebhook>(
        AlertWebhookDependencies{*context_, receiver_, "http://127.0.0.1:9/hook"});
  }

  void queue(const std::string& state) {
    ASSERT_TRUE(store_->write([&](store::Connection& c) {
      queueWebhookCall(c, {{"alert", "OUTBOX_BACKLOG"}, {"state", state}}, clock_.wallMillis());
      return okStatus();
    }));
  }
  int queued() {
    return *store_->read([](store::Connection& c) {
      SQLite::Statement query(c.db(), "SELECT COUNT(*) FROM alert_webhooks");
      query.executeStep();
      return query.getColumn(0).getInt();
    });
  }
  std::vector<std::string> states() {
    std::vector<std::string> seen;
    for (const auto& body : bodiesOf(receiver_)) seen.push_back(body["state"]);
    return seen;
  }
  milliseconds pass() {
    return webhook_->runPass([] { return false; });
  }

  testing::TempDir dir_;
  FakeClock clock_;
  SystemRandom random_{3};
  std::FILE* log_sink_;
  observability::Logger log_;
  std::unique_ptr<store::Store> store_;
  observability::Metrics metrics_;
  std::optional<node::Context> context_;
  testing::ScriptedHttp receiver_;
  std::unique_ptr<AlertWebhook> webhook_;
};

TEST_F(AlertWebhookTest, CallsGoOutOldestFirstAndLeaveTheQueue) {
  queue("RAISED");
  queue("CLEARED");
  EXPECT_EQ(pass(), milliseconds(60000));
  EXPECT_EQ(states(), (std::vector<std::string>{"RAISED", "CLEARED"}));
  EXPECT_EQ(queued(), 0);
}

TEST_F(AlertWebhookTest, AFailedCallIsRetriedWithBackoffBeforeAnyLaterOne) {
  queue("RAISED");
  queue("CLEARED");
  answerWith(receiver_, {503, 0});
  const milliseconds first_wait = pass();
  EXPECT_GE(first_wait.count(), 800);  // the first retry: 1 s, jittered by ±20 %
  EXPECT_LE(first_wait.count(), 1200);
  EXPECT_EQ(states(), (std::vector<std::string>{"RAISED"}));

  EXPECT_EQ(pass(), first_wait);  // not due yet: no call
  EXPECT_EQ(receiver_.requests().size(), 1u);

  clock_.advance(first_wait);
  const milliseconds second_wait = pass();  // no answer at all this time
  EXPECT_GE(second_wait.count(), 1600);
  EXPECT_LE(second_wait.count(), 2400);
  clock_.advance(second_wait);
  pass();
  EXPECT_EQ(states(), (std::vector<std::string>{"RAISED", "RAISED", "RAISED", "CLEARED"}));
  EXPECT_EQ(queued(), 0);
}

TEST_F(AlertWebhookTest, ARefusedCallIsDroppedAndTheNextOneGoesOut) {
  queue("RAISED");
  queue("CLEARED");
  answerWith(receiver_, {400});
  pass();
  EXPECT_EQ(states(), (std::vector<std::string>{"RAISED", "CLEARED"}));
  EXPECT_EQ(queued(), 0);
}

TEST_F(AlertWebhookTest, ACallIsGivenUpAfterTheLastAttempt) {
  queue("RAISED");
  answerWith(receiver_, std::vector<int>(kMaxWebhookAttempts, 500));
  for (int attempt = 1; attempt < kMaxWebhookAttempts; ++attempt) {
    clock_.advance(pass());
    EXPECT_EQ(queued(), 1) << attempt;
  }
  EXPECT_EQ(pass(), milliseconds(60000));
  EXPECT_EQ(receiver_.requests().size(), static_cast<std::size_t>(kMaxWebhookAttempts));
  EXPECT_EQ(queued(), 0);
}

}  // namespace
}  // namespace outpost::alerts
