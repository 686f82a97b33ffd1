// SPEC §11, against the real binary: how far behind the node is (the oldest PENDING
// event's age in /health, /metrics and `outpost status`, and OUTBOX_STALE while a
// destination is configured but unreachable), and the heartbeat to head office, which
// keeps its schedule whatever the receiver does.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "support/eventually.h"
#include "support/fauxqs.h"
#include "support/node_process.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyTime = std::chrono::steady_clock::time_point;

const std::string kOrder = R"({"customerId":"c-1","items":[{"productId":"sku-1","quantity":1}]})";
const char* const kInit = R"({"queues": [{"name": "orders"}]})";

// The value of the sample written exactly as `series` (name and labels), or -1.
double sample(const std::string& text, const std::string& series) {
  const std::string start = "\n" + series + " ";
  const auto at = text.find(start);
  return at == std::string::npos ? -1 : std::stod(text.substr(at + start.size()));
}

class NodeTest : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> env) {
    node_ = NodeProcess::start(dir_, {std::move(env), ""});
    ASSERT_NE(node_, nullptr);
    client_ = node_->client();
  }
  json health() {
    auto response = client_->Get("/health");
    EXPECT_TRUE(response);
    return response ? json::parse(response->body, nullptr, false) : json();
  }
  std::string scrape() {
    auto response = client_->Get("/metrics");
    EXPECT_TRUE(response);
    return response ? response->body : "";
  }
  void postOrder() {
    auto posted = client_->Post("/v1/orders", kOrder, "application/json");
    ASSERT_TRUE(posted);
    ASSERT_EQ(posted->status, 201) << posted->body;
  }
  bool alertActive(const json& figures, const std::string& name) {
    for (const auto& alert : figures["alerts"]) {
      if (alert["alert"] == name) return true;
    }
    return false;
  }
  // Waits until the alert checker ran `more` more times, so that what it did not raise
  // it really did not raise.
  void waitForAlertChecks(int more) {
    const auto checks = [&] {
      return sample(scrape(), R"(outpost_job_runs_total{job="alerts",outcome="ok"})");
    };
    const double target = checks() + more;
    ASSERT_TRUE(eventually([&] { return checks() >= target; }, seconds(10)));
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
};

using BacklogAge = NodeTest;

TEST_F(BacklogAge, ShownEverywhereAndStaleWhileTheDestinationIsUnreachableThenCleared) {
  auto fauxqs = Fauxqs::start(dir_, kInit);
  ASSERT_NE(fauxqs, nullptr);
  const std::string queue_url = fauxqs->queueUrl("orders");
  fauxqs->stop();  // the destination is configured but refuses: the shop is cut off
  start({{"OUTPOST_EVENTS_ENDPOINT_URL", fauxqs->endpoint()},
         {"OUTPOST_EVENTS_SQS_QUEUE_URL", queue_url},
         {"OUTPOST_EVENTS_POLL_INTERVAL_MS", "200"},
         {"OUTPOST_BREAKERS_EVENTS_RESET_TIMEOUT_MS", "300"},
         {"OUTPOST_ALERTS_CHECK_INTERVAL_MS", "100"},
         {"OUTPOST_ALERTS_OUTBOX_MAX_AGE_MS", "1500"}});
  EXPECT_EQ(health()["outboxOldestPendingAgeSeconds"], 0);
  postOrder();

  json stale;
  ASSERT_TRUE(eventually(
      [&] {
        stale = health();
        return alertActive(stale, "OUTBOX_STALE");
      },
      seconds(10)))
      << stale << node_->logs();
  EXPECT_GE(stale["outboxOldestPendingAgeSeconds"].get<int>(), 1) << stale;
  EXPECT_EQ(stale["status"], "DEGRADED");
  for (const auto& alert : stale["alerts"]) {
    if (alert["alert"] != "OUTBOX_STALE") continue;
    EXPECT_EQ(alert["details"]["thresholdSeconds"], 1.5) << alert;
    EXPECT_GE(alert["details"]["oldestAgeSeconds"].get<int>(), 1) << alert;
  }
  ASSERT_TRUE(eventually([&] { return health()["outboxOldestPendingAgeSeconds"].get<int>() >= 3; },
                         seconds(10)));
  EXPECT_GE(sample(scrape(), "outpost_outbox_oldest_pending_age_seconds"), 3);

  // The operator on the box reads the same age from the file, with no server asked.
  const RunResult status_json =
      runOutpost({"status", "--json"}, {{"OUTPOST_DATABASE", node_->database()}});
  const json offline = json::parse(status_json.output, nullptr, false);
  ASSERT_TRUE(offline.is_object()) << status_json.output;
  EXPECT_GE(offline["outboxOldestPendingAgeSeconds"].get<int>(), 3) << status_json.output;
  const RunResult status_text = runOutpost({"status"}, {{"OUTPOST_DATABASE", node_->database()}});
  EXPECT_NE(status_text.output.find("oldest pending event:"), std::string::npos)
      << status_text.output;

  // The destination is back: the backlog goes, the age falls to 0 and the alert clears.
  ASSERT_TRUE(fauxqs->restart());
  json caught_up;
  ASSERT_TRUE(eventually(
      [&] {
        caught_up = health();
        return !alertActive(caught_up, "OUTBOX_STALE") && caught_up["outboxEventsPending"] == 0;
      },
      seconds(15)))
      << caught_up << node_->logs();
  EXPECT_EQ(caught_up["outboxOldestPendingAgeSeconds"], 0);
  EXPECT_FALSE(fauxqs->receiveAtLeast(queue_url, 1, seconds(5)).empty());
}

TEST_F(BacklogAge, OfflineModeIsNeverStale) {
  start(
      {{"OUTPOST_ALERTS_CHECK_INTERVAL_MS", "100"}, {"OUTPOST_ALERTS_OUTBOX_MAX_AGE_MS", "1000"}});
  postOrder();
  ASSERT_TRUE(eventually([&] { return health()["outboxOldestPendingAgeSeconds"].get<int>() >= 2; },
                         seconds(10)));
  waitForAlertChecks(5);
  const json figures = health();
  EXPECT_FALSE(alertActive(figures, "OUTBOX_STALE")) << figures;
  EXPECT_EQ(figures["status"], "HEALTHY") << figures;
}

// An HTTP receiver of heartbeats on 127.0.0.1 that answers 204 and keeps each beat's
// arrival time and body.
class BeatReceiver {
 public:
  BeatReceiver() {
    server_.Post("/beat", [this](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard lock(mutex_);
      arrivals_.push_back(std::chrono::steady_clock::now());
      bodies_.push_back(request.body);
      response.status = 204;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    EXPECT_TRUE(eventually([this] { return server_.is_running(); }));
  }
  ~BeatReceiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/beat"; }
  std::vector<SteadyTime> arrivals() const {
    std::lock_guard lock(mutex_);
    return arrivals_;
  }
  std::vector<std::string> bodies() const {
    std::lock_guard lock(mutex_);
    return bodies_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<SteadyTime> arrivals_;
  std::vector<std::string> bodies_;
};

// A receiver that accepts each connection and never answers: keeps each connection's
// arrival time, and the sockets open until it is destroyed.
class HangingReceiver {
 public:
  HangingReceiver() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(::listen(listener_, 64), 0);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { acceptUntilStopped(); });
  }
  ~HangingReceiver() {
    stopping_ = true;
    thread_.join();
    for (int fd : held_) ::close(fd);
    ::close(listener_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/beat"; }
  std::vector<SteadyTime> arrivals() const {
    std::lock_guard lock(mutex_);
    return arrivals_;
  }

 private:
  void acceptUntilStopped() {
    while (!stopping_) {
      pollfd ready{listener_, POLLIN, 0};
      if (::poll(&ready, 1, 20) <= 0) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard lock(mutex_);
      arrivals_.push_back(std::chrono::steady_clock::now());
      held_.push_back(fd);
    }
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_ = false;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<SteadyTime> arrivals_;
  std::vector<int> held_;
};

constexpr int kIntervalMs = 300;
constexpr int kBeats = 10;
// How far a beat may be from first + N * interval on a busy test machine (less than an
// interval, so a lost or extra beat shows); a schedule that drifted by the 150 ms timeout
// of each hung beat would be 1.35 s late by beat 9.
constexpr int kToleranceMs = 200;

// Beat N arrived within the tolerance of first + N * interval.
void expectOnSchedule(const std::vector<SteadyTime>& arrivals) {
  ASSERT_GE(arrivals.size(), static_cast<std::size_t>(kBeats));
  for (int n = 1; n < kBeats; ++n) {
    const auto offset = std::chrono::duration_cast<milliseconds>(arrivals[n] - arrivals[0]).count();
    EXPECT_NEAR(static_cast<double>(offset), n * kIntervalMs, kToleranceMs) << "beat " << n;
  }
}

using Heartbeat = NodeTest;

TEST_F(Heartbeat, BeatsArriveOnTimeWithTheNodesFigures) {
  BeatReceiver receiver;
  start({{"OUTPOST_ALERTS_HEARTBEAT_URL", receiver.url()},
         {"OUTPOST_ALERTS_HEARTBEAT_INTERVAL_MS", std::to_string(kIntervalMs)}});
  postOrder();  // offline mode: its events wait, and the beat says so
  ASSERT_TRUE(eventually([&] { return receiver.arrivals().size() >= kBeats; }, seconds(10)));
  expectOnSchedule(receiver.arrivals());
  const json last = json::parse(receiver.bodies().back(), nullptr, false);
  EXPECT_EQ(last["nodeId"], "test-node") << last;
  EXPECT_EQ(last["status"], "HEALTHY") << last;
  EXPECT_GE(last["outboxEventsPending"].get<int>(), 1) << last;
  EXPECT_TRUE(last["outboxOldestPendingAgeSeconds"].is_number_integer()) << last;
  EXPECT_TRUE(last["at"].is_string()) << last;
  EXPECT_EQ(last.size(), 5u) << last;
  EXPECT_GE(sample(scrape(), R"(outpost_heartbeats_total{outcome="ok"})"), kBeats);
}

TEST_F(Heartbeat, AReceiverThatNeverAnswersDelaysNoBeatAndEachIsCounted) {
  HangingReceiver receiver;
  start({{"OUTPOST_ALERTS_HEARTBEAT_URL", receiver.url()},
         {"OUTPOST_ALERTS_HEARTBEAT_INTERVAL_MS", std::to_string(kIntervalMs)},
         {"OUTPOST_ALERTS_CHECK_INTERVAL_MS", "100"}});
  ASSERT_TRUE(eventually([&] { return receiver.arrivals().size() >= kBeats; }, seconds(10)));
  expectOnSchedule(receiver.arrivals());
  ASSERT_TRUE(eventually(
      [&] {
        return sample(scrape(), R"(outpost_heartbeats_total{outcome="timeout"})") >= kBeats - 1;
      },
      seconds(5)))
      << scrape();
  EXPECT_EQ(sample(scrape(), R"(outpost_heartbeats_total{outcome="ok"})"), -1);
  // Other jobs go on beside the hung beats: the alert checker keeps its pace.
  waitForAlertChecks(5);
}

TEST_F(Heartbeat, ShutdownDoesNotWaitForABeatInFlight) {
  HangingReceiver receiver;
  start({{"OUTPOST_ALERTS_HEARTBEAT_URL", receiver.url()},
         {"OUTPOST_ALERTS_HEARTBEAT_INTERVAL_MS", "60000"}});  // each beat may hang for 10 s
  ASSERT_TRUE(eventually([&] { return receiver.arrivals().size() >= 1; }, seconds(5)));
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(node_->terminate(seconds(8)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - asked, seconds(5))
      << "a hung beat must be cancelled, not waited out for its 10 s timeout";
}

}  // namespace
}  // namespace outpost::testing
