// Outbox relay throughput (issue 5): a backlog of 10,000 events, written while no node ran,
// drained by a node to the fauxqs emulator on loopback. Prints events/s, the drain time and
// the CPU each process used while draining, which says which one was the bottleneck. Run
// by bench/relay_drain.sh; not part of the test suite.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/eventually.h"
#include "support/fauxqs.h"
#include "support/node_process.h"
#include "support/outbox_backlog.h"

namespace outpost::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr int kEvents = 10000;

const char* const kInit = R"({
  "queues": [{"name": "direct"}, {"name": "from-topic"}],
  "topics": [{"name": "events"}],
  "subscriptions": [{"topic": "events", "queue": "from-topic"}]
})";
const char* const kTopicArn = "arn:aws:sns:us-east-1:000000000000:events";

// Receives until kEvents distinct event ids arrived (or a minute passed); returns how many
// distinct ids arrived and how many messages were extra copies.
std::pair<std::size_t, std::size_t> drainQueue(Fauxqs& fauxqs, const std::string& queue,
                                               bool via_topic) {
  std::set<std::string> ids;
  std::size_t messages = 0;
  const auto deadline = steady_clock::now() + std::chrono::seconds(60);
  while (ids.size() < static_cast<std::size_t>(kEvents) && steady_clock::now() < deadline) {
    for (const auto& message : fauxqs.receive(fauxqs.queueUrl(queue), 10, 1)) {
      auto body = nlohmann::json::parse(message["Body"].get<std::string>());
      if (via_topic) body = nlohmann::json::parse(body["Message"].get<std::string>());
      ids.insert(body["eventId"].get<std::string>());
      ++messages;
    }
  }
  return {ids.size(), messages - ids.size()};
}

void measure(const std::string& label, int events_per_order, bool to_topic, bool to_queue,
             int batch_size = 10) {
  TempDir dir;
  auto fauxqs = Fauxqs::start(dir, kInit);
  ASSERT_NE(fauxqs, nullptr);
  const std::string database = dir.file("outpost.db");
  ASSERT_EQ(fillOutbox(database, kEvents / events_per_order, events_per_order).size(),
            static_cast<std::size_t>(kEvents));

  std::map<std::string, std::string> env = {
      {"OUTPOST_EVENTS_ENDPOINT_URL", fauxqs->endpoint()},
      {"OUTPOST_EVENTS_BATCH_SIZE", std::to_string(batch_size)},
      {"AWS_ACCESS_KEY_ID", "bench"},
      {"AWS_SECRET_ACCESS_KEY", "bench"}};
  if (to_topic) env["OUTPOST_EVENTS_SNS_TOPIC_ARN"] = kTopicArn;
  if (to_queue) env["OUTPOST_EVENTS_SQS_QUEUE_URL"] = fauxqs->queueUrl("direct");

  const double emulator_cpu_before = cpuSeconds(fauxqs->pid());
  const auto started = steady_clock::now();
  auto node = NodeProcess::start(dir, {env, database});
  ASSERT_NE(node, nullptr);
  const bool drained = eventually([&] { return countEvents(database, "SENT") == kEvents; },
                                  std::chrono::minutes(10), milliseconds(20));
  const double seconds =
      std::chrono::duration_cast<milliseconds>(steady_clock::now() - started).count() / 1000.0;
  const double node_cpu = cpuSeconds(node->pid());
  const double emulator_cpu = cpuSeconds(fauxqs->pid()) - emulator_cpu_before;
  ASSERT_TRUE(drained) << node->logs();
  EXPECT_EQ(countEvents(database, "FAILED"), 0);

  std::string arrived;
  if (to_queue) {
    const auto [distinct, extra] = drainQueue(*fauxqs, "direct", false);
    EXPECT_EQ(distinct, static_cast<std::size_t>(kEvents));
    arrived += " queue " + std::to_string(distinct) + " (+" + std::to_string(extra) + " dup)";
  }
  if (to_topic) {
    const auto [distinct, extra] = drainQueue(*fauxqs, "from-topic", true);
    EXPECT_EQ(distinct, static_cast<std::size_t>(kEvents));
    arrived += " topic " + std::to_string(distinct) + " (+" + std::to_string(extra) + " dup)";
  }
  std::printf(
      "%-40s %6.0f events/s  drain %5.2f s  CPU: node %5.2f s (%3.0f%%), fauxqs %5.2f s "
      "(%3.0f%%)  arrived:%s\n",
      label.c_str(), kEvents / seconds, seconds, node_cpu, 100.0 * node_cpu / seconds, emulator_cpu,
      100.0 * emulator_cpu / seconds, arrived.c_str());
  std::fflush(stdout);
}

TEST(RelayDrain, SqsQueue) { measure("SQS queue, 1 event/order, batches of 10", 1, false, true); }

TEST(RelayDrain, SnsTopic) { measure("SNS topic, 1 event/order, batches of 10", 1, true, false); }

TEST(RelayDrain, TopicAndQueue) { measure("SNS topic + SQS queue, 1 event/order", 1, true, true); }

TEST(RelayDrain, FourEventsPerOrder) {
  measure("SQS queue, 4 events/order (order kept)", 4, false, true);
}

TEST(RelayDrain, NoBatching) {
  measure("SQS queue, batch_size 1 (SendMessage)", 1, false, true, 1);
}

}  // namespace
}  // namespace outpost::testing
