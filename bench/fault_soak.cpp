// Fault soak (issues 15 and 20): clients post orders, and cancel a quarter of them, while the
// delivery service, the product service and SQS change faults at random every 1-4 s
// (refused, hung, 500, an HTML page with a 200, flapping, a cancel acknowledged and lost;
// SQS sends dropped, hung or 500), and the node is killed with SIGKILL and restarted on the
// same file. Then every fault is cleared and the node must converge by itself:
//   - every acknowledged order is in the file with exactly one ORDER_CREATED event;
//   - every order not cancelled has its delivery id or an open review item;
//   - at most one delivery per order, and the one the order names;
//   - no cancelled order keeps a live delivery (issue 20), and none is left to verify;
//   - every event is SENT and arrived in SQS; nothing FAILED (SQS never rejects here);
//   - PRAGMA integrity_check is ok.
// Run by bench/fault_soak.sh (SOAK_SECONDS, SEED, CLIENTS, KILLS); loopback only; not part of
// the test suite.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "support/eventually.h"
#include "support/fake_services.h"
#include "support/fauxqs.h"
#include "support/live_node.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

const char* const kOrder =
    R"({"customerId":"soak","items":[{"productId":"sku-1","quantity":1,"unitPriceCents":250}],"shippingAddress":{"line1":"1 Quay St"}})";
const char* const kInit = R"({"queues": [{"name": "orders"}]})";

int killsSetting() {
  const char* text = std::getenv("KILLS");  // 0 is allowed: a soak without crashes
  return text == nullptr ? 2 : std::max(0, std::atoi(text));
}

// What the clients saw: every order answered 201, and every cancel the node took.
struct Ledger {
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::set<std::string> cancel_taken;
  int not_acknowledged = 0;  // no answer (the node was down) or not a 201
  int cancel_not_taken = 0;

  void acknowledge(const std::string& id) {
    std::lock_guard lock(mutex);
    acknowledged.push_back(id);
  }
};

// Event ids that arrived in the SQS queue, received until told to stop.
class Consumer {
 public:
  Consumer(Fauxqs& fauxqs, std::string queue_url)
      : fauxqs_(fauxqs), queue_url_(std::move(queue_url)), thread_([this] { run(); }) {}
  ~Consumer() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::set<std::string> ids() {
    std::lock_guard lock(mutex_);
    return ids_;
  }
  int messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  void run() {
    while (!stop_) {
      for (const auto& message : fauxqs_.receive(queue_url_, 10, 1)) {
        const auto body = json::parse(message["Body"].get<std::string>(), nullptr, false);
        std::lock_guard lock(mutex_);
        ++messages_;
        if (body.is_object() && body.contains("eventId")) ids_.insert(body["eventId"]);
      }
    }
  }

  Fauxqs& fauxqs_;
  std::string queue_url_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::set<std::string> ids_;
  int messages_ = 0;
  std::thread thread_;
};

// One client: an order every 200 ms (the load's shape, not a wait for anything), a cancel
// of a quarter of them right after their 201.
void runClient(LiveNode& node, Ledger& ledger, int index, std::uint64_t seed,
               const std::atomic<bool>& stop) {
  std::mt19937_64 random(seed * 1000 + static_cast<std::uint64_t>(index));
  for (int n = 0; !stop; ++n) {
    httplib::Client http("127.0.0.1", node.port());
    http.set_connection_timeout(seconds(1));
    http.set_read_timeout(seconds(5));
    const std::string key = "soak-" + std::to_string(index) + "-" + std::to_string(n);
    auto created = http.Post("/v1/orders", {{"Idempotency-Key", key}}, kOrder, "application/json");
    if (created && created->status == 201) {
      const std::string id = json::parse(created->body)["id"];
      ledger.acknowledge(id);
      if (random() % 4 == 0) {
        auto cancel = http.Post("/v1/orders/" + id + "/cancel", "", "application/json");
        std::lock_guard lock(ledger.mutex);
        if (cancel && (cancel->status == 202 || cancel->status == 200)) {
          ledger.cancel_taken.insert(id);
        } else {
          ++ledger.cancel_not_taken;
        }
      }
    } else {
      std::lock_guard lock(ledger.mutex);
      ++ledger.not_acknowledged;
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
}

struct Services {
  FakeDeliveryService& delivery;
  FakeProductService& product;
  Fauxqs& fauxqs;
};

// Changes one service's fault every 1-4 s until `stop`; returns how many changes it made.
int runChaos(Services services, std::uint64_t seed, const std::atomic<bool>& stop) {
  const Fault kFaults[] = {Fault::kNone,        Fault::kRefuse,    Fault::kHang,
                           Fault::kServerError, Fault::kMalformed, Fault::kFlapping};
  const char* const kSendFaults[] = {"none", "drop", "hang", "server-error"};
  std::mt19937_64 random(seed);
  int changes = 0;
  while (!stop) {
    const auto until = steady_clock::now() + milliseconds(1000 + random() % 3000);
    while (!stop && steady_clock::now() < until) std::this_thread::sleep_for(milliseconds(50));
    if (stop) break;
    switch (random() % 3) {
      case 0:
        // One change in seven: the next cancel is acknowledged and lost (issue 20).
        if (random() % 7 == 6) {
          services.delivery.forgetNextCancel();
        } else {
          services.delivery.setFault(kFaults[random() % 6]);
        }
        break;
      case 1:
        services.product.setFault(kFaults[random() % 6]);
        break;
      default:
        services.fauxqs.setSendFault(kSendFaults[random() % 4]);
        break;
    }
    ++changes;
  }
  return changes;
}

int scalar(SQLite::Database& db, const std::string& sql) { return db.execAndGet(sql).getInt(); }

struct Convergence {
  int compensating = 0;
  int without_delivery_or_review = 0;
  int pending_events = 0;
  int cancels_to_verify = 0;
  int live_deliveries_of_cancelled = 0;
  bool done() const {
    return compensating == 0 && without_delivery_or_review == 0 && pending_events == 0 &&
           cancels_to_verify == 0 && live_deliveries_of_cancelled == 0;
  }
};

// Cancelled orders of which the delivery service still holds a delivery that is not
// cancelled, whether or not the node knows its id.
int liveDeliveriesOfCancelled(SQLite::Database& db, const FakeDeliveryService& delivery) {
  int live = 0;
  for (const auto& [order_id, count] : delivery.deliveriesPerOrder()) {
    SQLite::Statement query(db, "SELECT status FROM orders WHERE id = ?");
    query.bind(1, order_id);
    if (!query.executeStep() || query.getColumn(0).getString() != "CANCELLED") continue;
    for (const auto& id : delivery.deliveryIdsForOrder(order_id)) {
      if (delivery.status(id) != "CANCELLED") ++live;
    }
  }
  return live;
}

Convergence convergence(const std::string& database, const FakeDeliveryService& delivery) {
  SQLite::Database db(database, SQLite::OPEN_READONLY);
  Convergence state;
  state.compensating = scalar(db, "SELECT COUNT(*) FROM orders WHERE saga_state = 'COMPENSATING'");
  state.without_delivery_or_review =
      scalar(db,
             "SELECT COUNT(*) FROM orders o WHERE o.status != 'CANCELLED' AND o.delivery_id IS NULL"
             " AND NOT EXISTS (SELECT 1 FROM review_items r WHERE r.order_id = o.id"
             " AND r.resolved_at IS NULL)");
  state.pending_events = scalar(db, "SELECT COUNT(*) FROM outbox_events WHERE status = 'PENDING'");
  state.cancels_to_verify =
      scalar(db, "SELECT COUNT(*) FROM orders WHERE delivery_cancel_unverified = 1");
  state.live_deliveries_of_cancelled = liveDeliveriesOfCancelled(db, delivery);
  return state;
}

std::string describe(const Convergence& state) {
  return "compensating " + std::to_string(state.compensating) + ", without delivery or review " +
         std::to_string(state.without_delivery_or_review) + ", events pending " +
         std::to_string(state.pending_events) + ", cancels to verify " +
         std::to_string(state.cancels_to_verify) + ", live deliveries of cancelled orders " +
         std::to_string(state.live_deliveries_of_cancelled);
}

std::map<std::string, std::string> nodeEnv(const FakeDeliveryService& delivery,
                                           const FakeProductService& product, Fauxqs& fauxqs) {
  return {{"OUTPOST_DELIVERY_SERVICE_URL", delivery.url()},
          {"OUTPOST_DELIVERY_SERVICE_TIMEOUT_MS", "500"},
          {"OUTPOST_DELIVERY_SERVICE_RETRY_INITIAL_DELAY_MS", "200"},
          {"OUTPOST_DELIVERY_SERVICE_RETRY_MAX_DELAY_MS", "2000"},
          {"OUTPOST_BREAKERS_DELIVERY_SERVICE_RESET_TIMEOUT_MS", "500"},
          {"OUTPOST_PRODUCT_SERVICE_URL", product.url()},
          {"OUTPOST_PRODUCT_SERVICE_TIMEOUT_MS", "500"},
          {"OUTPOST_PRODUCT_SERVICE_RECHECK_INTERVAL_MS", "1000"},
          {"OUTPOST_BREAKERS_PRODUCT_SERVICE_RESET_TIMEOUT_MS", "500"},
          {"OUTPOST_EVENTS_ENDPOINT_URL", fauxqs.endpoint()},
          {"OUTPOST_EVENTS_SQS_QUEUE_URL", fauxqs.queueUrl("orders")},
          {"OUTPOST_EVENTS_POLL_INTERVAL_MS", "500"},
          {"OUTPOST_BREAKERS_EVENTS_TIMEOUT_MS", "2000"},
          {"OUTPOST_BREAKERS_EVENTS_RESET_TIMEOUT_MS", "500"},
          {"OUTPOST_RECONCILIATION_INTERVAL_MS", "1000"},
          {"AWS_ACCESS_KEY_ID", "soak"},
          {"AWS_SECRET_ACCESS_KEY", "soak"}};
}

TEST(FaultSoak, EveryOrderConvergesAfterRandomFaultsAndKills) {
  const int soak_seconds = positiveIntSetting("SOAK_SECONDS", 120);
  const auto seed = static_cast<std::uint64_t>(positiveIntSetting("SEED", 1));
  const int clients = positiveIntSetting("CLIENTS", 4);
  const int kills = killsSetting();

  TempDir dir;
  FakeDeliveryService delivery;
  FakeProductService product;
  auto fauxqs = Fauxqs::start(dir, kInit);
  ASSERT_NE(fauxqs, nullptr);
  Consumer consumer(*fauxqs, fauxqs->queueUrl("orders"));
  LiveNode node(dir, nodeEnv(delivery, product, *fauxqs));
  ASSERT_TRUE(node.up());

  Ledger ledger;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] { runClient(node, ledger, i, seed, stop); });
  }
  int fault_changes = 0;
  std::thread chaos([&] { fault_changes = runChaos({delivery, product, *fauxqs}, seed, stop); });

  const auto started = steady_clock::now();
  int killed = 0;
  bool restarted = true;
  for (int k = 1; k <= kills && restarted; ++k) {
    const auto at = started + milliseconds(std::int64_t{soak_seconds} * 1000 * k / (kills + 1));
    while (steady_clock::now() < at) std::this_thread::sleep_for(milliseconds(50));
    restarted = node.killAndRestart();
    killed += restarted ? 1 : 0;
  }
  while (restarted && steady_clock::now() < started + seconds(soak_seconds)) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  stop = true;
  for (auto& thread : threads) thread.join();
  chaos.join();
  ASSERT_TRUE(restarted) << "the node did not come back after kill " << killed + 1;

  delivery.setFault(Fault::kNone);
  product.setFault(Fault::kNone);
  fauxqs->setSendFault("none");
  const auto calm = steady_clock::now();
  Convergence state;
  const bool converged = eventually(
      [&] {
        state = convergence(node.database(), delivery);
        return state.done();
      },
      std::chrono::minutes(5), milliseconds(500));
  const double converge_s =
      std::chrono::duration_cast<milliseconds>(steady_clock::now() - calm).count() / 1000.0;
  EXPECT_TRUE(converged) << describe(state) << "\n" << node.logs();

  SQLite::Database db(node.database(), SQLite::OPEN_READONLY);
  std::set<std::string> event_ids;
  {
    SQLite::Statement query(db, "SELECT id FROM outbox_events");
    while (query.executeStep()) event_ids.insert(query.getColumn(0).getString());
  }
  eventually([&] { return consumer.ids().size() >= event_ids.size(); }, seconds(60),
             milliseconds(200));
  consumer.stop();
  const std::set<std::string> received = consumer.ids();
  int missing_events = 0;
  for (const auto& id : event_ids) missing_events += received.count(id) == 0 ? 1 : 0;

  // Every acknowledged order, with its one ORDER_CREATED.
  int lost = 0;
  int wrong_created_events = 0;
  for (const auto& id : ledger.acknowledged) {
    SQLite::Statement query(
        db,
        "SELECT (SELECT COUNT(*) FROM orders WHERE id = ?1), (SELECT COUNT(*) FROM"
        " outbox_events WHERE aggregate_id = ?1 AND event_type = 'ORDER_CREATED')");
    query.bind(1, id);
    query.executeStep();
    lost += query.getColumn(0).getInt() == 1 ? 0 : 1;
    wrong_created_events += query.getColumn(1).getInt() == 1 ? 0 : 1;
  }
  // One delivery per order at most, and the one the order names; a delivery whose answer
  // never reached the node is allowed only for an order that staff review (its initiation
  // gave up).
  int extra_deliveries = 0;
  int unnamed_deliveries = 0;
  int unnamed_in_review = 0;
  for (const auto& [order_id, count] : delivery.deliveriesPerOrder()) {
    extra_deliveries += count - 1;
    SQLite::Statement query(
        db,
        "SELECT delivery_id, EXISTS (SELECT 1 FROM review_items r WHERE r.order_id = o.id"
        " AND r.resolved_at IS NULL) FROM orders o WHERE id = ?");
    query.bind(1, order_id);
    if (!query.executeStep()) {
      ++unnamed_deliveries;  // a delivery for an order the node does not have
      continue;
    }
    if (!query.getColumn(0).isNull() &&
        query.getColumn(0).getString() == delivery.deliveryIdsForOrder(order_id)[0]) {
      continue;
    }
    ++(query.getColumn(1).getInt() == 1 ? unnamed_in_review : unnamed_deliveries);
  }
  int cancels_not_done = 0;
  for (const auto& id : ledger.cancel_taken) {
    SQLite::Statement query(db, "SELECT status FROM orders WHERE id = ?");
    query.bind(1, id);
    cancels_not_done +=
        query.executeStep() && query.getColumn(0).getString() == "CANCELLED" ? 0 : 1;
  }

  const int orders = scalar(db, "SELECT COUNT(*) FROM orders");
  const int cancelled = scalar(db, "SELECT COUNT(*) FROM orders WHERE status = 'CANCELLED'");
  const int with_delivery = scalar(db, "SELECT COUNT(*) FROM orders WHERE delivery_id IS NOT NULL");
  const int in_review =
      scalar(db, "SELECT COUNT(DISTINCT order_id) FROM review_items WHERE resolved_at IS NULL");
  const int failed_events =
      scalar(db, "SELECT COUNT(*) FROM outbox_events WHERE status = 'FAILED'");
  const int recancelled = scalar(db,
                                 "SELECT COUNT(*) FROM orders, json_each(orders.saga_steps) s"
                                 " WHERE json_extract(s.value, '$.data.byReconciliation') = 1");
  const std::string integrity = db.execAndGet("PRAGMA integrity_check").getString();

  std::printf(
      "fault soak seed %llu: %d s, %d clients, %d fault changes, %d kills; converged in %.1f s\n"
      "  orders: %zu acknowledged, %d not acknowledged, %d in the file (%d committed but never "
      "acknowledged), lost %d, wrong ORDER_CREATED count %d\n"
      "  cancels: %zu taken (%d refused or unanswered), %d orders CANCELLED, not done %d, "
      "re-cancelled by reconciliation %d, cancelled with a live delivery %d\n"
      "  deliveries: %d orders with one, %d extra deliveries, %d not named by their order (and %d "
      "of orders in review); %d orders in review\n"
      "  events: %zu in the outbox, %zu distinct received (%d messages), missing %d, FAILED %d\n"
      "  integrity_check: %s\n",
      static_cast<unsigned long long>(seed), soak_seconds, clients, fault_changes, killed,
      converge_s, ledger.acknowledged.size(), ledger.not_acknowledged, orders,
      orders - static_cast<int>(ledger.acknowledged.size()), lost, wrong_created_events,
      ledger.cancel_taken.size(), ledger.cancel_not_taken, cancelled, cancels_not_done, recancelled,
      state.live_deliveries_of_cancelled, with_delivery, extra_deliveries, unnamed_deliveries,
      unnamed_in_review, in_review, event_ids.size(), received.size(), consumer.messages(),
      missing_events, failed_events, integrity.c_str());
  std::fflush(stdout);

  EXPECT_EQ(lost, 0);
  EXPECT_EQ(wrong_created_events, 0);
  EXPECT_EQ(extra_deliveries, 0);
  EXPECT_EQ(unnamed_deliveries, 0);
  EXPECT_EQ(cancels_not_done, 0);
  EXPECT_EQ(state.live_deliveries_of_cancelled, 0);
  EXPECT_EQ(missing_events, 0);
  EXPECT_EQ(failed_events, 0);
  EXPECT_EQ(integrity, "ok");
}

}  // namespace
}  // namespace outpost::testing
