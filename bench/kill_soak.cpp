// Kill -9 soak (issue 15, SPEC §7): CLIENTS (8) clients post orders while the node is killed
// with SIGKILL CYCLES (50) times, each a random 50-1500 ms after it is ready, and restarted on
// the same file. Each client keeps its own record of every 201 (the id, and the body it sent);
// the even-numbered ones put an Idempotency-Key on half of their posts and retry such a post
// with the same key and body until it is answered. Then, with the last node stopped:
//   - every acknowledged order is in the file with the customer and items it was sent with,
//     and exactly one ORDER_CREATED event (lost, wrong body: must be 0);
//   - no order id was answered to two posts, no post is in the file twice and every key
//     names the order it acknowledged (duplicates: must be 0);
//   - every order in the file, acknowledged or not, has exactly one ORDER_CREATED, comes from
//     a post that was sent and not refused; PRAGMA integrity_check is ok;
//   - orders committed but never acknowledged (the node died before its 201 left) are legal:
//     they are counted and reported.
// Run by bench/kill_soak.sh (CYCLES, CLIENTS, SEED); loopback only; not part of the test suite.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "support/live_node.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr int kMinKillDelayMs = 50;
constexpr int kMaxKillDelayMs = 1500;
// A post with a key still unanswered when the soak ends is retried this long on the last node.
constexpr auto kSettle = seconds(30);

double secondsSince(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count() / 1000.0;
}

// SEED replays a run's kill delays and posts (not its timing); unset, a new one is drawn.
std::uint64_t seedSetting() {
  if (std::getenv("SEED") != nullptr) return positiveIntSetting("SEED", 1);
  return std::random_device{}() % 1000000 + 1;
}

struct Item {
  std::string product;
  int quantity = 1;
  std::optional<int> unit_price_cents;
};

// An order as the file must hold it: the customer, then each item in line order. Every post
// has products of its own, so two orders with one signature are one post taken twice.
std::string signature(const std::string& customer, const std::vector<Item>& items) {
  std::string text = customer;
  for (const auto& item : items) {
    text += "|" + item.product + ":" + std::to_string(item.quantity) + ":" +
            (item.unit_price_cents ? std::to_string(*item.unit_price_cents) : "-");
  }
  return text;
}

struct Post {
  std::string body;
  std::string signature;
  std::string key;  // empty: sent without an Idempotency-Key
};

Post makePost(int client, int n, bool keyed, std::mt19937_64& random) {
  const std::string customer = "customer-" + std::to_string(random() % 1000);
  std::vector<Item> items(1 + random() % 3);
  json lines = json::array();
  for (std::size_t line = 0; line < items.size(); ++line) {
    Item& item = items[line];
    item.product =
        "sku-" + std::to_string(client) + "-" + std::to_string(n) + "-" + std::to_string(line);
    item.quantity = 1 + static_cast<int>(random() % 10000);
    json entry = {{"productId", item.product}, {"quantity", item.quantity}};
    if (random() % 3 != 0) {
      item.unit_price_cents = static_cast<int>(random() % 100000);
      entry["unitPriceCents"] = *item.unit_price_cents;
    }
    lines.push_back(std::move(entry));
  }
  const json body = {{"customerId", customer}, {"items", lines}};
  return {body.dump(), signature(customer, items),
          keyed ? "kill-soak-" + std::to_string(client) + "-" + std::to_string(n) : ""};
}

struct Acknowledgement {
  std::string id;
  std::string signature;
  std::string key;
};

// One client's own record of what it sent and what it was told.
struct ClientRecord {
  std::vector<Acknowledgement> acknowledged;
  std::vector<std::string> sent;     // the signature of every post
  std::vector<std::string> refused;  // posts answered with something else than a 201
  std::map<int, int> refused_statuses;
  int keyed = 0;       // posts with an Idempotency-Key
  int retried = 0;     // of those, acknowledged after one or more retries with the key
  int replayed = 0;    // of those, answered with Idempotent-Replayed: the first try committed
  int unanswered = 0;  // posts without a key that got no answer (the node died or was down)
  int abandoned = 0;   // posts with a key still unanswered kSettle after the soak ended
};

// Posts one order after another until `stop`; a post with a key is retried with the same key
// and body while it gets no answer, a 409 (still in flight) or a 5xx.
void runClient(LiveNode& node, ClientRecord& record, int index, std::uint64_t seed,
               const std::atomic<bool>& stop) {
  std::mt19937_64 random(seed * 1000 + static_cast<std::uint64_t>(index));
  std::optional<steady_clock::time_point> give_up;
  for (int n = 0; !stop; ++n) {
    const bool keyed = index % 2 == 0 && random() % 2 == 0;
    const Post post = makePost(index, n, keyed, random);
    record.sent.push_back(post.signature);
    record.keyed += keyed ? 1 : 0;
    for (int attempt = 0;; ++attempt) {
      // While the node restarts, port() waits for the new one.
      httplib::Client http("127.0.0.1", node.port());
      http.set_connection_timeout(seconds(1));
      http.set_read_timeout(seconds(5));
      httplib::Headers headers;
      if (keyed) headers.emplace("Idempotency-Key", post.key);
      const auto answer = http.Post("/v1/orders", headers, post.body, "application/json");
      if (answer && answer->status == 201) {
        const json body = json::parse(answer->body, nullptr, false);
        if (!body.is_object() || !body.contains("id") || !body["id"].is_string()) {
          ADD_FAILURE() << "a 201 without an order id: " << answer->body;
          break;
        }
        record.acknowledged.push_back({body["id"].get<std::string>(), post.signature, post.key});
        record.retried += attempt > 0 ? 1 : 0;
        record.replayed += answer->get_header_value("Idempotent-Replayed") == "true" ? 1 : 0;
        break;
      }
      const bool again = keyed && (!answer || answer->status == 409 || answer->status >= 500);
      if (again && stop) {
        if (!give_up) give_up = steady_clock::now() + kSettle;
        if (steady_clock::now() >= *give_up) {
          ++record.abandoned;
          break;
        }
      }
      if (!again) {
        if (answer) {
          record.refused.push_back(post.signature);
          ++record.refused_statuses[answer->status];
        } else {
          ++record.unanswered;
        }
      }
      // The node is down or restarting: try again (or post the next order) a little later.
      std::this_thread::sleep_for(milliseconds(20));
      if (!again) break;
    }
  }
}

// An order as it is in the file.
struct Stored {
  std::string signature;
  int created_events = 0;
};

std::map<std::string, Stored> storedOrders(SQLite::Database& db) {
  std::map<std::string, std::vector<Item>> items;
  SQLite::Statement lines(db,
                          "SELECT order_id, product_id, quantity, unit_price_cents FROM"
                          " order_items ORDER BY order_id, line");
  while (lines.executeStep()) {
    Item item{lines.getColumn(1).getString(), lines.getColumn(2).getInt(), std::nullopt};
    if (!lines.getColumn(3).isNull()) item.unit_price_cents = lines.getColumn(3).getInt();
    items[lines.getColumn(0).getString()].push_back(std::move(item));
  }
  std::map<std::string, Stored> orders;
  SQLite::Statement query(db,
                          "SELECT o.id, o.customer_id, (SELECT COUNT(*) FROM outbox_events e"
                          " WHERE e.aggregate_id = o.id AND e.event_type = 'ORDER_CREATED')"
                          " FROM orders o");
  while (query.executeStep()) {
    const std::string id = query.getColumn(0).getString();
    orders[id] = {signature(query.getColumn(1).getString(), items[id]),
                  query.getColumn(2).getInt()};
  }
  return orders;
}

std::map<std::string, std::string> storedKeys(SQLite::Database& db) {
  std::map<std::string, std::string> keys;
  SQLite::Statement query(db, "SELECT key, resource_id FROM idempotency_keys");
  while (query.executeStep()) {
    keys[query.getColumn(0).getString()] =
        query.getColumn(1).isNull() ? "" : query.getColumn(1).getString();
  }
  return keys;
}

// What the clients were told, all together.
struct Totals {
  std::vector<Acknowledgement> acknowledged;
  std::set<std::string> sent;
  std::set<std::string> refused;
  std::map<int, int> refused_statuses;
  int posts = 0, keyed = 0, retried = 0, replayed = 0, unanswered = 0, abandoned = 0;
};

Totals addUp(const std::vector<ClientRecord>& records) {
  Totals totals;
  for (const auto& record : records) {
    totals.acknowledged.insert(totals.acknowledged.end(), record.acknowledged.begin(),
                               record.acknowledged.end());
    totals.sent.insert(record.sent.begin(), record.sent.end());
    totals.refused.insert(record.refused.begin(), record.refused.end());
    for (const auto& [status, count] : record.refused_statuses) {
      totals.refused_statuses[status] += count;
    }
    totals.posts += static_cast<int>(record.sent.size());
    totals.keyed += record.keyed;
    totals.retried += record.retried;
    totals.replayed += record.replayed;
    totals.unanswered += record.unanswered;
    totals.abandoned += record.abandoned;
  }
  return totals;
}

struct Verdict {
  int lost = 0;                  // acknowledged, not in the file
  int wrong_body = 0;            // acknowledged, in the file with another customer or items
  int wrong_created_events = 0;  // acknowledged, without exactly one ORDER_CREATED
  int ids_answered_twice = 0;    // one order id in the 201s of two posts
  int extra_orders = 0;          // orders beyond the first of one post
  int keys_astray = 0;           // a key acknowledged without a record naming its order
  int committed_unacknowledged = 0;
  int committed_though_refused = 0;  // in the file, yet its post was answered with a refusal
  int from_no_post = 0;              // in the file with a body no client sent
  int without_one_created = 0;       // any order in the file without exactly one ORDER_CREATED
  int duplicates() const { return ids_answered_twice + extra_orders + keys_astray; }
};

Verdict judge(const Totals& totals, const std::map<std::string, Stored>& orders,
              const std::map<std::string, std::string>& keys) {
  Verdict verdict;
  std::map<std::string, std::string> acknowledged;  // order id -> the signature of its post
  for (const auto& ack : totals.acknowledged) {
    if (!acknowledged.emplace(ack.id, ack.signature).second) ++verdict.ids_answered_twice;
    const auto stored = orders.find(ack.id);
    if (stored == orders.end()) {
      ++verdict.lost;
      continue;
    }
    verdict.wrong_body += stored->second.signature == ack.signature ? 0 : 1;
    verdict.wrong_created_events += stored->second.created_events == 1 ? 0 : 1;
    if (!ack.key.empty()) {
      const auto key = keys.find(ack.key);
      verdict.keys_astray += key != keys.end() && key->second == ack.id ? 0 : 1;
    }
  }
  std::map<std::string, int> orders_per_post;
  for (const auto& [id, stored] : orders) {
    ++orders_per_post[stored.signature];
    verdict.committed_unacknowledged += acknowledged.contains(id) ? 0 : 1;
    verdict.committed_though_refused += totals.refused.contains(stored.signature) ? 1 : 0;
    verdict.from_no_post += totals.sent.contains(stored.signature) ? 0 : 1;
    verdict.without_one_created += stored.created_events == 1 ? 0 : 1;
  }
  for (const auto& [post, count] : orders_per_post) verdict.extra_orders += count - 1;
  return verdict;
}

std::string describe(const std::map<int, int>& statuses) {
  std::string text;
  for (const auto& [status, count] : statuses) {
    text += (text.empty() ? " (" : ", ") + std::to_string(count) + " × " + std::to_string(status);
  }
  return text.empty() ? text : text + ")";
}

TEST(KillSoak, EveryAcknowledgedOrderSurvivesRandomKillNines) {
  const int cycles = positiveIntSetting("CYCLES", 50);
  const int clients = positiveIntSetting("CLIENTS", 8);
  const std::uint64_t seed = seedSetting();
  const auto seed_printed = static_cast<unsigned long long>(seed);
  std::printf(
      "kill soak: seed %llu (SEED=%llu replays its kill delays and posts), %d cycles, %d "
      "clients\n",
      seed_printed, seed_printed, cycles, clients);
  std::fflush(stdout);
  const auto started = steady_clock::now();

  TempDir dir;
  LiveNode node(dir, {});
  ASSERT_TRUE(node.up());
  std::vector<ClientRecord> records(static_cast<std::size_t>(clients));
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] { runClient(node, records[i], i, seed, stop); });
  }

  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int> kill_delay(kMinKillDelayMs, kMaxKillDelayMs);
  int killed = 0;
  bool restarted = true;
  double restart_total_ms = 0, restart_max_ms = 0;
  while (killed < cycles && restarted) {
    // The kill's random instant: waiting is the point here, not a stand-in for a condition.
    std::this_thread::sleep_for(milliseconds(kill_delay(random)));
    const auto kill_at = steady_clock::now();
    restarted = node.killAndRestart();
    ++killed;
    const double restart_ms = secondsSince(kill_at) * 1000;
    restart_total_ms += restart_ms;
    restart_max_ms = std::max(restart_max_ms, restart_ms);
  }
  stop = true;
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(restarted) << "the node did not come back after kill " << killed;
  const std::string logs = node.logs();
  const int exit_status = node.terminate();
  if (restarted) {
    EXPECT_EQ(exit_status, 0) << "the last node did not stop cleanly on SIGTERM";
  }

  SQLite::Database db(dir.file("outpost.db"), SQLite::OPEN_READONLY);
  const std::string integrity = db.execAndGet("PRAGMA integrity_check").getString();
  const auto orders = storedOrders(db);
  const Totals totals = addUp(records);
  const Verdict verdict = judge(totals, orders, storedKeys(db));
  const double elapsed_s = secondsSince(started);

  std::printf(
      "kill soak seed %llu: %d kills, each %d-%d ms after the node was ready; kill to ready "
      "%.0f ms mean, %.0f ms max; last node's exit on SIGTERM %d\n"
      "  posts: %d sent by %d clients, %d with an Idempotency-Key; %zu acknowledged (%d after "
      "retrying with the key, %d of them replayed), %d unanswered without a key, %zu refused%s, "
      "%d with a key abandoned\n"
      "  file: %zu orders; lost %d, wrong body %d, acknowledged without one ORDER_CREATED %d; "
      "duplicates %d (ids answered twice %d, extra orders of one post %d, keys not naming their "
      "order %d); committed-unacknowledged %d, committed though refused %d, from no post %d, "
      "orders without one ORDER_CREATED %d\n"
      "  integrity_check: %s\n"
      "summary: cycles %d, acknowledged %zu, lost %d, duplicates %d, committed-unacknowledged %d, "
      "integrity %s, time %.1f s\n",
      seed_printed, killed, kMinKillDelayMs, kMaxKillDelayMs,
      killed > 0 ? restart_total_ms / killed : 0.0, restart_max_ms, exit_status, totals.posts,
      clients, totals.keyed, totals.acknowledged.size(), totals.retried, totals.replayed,
      totals.unanswered, totals.refused.size(), describe(totals.refused_statuses).c_str(),
      totals.abandoned, orders.size(), verdict.lost, verdict.wrong_body,
      verdict.wrong_created_events, verdict.duplicates(), verdict.ids_answered_twice,
      verdict.extra_orders, verdict.keys_astray, verdict.committed_unacknowledged,
      verdict.committed_though_refused, verdict.from_no_post, verdict.without_one_created,
      integrity.c_str(), killed, totals.acknowledged.size(), verdict.lost, verdict.duplicates(),
      verdict.committed_unacknowledged, integrity.c_str(), elapsed_s);
  std::fflush(stdout);

  EXPECT_EQ(verdict.lost, 0);
  EXPECT_EQ(verdict.wrong_body, 0);
  EXPECT_EQ(verdict.wrong_created_events, 0);
  EXPECT_EQ(verdict.duplicates(), 0);
  EXPECT_EQ(verdict.committed_though_refused, 0);
  EXPECT_EQ(verdict.from_no_post, 0);
  EXPECT_EQ(verdict.without_one_created, 0);
  EXPECT_EQ(totals.abandoned, 0) << "posts with a key the last node never answered";
  EXPECT_EQ(integrity, "ok");
  if (::testing::Test::HasFailure()) {
    std::printf("node log (last 8000 characters):\n%s\n",
                logs.substr(logs.size() > 8000 ? logs.size() - 8000 : 0).c_str());
  }
}

}  // namespace
}  // namespace outpost::testing
