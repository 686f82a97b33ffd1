// kill -9 under load (SPEC §7): every order that got a 201 is there after a restart, with
// its ORDER_CREATED event, and nothing is half-written.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "support/node_process.h"

namespace outpost::testing {
namespace {

using nlohmann::json;

constexpr int kClients = 8;
constexpr int kCrashes = 3;
constexpr int kAcknowledgedBeforeKill = 150;

struct Acknowledged {
  std::mutex mutex;
  std::vector<std::string> ids;
  void add(std::string id) {
    std::lock_guard lock(mutex);
    ids.push_back(std::move(id));
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return ids.size();
  }
};

// Posts orders from kClients threads until the node stops answering.
std::vector<std::thread> startClients(const NodeProcess& node, Acknowledged& acknowledged) {
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&node, &acknowledged, c] {
      auto client = node.client();
      for (int i = 0;; ++i) {
        const json order = {
            {"customerId", "crash-" + std::to_string(c)},
            {"items", {{{"productId", "p-" + std::to_string(i)}, {"quantity", 1}}}}};
        auto response = client->Post("/v1/orders", order.dump(), "application/json");
        if (!response) return;  // killed
        if (response->status == 201) acknowledged.add(json::parse(response->body)["id"]);
      }
    });
  }
  return clients;
}

TEST(CrashRecovery, EveryAcknowledgedOrderSurvivesKillNine) {
  TempDir dir;
  Acknowledged acknowledged;
  for (int crash = 0; crash < kCrashes; ++crash) {
    auto node = NodeProcess::start(dir);
    ASSERT_NE(node, nullptr);
    const std::size_t target = acknowledged.size() + kAcknowledgedBeforeKill;
    auto clients = startClients(*node, acknowledged);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (acknowledged.size() < target && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    node->killHard();  // mid-stream: clients are still posting
    for (auto& client : clients) client.join();
    ASSERT_GE(acknowledged.size(), target) << "the node did not take orders fast enough";
  }

  auto node = NodeProcess::start(dir);
  ASSERT_NE(node, nullptr);
  auto client = node->client();
  SQLite::Database db(node->database(), SQLite::OPEN_READONLY);
  SQLite::Statement event(
      db,
      "SELECT COUNT(*) FROM outbox_events WHERE aggregate_id = ? AND event_type = 'ORDER_CREATED'");
  int missing = 0, missing_events = 0;
  for (const auto& id : acknowledged.ids) {
    auto response = client->Get("/v1/orders/" + id);
    if (!response || response->status != 200) ++missing;
    event.reset();
    event.bind(1, id);
    event.executeStep();
    if (event.getColumn(0).getInt() != 1) ++missing_events;
  }
  EXPECT_EQ(missing, 0) << "of " << acknowledged.ids.size() << " acknowledged orders";
  EXPECT_EQ(missing_events, 0);

  // Nothing half-written: every stored order (acknowledged or not) is whole.
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM"
                          " outbox_events e WHERE e.aggregate_id = o.id)")
                .getInt(),
            0);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM"
                          " order_items i WHERE i.order_id = o.id)")
                .getInt(),
            0);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM"
                          " jobs j WHERE j.aggregate_id = o.id)")
                .getInt(),
            0);
  EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
  std::printf("crash test: %zu acknowledged orders across %d kill -9s, all present\n",
              acknowledged.ids.size(), kCrashes);
}

}  // namespace
}  // namespace outpost::testing
