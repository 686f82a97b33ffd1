// Hostile input under load (SPEC §8): the node's memory while it is sent encoding bombs
// and deep bodies, each on a fresh connection from CLIENTS threads: 500 gzip bodies that
// inflate to 1 MB, 500 gzip bodies of 300,000 nested arrays (both 415), 500 orders with
// 2,500 levels of metadata (400) and 500 chunked orders of 200,000 levels (413, 400 KB on
// the wire). Prints the node's resident memory before, its peak (VmHWM) and after, and
// checks every answer and that orders are still taken. Run by bench/hostile.sh; not part
// of the test suite.
//
// Settings (environment): EACH (500 requests of each kind), CLIENTS (4 threads).
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "support/node_process.h"
#include "support/raw_http.h"

namespace outpost::testing {
namespace {

using std::chrono::steady_clock;

const int kEach = positiveIntSetting("EACH", 500);
const int kClients = positiveIntSetting("CLIENTS", 4);
const std::string kOrder = R"({"customerId":"c","items":[{"productId":"p","quantity":1}]})";

std::string post(const std::string& body, const std::string& extra = "") {
  return "POST /v1/orders HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

std::string postChunked(const std::string& body) {
  return "POST /v1/orders HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
         "Transfer-Encoding: chunked\r\n\r\n" +
         chunkedBody(body, 8192);
}

struct Kind {
  const char* name;
  std::string request;
  int status;
  std::size_t wire_bytes;
};

TEST(HostileBench, MemoryStaysBoundedUnderBombsAndDeepBodies) {
  const std::string inflating = gzipCompress(orderWithLargeMetadata(1000 * 1000));
  const std::string nesting = gzipCompress(orderWithDeepMetadata(300000));
  std::vector<Kind> kinds = {
      {"gzip, 1 MB inflated", post(inflating, "Content-Encoding: gzip\r\n"), 415, 0},
      {"gzip, 300,000 levels", post(nesting, "Content-Encoding: gzip\r\n"), 415, 0},
      {"2,500 levels, plain", post(orderWithDeepMetadata(2500)), 400, 0},
      {"200,000 levels, chunked", postChunked(orderWithDeepMetadata(200000)), 413, 0},
  };
  for (auto& kind : kinds) kind.wire_bytes = kind.request.size();

  TempDir dir;
  auto node = NodeProcess::start(dir);
  ASSERT_NE(node, nullptr);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(rawExchange(node->port(), post(kOrder))->status, 201);
  const double before = memoryMiB(node->pid(), "VmRSS");

  std::atomic<int> next{0};
  std::atomic<int> wrong{0};
  const int total = kEach * static_cast<int>(kinds.size());
  const auto started = steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      for (int i = next++; i < total; i = next++) {
        const Kind& kind = kinds[static_cast<std::size_t>(i) % kinds.size()];
        const auto answer = rawExchange(node->port(), kind.request);
        if (!answer || answer->status != kind.status) ++wrong;
      }
    });
  }
  for (auto& client : clients) client.join();
  const double seconds = std::chrono::duration<double>(steady_clock::now() - started).count();
  const double peak = memoryMiB(node->pid(), "VmHWM");
  const double after = memoryMiB(node->pid(), "VmRSS");

  EXPECT_EQ(wrong.load(), 0) << "answers other than the expected 415/400/413";
  const auto order = rawExchange(node->port(), post(kOrder));
  ASSERT_TRUE(order);
  EXPECT_EQ(order->status, 201);
  EXPECT_TRUE(node->running());
  node->terminate();
  SQLite::Database db(node->database(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM orders").getInt(), 21);

  std::printf("\nrequests (each on a fresh connection, %d clients):\n", kClients);
  for (const auto& kind : kinds) {
    std::printf("  %-26s %6d x %7zu bytes on the wire -> %d\n", kind.name, kEach, kind.wire_bytes,
                kind.status);
  }
  std::printf("  %d requests in %.1f s (%.0f/s), %d answered otherwise\n", total, seconds,
              total / seconds, wrong.load());
  std::printf("node memory: RSS before %.1f MiB, peak (VmHWM) %.1f MiB, RSS after %.1f MiB\n",
              before, peak, after);
}

}  // namespace
}  // namespace outpost::testing
