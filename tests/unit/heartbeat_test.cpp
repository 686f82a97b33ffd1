// The heartbeat (SPEC §11): beat N at start + N * interval by the clock, whatever the
// receiver does (answers, refuses, hangs up to the beat's timeout), each outcome counted,
// the body carrying the node's figures.
#include "alerts/heartbeat.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <mutex>
#include <vector>

#include "node/context.h"
#include "store/store.h"
#include "support/fake_clock.h"
#include "support/node_process.h"
#include "support/scripted_http.h"

namespace outpost::alerts {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr std::int64_t kIntervalMs = 1000;

// A receiver under the fake clock: records when each beat arrived and answers as told; a
// hanging receiver moves the clock on by the beat's whole timeout before it gives up.
class FakeReceiver final : public clients::HttpClient {
 public:
  using Answer = std::function<clients::HttpResponse(const clients::HttpRequest&)>;
  explicit FakeReceiver(FakeClock& clock) : clock_(clock) {}

  clients::HttpResponse send(const clients::HttpRequest& request) override {
    arrivals_.push_back(clock_.steadyNow());
    requests_.push_back(request);
    return answer_ ? answer_(request) : testing::ScriptedHttp::answer(200, json::object());
  }
  void answerWith(Answer answer) { answer_ = std::move(answer); }
  void hang() {
    answer_ = [this](const clients::HttpRequest& request) {
      clock_.advance(milliseconds(request.timeout_ms));
      return testing::ScriptedHttp::timedOut();
    };
  }

  std::vector<Clock::SteadyTime> arrivals_;
  std::vector<clients::HttpRequest> requests_;

 private:
  FakeClock& clock_;
  Answer answer_;
};

class HeartbeatTest : public ::testing::Test {
 protected:
  HeartbeatTest() : log_sink_(std::tmpfile()), log_(clock_, log_sink_) {}
  ~HeartbeatTest() override { std::fclose(log_sink_); }

  void SetUp() override {
    auto opened = store::Store::open({dir_.file("heartbeat.db"), 2000});
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    context_.emplace(node::Context{*store_, clock_, random_, log_, metrics_, "kiosk-7"});
    heartbeat_ = std::make_unique<Heartbeat>(HeartbeatDependencies{
        *context_, receiver_, "http://127.0.0.1:9/beat", kIntervalMs, [this] { return figures_; }});
    start_ = clock_.steadyNow();
  }

  // What the JobRunner does: a pass, then a wait of the delay it asked for.
  void runPasses(int passes) {
    for (int i = 0; i < passes; ++i) clock_.advance(heartbeat_->runPass([] { return false; }));
  }

  // Milliseconds after the start at which each beat arrived.
  std::vector<std::int64_t> arrivalOffsets() const {
    std::vector<std::int64_t> offsets;
    for (const auto& at : receiver_.arrivals_) {
      offsets.push_back(std::chrono::duration_cast<milliseconds>(at - start_).count());
    }
    return offsets;
  }

  std::string metrics() const { return metrics_.render({}); }

  testing::TempDir dir_;
  FakeClock clock_;
  SystemRandom random_{5};
  std::FILE* log_sink_;
  observability::Logger log_;
  std::unique_ptr<store::Store> store_;
  observability::Metrics metrics_;
  std::optional<node::Context> context_;
  FakeReceiver receiver_{clock_};
  observability::ReliabilityFigures figures_;
  std::unique_ptr<Heartbeat> heartbeat_;
  Clock::SteadyTime start_;
};

const std::vector<std::int64_t> kOnTime = {0, 1000, 2000, 3000, 4000};

TEST_F(HeartbeatTest, BeatsAtStartThenEveryInterval) {
  runPasses(5);
  EXPECT_EQ(arrivalOffsets(), kOnTime);
  EXPECT_NE(metrics().find("outpost_heartbeats_total{outcome=\"ok\"} 5\n"), std::string::npos);
}

TEST_F(HeartbeatTest, AnEarlyWakeSendsNothingAndWaitsForTheRestOfTheInterval) {
  EXPECT_EQ(heartbeat_->runPass([] { return false; }), milliseconds(1000));
  clock_.advance(milliseconds(300));
  EXPECT_EQ(heartbeat_->runPass([] { return false; }), milliseconds(700));
  EXPECT_EQ(receiver_.arrivals_.size(), 1u);
}

TEST_F(HeartbeatTest, ARefusedBeatIsCountedAndTheNextIsOnTime) {
  receiver_.answerWith(
      [](const clients::HttpRequest&) { return testing::ScriptedHttp::refused(); });
  runPasses(3);
  receiver_.answerWith([](const clients::HttpRequest&) {
    return testing::ScriptedHttp::answer(503, json::object());
  });
  runPasses(2);
  EXPECT_EQ(arrivalOffsets(), kOnTime);
  EXPECT_NE(metrics().find("outpost_heartbeats_total{outcome=\"failed\"} 5\n"), std::string::npos)
      << metrics();
}

TEST_F(HeartbeatTest, AReceiverHangingUpToTheTimeoutNeverDelaysTheNextBeat) {
  receiver_.hang();
  runPasses(5);
  EXPECT_EQ(arrivalOffsets(), kOnTime);
  for (const auto& request : receiver_.requests_) {
    EXPECT_EQ(request.timeout_ms, 500);  // half the interval
    EXPECT_LE(request.connect_timeout_ms, request.timeout_ms);
    EXPECT_TRUE(request.cancelled) << "a beat in flight must be cancellable at shutdown";
  }
  EXPECT_NE(metrics().find("outpost_heartbeats_total{outcome=\"timeout\"} 5\n"), std::string::npos)
      << metrics();
}

TEST_F(HeartbeatTest, ABeatRunningPastTheNextOneSkipsItRatherThanDriftingTheSchedule) {
  receiver_.answerWith([this](const clients::HttpRequest&) {
    clock_.advance(milliseconds(1500));  // more than an interval: longer than any timeout
    return testing::ScriptedHttp::answer(200, json::object());
  });
  runPasses(1);
  receiver_.answerWith(nullptr);
  runPasses(2);
  EXPECT_EQ(arrivalOffsets(), (std::vector<std::int64_t>{0, 2000, 3000}));
}

TEST_F(HeartbeatTest, ABeatCancelledAtShutdownIsNotCounted) {
  receiver_.answerWith([](const clients::HttpRequest&) {
    clients::HttpResponse answer;
    answer.cancelled = true;
    answer.error = "cancelled";
    return answer;
  });
  (void)heartbeat_->runPass([] { return true; });
  EXPECT_EQ(metrics().find("outpost_heartbeats_total{"), std::string::npos) << metrics();
}

TEST_F(HeartbeatTest, TheBodyCarriesTheNodesFigures) {
  figures_.stored.outbox_events_pending = 7;
  figures_.outbox_oldest_pending_age_seconds = 42;
  figures_.alerts = {json{{"alert", "OUTBOX_STALE"}}};
  runPasses(1);
  ASSERT_EQ(receiver_.requests_.size(), 1u);
  const auto& request = receiver_.requests_[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "http://127.0.0.1:9/beat");
  const json body = json::parse(request.body);
  EXPECT_EQ(body, (json{{"nodeId", "kiosk-7"},
                        {"status", "DEGRADED"},
                        {"outboxEventsPending", 7},
                        {"outboxOldestPendingAgeSeconds", 42},
                        {"at", "2023-11-14T22:13:20.000Z"}}));
}

TEST(HeartbeatTimeout, IsHalfTheIntervalAtMostTenSeconds) {
  EXPECT_EQ(heartbeatTimeoutMs(300), 150);
  EXPECT_EQ(heartbeatTimeoutMs(20'000), 10'000);
  EXPECT_EQ(heartbeatTimeoutMs(60'000), 10'000);
  EXPECT_EQ(heartbeatTimeoutMs(100), 50);
}

}  // namespace
}  // namespace outpost::alerts
