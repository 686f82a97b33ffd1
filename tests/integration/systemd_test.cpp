// The real binary under a stand-in for systemd: READY=1 once it takes orders, WATCHDOG=1
// while it runs with a watchdog asked for, STOPPING=1 on SIGTERM.
#include <gtest/gtest.h>

#include "support/node_process.h"
#include "support/notify_socket.h"

namespace outpost::testing {
namespace {

using namespace std::chrono_literals;

const std::string kOrder = R"({"customerId":"c-1","items":[{"productId":"sku-1","quantity":1}]})";

TEST(Systemd, TheNodeSaysReadyPetsTheWatchdogAndSaysStopping) {
  TempDir dir;
  NotifySocket systemd(dir.file("notify"));
  NodeOptions options;
  options.env = {{"NOTIFY_SOCKET", systemd.path()}, {"WATCHDOG_USEC", "400000"}};
  auto node = NodeProcess::start(dir, options);
  ASSERT_TRUE(node);
  ASSERT_TRUE(systemd.awaitState("READY=1", 5s)) << node->logs();
  auto created = node->client()->Post("/v1/orders", kOrder, "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  // A pass every 200 ms: three pets in a row, each well inside systemd's 400 ms.
  for (int pet = 0; pet < 3; ++pet) {
    EXPECT_TRUE(systemd.awaitState("WATCHDOG=1", 1s)) << "pet " << pet << "\n" << node->logs();
  }
  EXPECT_EQ(node->terminate(), 0);
  EXPECT_TRUE(systemd.awaitState("STOPPING=1", 1s)) << node->logs();
}

TEST(Systemd, AWatchdogMeantForAnotherProcessIsNotPetted) {
  TempDir dir;
  NotifySocket systemd(dir.file("notify"));
  NodeOptions options;
  options.env = {
      {"NOTIFY_SOCKET", systemd.path()}, {"WATCHDOG_USEC", "100000"}, {"WATCHDOG_PID", "1"}};
  auto node = NodeProcess::start(dir, options);
  ASSERT_TRUE(node);
  ASSERT_TRUE(systemd.awaitState("READY=1", 5s)) << node->logs();
  // Ten of the watchdog's intervals with no pet: the node read WATCHDOG_PID.
  EXPECT_EQ(systemd.receive(1s), std::nullopt);
}

}  // namespace
}  // namespace outpost::testing
