// Reconciliation job cost (SPEC §5): how long one run over ORDERS orders (default 10,000)
// takes against a fast fake delivery service, with every delivery unchanged (nothing to
// write) and with every delivery moved to IN_TRANSIT (every order reconciled to SHIPPED:
// a status change, history and an event each); then what runs cost the order API: orders/s
// and latency of POST /v1/orders with no run in progress, and with runs back to back
// (reconciliation.interval_ms = 1). Run by bench/reconcile.sh; not part of the test suite.
//
// Settings (environment): ORDERS (10000), CLIENTS (8 posting threads), DURATION (10 s of
// measured posting per window), WARMUP (2 s of posting before each window, not counted).
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.h"
#include "support/fake_services.h"
#include "support/node_process.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

const char* const kOrder =
    R"({"customerId":"bench","items":[{"productId":"sku-1","quantity":1,"unitPriceCents":250}]})";
const char* const kRunFinished = "reconciliation run finished";
constexpr std::int64_t kNoRunsIntervalMs = 3600000;

const int kOrders = positiveIntSetting("ORDERS", 10000);
const int kClients = positiveIntSetting("CLIENTS", 8);
const int kDurationS = positiveIntSetting("DURATION", 10);
const int kWarmupS = positiveIntSetting("WARMUP", 2);

std::int64_t wallMillis() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double secondsSince(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

// This process's CPU: the fake delivery service and the posting clients.
double ownCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::int64_t scalar(const std::string& database, const std::string& sql) {
  SQLite::Database db(database, SQLite::OPEN_READONLY);
  db.setBusyTimeout(5000);
  return db.execAndGet(sql).getInt64();
}

struct Run {
  std::int64_t id = 0;
  std::int64_t started_at = 0;
  std::int64_t finished_at = 0;
  std::string status;
  int checked = 0;
  int reconciled = 0;
  int flagged = 0;
  int failed = 0;
  std::int64_t durationMs() const { return finished_at - started_at; }
};

std::vector<Run> runsAfter(const std::string& database, std::int64_t after_id) {
  SQLite::Database db(database, SQLite::OPEN_READONLY);
  db.setBusyTimeout(5000);
  SQLite::Statement query(db,
                          "SELECT id, started_at, finished_at, status, checked, reconciled,"
                          " flagged, failed FROM reconciliation_runs WHERE id > ? ORDER BY id");
  query.bind(1, after_id);
  std::vector<Run> runs;
  while (query.executeStep()) {
    runs.push_back({query.getColumn(0).getInt64(), query.getColumn(1).getInt64(),
                    query.getColumn(2).getInt64(), query.getColumn(3).getString(),
                    query.getColumn(4).getInt(), query.getColumn(5).getInt(),
                    query.getColumn(6).getInt(), query.getColumn(7).getInt()});
  }
  return runs;
}

std::int64_t lastRunId(const std::string& database) {
  return scalar(database, "SELECT COALESCE(MAX(id), 0) FROM reconciliation_runs");
}

// The "reconciliation run finished" lines of a node's log from byte `offset` on.
std::vector<json> runLines(const std::string& logs, std::size_t offset) {
  std::vector<json> lines;
  std::istringstream in(logs.substr(std::min(offset, logs.size())));
  std::string line;
  while (std::getline(in, line)) {
    const json parsed = json::parse(line, nullptr, false);
    if (parsed.is_object() && parsed.value("msg", "") == kRunFinished) lines.push_back(parsed);
  }
  return lines;
}

// --- posting orders ---------------------------------------------------------------------

struct Posting {
  long ok = 0;                       // 201 answers
  long errors = 0;                   // anything else, or no answer
  long no_delivery = 0;              // 201 without a deliveryId
  double seconds = 0;                // of the measured part
  std::vector<double> latencies_ms;  // measured part only
  std::string first_error;

  double perSecond() const { return seconds > 0 ? ok / seconds : 0; }
  double percentile(double p) const {
    if (latencies_ms.empty()) return 0;
    std::vector<double> sorted = latencies_ms;
    const auto rank = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(rank),
                     sorted.end());
    return sorted[rank];
  }
};

// Posts with kClients keep-alive clients, either exactly `count` orders (count > 0) or
// for `warmup` then `measured` seconds (only the measured part counted; `on_measuring` is
// called as it starts).
Posting post(
    const NodeProcess& node, int count, std::chrono::seconds warmup = {},
    std::chrono::seconds measured = {}, const std::function<void()>& on_measuring = [] {}) {
  Posting total;
  std::mutex mutex;
  std::atomic<int> next = 0;
  std::atomic<bool> measuring = count > 0;
  std::atomic<bool> stop = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&] {
      auto client = node.client();
      client->set_keep_alive(true);
      // Without it the body waits for the ACK of the headers (Nagle vs delayed ACK: 40 ms).
      client->set_tcp_nodelay(true);
      Posting mine;
      while (!stop) {
        if (count > 0 && next++ >= count) break;
        const bool counted = measuring;
        const auto sent = steady_clock::now();
        auto response = client->Post("/v1/orders", kOrder, "application/json");
        const double ms =
            std::chrono::duration<double, std::milli>(steady_clock::now() - sent).count();
        if (!counted) continue;
        if (response && response->status == 201) {
          ++mine.ok;
          mine.latencies_ms.push_back(ms);
          const json body = json::parse(response->body, nullptr, false);
          if (!body.is_object() || !body.contains("deliveryId") ||
              !body["deliveryId"].is_string()) {
            ++mine.no_delivery;
          }
        } else {
          ++mine.errors;
          if (mine.first_error.empty()) {
            mine.first_error =
                response ? "HTTP " + std::to_string(response->status) + " " + response->body
                         : "no answer: " + httplib::to_string(response.error());
          }
        }
      }
      std::lock_guard lock(mutex);
      total.ok += mine.ok;
      total.errors += mine.errors;
      total.no_delivery += mine.no_delivery;
      total.latencies_ms.insert(total.latencies_ms.end(), mine.latencies_ms.begin(),
                                mine.latencies_ms.end());
      if (total.first_error.empty()) total.first_error = mine.first_error;
    });
  }
  auto start = steady_clock::now();
  if (count == 0) {
    std::this_thread::sleep_for(warmup);  // the length of the warm-up, not a wait for a condition
    on_measuring();
    measuring = true;
    start = steady_clock::now();
    std::this_thread::sleep_for(measured);  // the length of the measured window
    stop = true;
  }
  for (auto& thread : threads) thread.join();
  total.seconds = secondsSince(start);
  return total;
}

// --- the node ---------------------------------------------------------------------------

struct Bench {
  TempDir dir;
  FakeDeliveryService delivery;
  std::unique_ptr<NodeProcess> node;

  std::string database() const { return dir.file("outpost.db"); }
  std::string logs() const { return readFile(dir.file("node.log")); }

  // Stops the running node, if any, with SIGTERM; false if it did not exit with 0.
  bool stop() {
    if (!node) return true;
    const int status = node->terminate(std::chrono::seconds(60));
    EXPECT_EQ(status, 0) << "the node did not stop cleanly on SIGTERM";
    node.reset();
    return status == 0;
  }

  // Copies the (stopped) node's database file and its WAL files, if any, from `from`'s to
  // `to`'s paths.
  void copyDatabase(const std::string& from, const std::string& to) const {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(to + suffix);
      if (std::filesystem::exists(from + suffix)) {
        std::filesystem::copy_file(from + suffix, to + suffix);
      }
    }
  }
  std::string snapshot() const { return dir.file("snapshot.db"); }
  void saveSnapshot() const { copyDatabase(database(), snapshot()); }
  void restoreSnapshot() const { copyDatabase(snapshot(), database()); }

  // Stops the running node (if any) and starts one on the same database.
  bool start(std::int64_t interval_ms) {
    if (!stop()) return false;
    node = NodeProcess::start(
        dir, {{{"OUTPOST_DELIVERY_SERVICE_URL", delivery.url()},
               {"OUTPOST_RECONCILIATION_INTERVAL_MS", std::to_string(interval_ms)}},
              ""});
    return node != nullptr;
  }
};

struct RunResult {
  Run run;
  std::int64_t log_duration_ms = -1;
  int log_checked = -1;
  double since_start_s = 0;  // from starting the node until the run was recorded
  double node_cpu_s = 0;     // the node's CPU from its start until then (start-up included)
  double own_cpu_s = 0;      // the fake's (and this process's) CPU over the same time
};

// Restarts the node (the first run happens at start-up) and waits for that run's record.
// With `restore`, the node starts on a copy of the snapshot instead.
std::optional<RunResult> restartAndRun(Bench& bench, bool restore = false) {
  if (!bench.stop()) return std::nullopt;
  if (restore) bench.restoreSnapshot();
  const std::int64_t before = lastRunId(bench.database());
  const std::size_t log_offset = bench.logs().size();
  const double own_before = ownCpuSeconds();
  const auto started = steady_clock::now();
  if (!bench.start(kNoRunsIntervalMs)) return std::nullopt;
  std::vector<Run> runs;
  const bool recorded = eventually(
      [&] {
        runs = runsAfter(bench.database(), before);
        return !runs.empty();
      },
      std::chrono::minutes(10), milliseconds(20));
  RunResult result;
  result.since_start_s = secondsSince(started);
  result.node_cpu_s = cpuSeconds(bench.node->pid());
  result.own_cpu_s = ownCpuSeconds() - own_before;
  if (!recorded) {
    ADD_FAILURE() << "no reconciliation run was recorded within 10 min; log tail:\n"
                  << bench.logs().substr(bench.logs().size() > 4000 ? bench.logs().size() - 4000
                                                                    : 0);
    return std::nullopt;
  }
  result.run = runs.front();
  // The log line is written just after the row; wait for it.
  std::vector<json> lines;
  eventually([&] {
    lines = runLines(bench.logs(), log_offset);
    return !lines.empty();
  });
  if (lines.empty()) {
    ADD_FAILURE() << "no \"" << kRunFinished << "\" line in the node's log";
  } else {
    result.log_duration_ms = lines.front().value("durationMs", std::int64_t{-1});
    result.log_checked = lines.front().value("checked", -1);
  }
  return result;
}

void printRun(const char* label, const RunResult& r) {
  const double seconds = static_cast<double>(r.run.durationMs()) / 1000.0;
  std::printf(
      "%-36s %6d checked in %7.3f s = %7.0f orders/s  (reconciled %d, flagged %d, failed %d, "
      "%s; log durationMs %lld)\n"
      "%-36s node CPU %.2f s, fake+bench CPU %.2f s over the %.2f s from restart to record\n",
      label, r.run.checked, seconds, seconds > 0 ? r.run.checked / seconds : 0.0, r.run.reconciled,
      r.run.flagged, r.run.failed, r.run.status.c_str(), static_cast<long long>(r.log_duration_ms),
      "", r.node_cpu_s, r.own_cpu_s, r.since_start_s);
  std::fflush(stdout);
}

// --- throughput windows -----------------------------------------------------------------

struct Window {
  Posting posting;
  double node_cpu_s = 0;
  std::vector<Run> runs;  // runs that overlapped the measured window
  double covered = 0;     // share of the window during which a run was in progress
  int runs_started = 0;   // runs that started inside the window
};

// Posts for WARMUP + DURATION seconds and collects the runs that overlapped the measured
// part (read every 250 ms, so that the table's pruning to its last 100 rows cannot hide
// any). With `runs_expected`, waits for the run in progress at the end to be recorded.
Window measureWindow(Bench& bench, std::int64_t first_run_id, bool runs_expected) {
  Window window;
  std::vector<Run> seen;
  std::int64_t last_id = first_run_id;
  std::atomic<bool> stop = false;
  auto collect = [&] {
    for (auto& run : runsAfter(bench.database(), last_id)) {
      last_id = run.id;
      seen.push_back(run);
    }
  };
  std::thread watcher([&] {
    while (!stop) {
      collect();
      std::this_thread::sleep_for(milliseconds(250));  // polling the node's database
    }
  });
  // The measured window in the node's wall-clock milliseconds (its runs' timestamps).
  std::int64_t wall_start = 0;
  double cpu_at_start = 0;
  window.posting =
      post(*bench.node, 0, std::chrono::seconds(kWarmupS), std::chrono::seconds(kDurationS), [&] {
        wall_start = wallMillis();
        cpu_at_start = cpuSeconds(bench.node->pid());
      });
  const std::int64_t wall_end = wallMillis();
  window.node_cpu_s = cpuSeconds(bench.node->pid()) - cpu_at_start;
  stop = true;
  watcher.join();
  if (runs_expected) {
    // Runs follow each other on one thread: once one that ended after the window is
    // recorded, every run that began inside it is too.
    const bool recorded = eventually(
        [&] {
          collect();
          return !seen.empty() && seen.back().finished_at >= wall_end;
        },
        std::chrono::minutes(10), milliseconds(50));
    EXPECT_TRUE(recorded) << "the run in progress at the window's end was never recorded";
  } else {
    collect();
  }
  std::int64_t covered_ms = 0;
  for (const auto& run : seen) {
    const std::int64_t from = std::max(run.started_at, wall_start);
    const std::int64_t to = std::min(run.finished_at, wall_end);
    if (to <= from) continue;
    window.runs.push_back(run);
    covered_ms += to - from;
    if (run.started_at >= wall_start) ++window.runs_started;
  }
  window.covered = static_cast<double>(covered_ms) / static_cast<double>(wall_end - wall_start);
  return window;
}

void checkPosting(const char* label, const Posting& posting) {
  EXPECT_EQ(posting.errors, 0) << label << ": first error: " << posting.first_error;
  EXPECT_GT(posting.ok, 0) << label;
}

void printWindow(const char* label, const Window& w) {
  const Posting& p = w.posting;
  std::printf(
      "%-36s %7.0f orders/s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  (%ld in %.1f s, %ld "
      "errors; node CPU %.2f s = %.0f %% of a core, %.0f us/order)\n",
      label, p.perSecond(), p.percentile(0.50), p.percentile(0.99),
      p.latencies_ms.empty() ? 0.0
                             : *std::max_element(p.latencies_ms.begin(), p.latencies_ms.end()),
      p.ok, p.seconds, p.errors, w.node_cpu_s, 100.0 * w.node_cpu_s / p.seconds,
      p.ok > 0 ? 1e6 * w.node_cpu_s / static_cast<double>(p.ok) : 0.0);
  std::int64_t checked = 0;
  std::int64_t duration = 0;
  for (const auto& run : w.runs) {
    checked += run.checked;
    duration += run.durationMs();
  }
  std::printf(
      "%-36s runs overlapping the window: %zu (%d started in it), in progress %.0f %% of "
      "it%s\n",
      "", w.runs.size(), w.runs_started, 100.0 * w.covered,
      w.runs.empty()
          ? ""
          : (", mean run " + std::to_string(duration / static_cast<long>(w.runs.size())) +
             " ms over " + std::to_string(checked / static_cast<long>(w.runs.size())) + " orders")
                .c_str());
  std::fflush(stdout);
}

TEST(Reconcile, RunTimeAndCostToTheOrderApi) {
  std::printf("%d orders, %d posting clients, windows of %d s after %d s warm-up\n", kOrders,
              kClients, kDurationS, kWarmupS);
  Bench bench;
  ASSERT_TRUE(bench.start(kNoRunsIntervalMs));
  // The start-up run over the empty database, so that it is out of the way.
  ASSERT_TRUE(
      eventually([&] { return lastRunId(bench.database()) > 0; }, std::chrono::seconds(30)));

  // 1. The orders, each with a delivery from the fake.
  const auto fill_started = steady_clock::now();
  const Posting fill = post(*bench.node, kOrders);
  checkPosting("filling", fill);
  ASSERT_EQ(fill.ok, kOrders);
  ASSERT_TRUE(eventually(
      [&] {
        return scalar(bench.database(),
                      "SELECT COUNT(*) FROM orders WHERE delivery_id IS NOT NULL") == kOrders;
      },
      std::chrono::minutes(10), milliseconds(50)));
  const double fill_s = secondsSince(fill_started);
  std::printf("%-36s %d orders in %.1f s (%.0f orders/s, %ld answered without a deliveryId)\n",
              "filling the database:", kOrders, fill_s, kOrders / fill_s, fill.no_delivery);
  std::fflush(stdout);

  // 2a. A run where every delivery is unchanged: CREATED, the order stays PENDING_SHIPMENT.
  const auto unchanged = restartAndRun(bench);
  ASSERT_TRUE(unchanged);
  printRun("run, all unchanged (CREATED):", *unchanged);
  EXPECT_EQ(unchanged->run.status, "HEALTHY");
  EXPECT_EQ(unchanged->run.checked, kOrders);
  EXPECT_EQ(unchanged->run.reconciled, 0);
  EXPECT_EQ(unchanged->run.failed, 0);
  EXPECT_EQ(unchanged->log_checked, kOrders);

  // 2b. A run where every delivery moved to IN_TRANSIT: every order becomes SHIPPED.
  {
    SQLite::Database db(bench.database(), SQLite::OPEN_READONLY);
    SQLite::Statement ids(db, "SELECT delivery_id FROM orders WHERE delivery_id IS NOT NULL");
    while (ids.executeStep()) bench.delivery.setStatus(ids.getColumn(0).getString(), "IN_TRANSIT");
  }
  const std::int64_t events_before =
      scalar(bench.database(),
             "SELECT COUNT(*) FROM outbox_events WHERE event_type = 'ORDER_STATUS_RECONCILED'");
  const auto moved = restartAndRun(bench);
  ASSERT_TRUE(moved);
  printRun("run, all IN_TRANSIT -> SHIPPED:", *moved);
  EXPECT_EQ(moved->run.status, "HEALTHY");
  EXPECT_EQ(moved->run.checked, kOrders);
  EXPECT_EQ(moved->run.reconciled, kOrders);
  EXPECT_EQ(moved->run.failed, 0);
  EXPECT_EQ(moved->log_checked, kOrders);
  EXPECT_EQ(scalar(bench.database(), "SELECT COUNT(*) FROM orders WHERE status = 'SHIPPED'"),
            kOrders);
  EXPECT_EQ(scalar(bench.database(),
                   "SELECT COUNT(*) FROM outbox_events"
                   " WHERE event_type = 'ORDER_STATUS_RECONCILED'") -
                events_before,
            kOrders);

  // 3. Both throughput windows start from this database: ORDERS orders, all SHIPPED.
  ASSERT_TRUE(bench.stop());
  bench.saveSnapshot();

  // 3i. Orders/s with no run in progress: the node's start-up run is over (it checked the
  // SHIPPED orders, all in sync) and the next is an hour away.
  const auto shipped = restartAndRun(bench, true);
  ASSERT_TRUE(shipped);
  printRun("run, all SHIPPED (in sync):", *shipped);
  EXPECT_EQ(shipped->run.checked, kOrders);
  EXPECT_EQ(shipped->run.reconciled, 0);
  const Window quiet = measureWindow(bench, lastRunId(bench.database()), false);
  checkPosting("no run in progress", quiet.posting);
  printWindow("orders, no run in progress:", quiet);
  EXPECT_TRUE(quiet.runs.empty()) << "a reconciliation run overlapped the quiet window";

  // 3ii. Orders/s while runs follow each other (interval 1 ms), from the start-up run on,
  // on the same database as 3i started from.
  ASSERT_TRUE(bench.stop());
  bench.restoreSnapshot();
  const std::int64_t runs_before_busy = lastRunId(bench.database());
  const std::size_t log_offset = bench.logs().size();
  ASSERT_TRUE(bench.start(1));
  const Window busy = measureWindow(bench, runs_before_busy, true);
  checkPosting("runs back to back", busy.posting);
  printWindow("orders, runs back to back:", busy);
  EXPECT_FALSE(busy.runs.empty()) << "no reconciliation run overlapped the window";
  EXPECT_GT(busy.covered, 0.9) << "runs were in progress for less than 90 % of the window";
  for (const auto& run : busy.runs) EXPECT_EQ(run.failed, 0) << "run " << run.id;
  const std::size_t logged_runs = runLines(bench.logs(), log_offset).size();
  EXPECT_GT(logged_runs, 0U);
  EXPECT_TRUE(bench.stop());

  // Summary.
  auto runRow = [](const char* label, const RunResult& r) {
    const double s = static_cast<double>(r.run.durationMs()) / 1000.0;
    std::printf("  %-34s %8d %10.3f %12.0f %10d\n", label, r.run.checked, s,
                s > 0 ? r.run.checked / s : 0.0, r.run.reconciled);
  };
  auto windowRow = [](const char* label, const Window& w) {
    std::printf("  %-34s %10.0f %9.2f %9.2f %11.0f %%\n", label, w.posting.perSecond(),
                w.posting.percentile(0.50), w.posting.percentile(0.99), 100.0 * w.covered);
  };
  std::printf("\nSummary (%d orders; %d clients, %d s windows)\n", kOrders, kClients, kDurationS);
  std::printf("  %-34s %8s %10s %12s %10s\n", "one reconciliation run", "checked", "seconds",
              "checked/s", "reconciled");
  runRow("all CREATED (no change)", *unchanged);
  runRow("all IN_TRANSIT -> SHIPPED", *moved);
  runRow("all SHIPPED (no change)", *shipped);
  std::printf("  %-34s %10s %9s %9s %13s\n", "POST /v1/orders", "orders/s", "p50 ms", "p99 ms",
              "run active");
  windowRow("no run in progress", quiet);
  windowRow("runs back to back (interval 1 ms)", busy);
  if (quiet.posting.perSecond() > 0) {
    std::printf(
        "  throughput with runs in progress: %.0f %% of the quiet figure (that node "
        "logged %zu \"%s\" lines in all, warm-up and the end included)\n",
        100.0 * busy.posting.perSecond() / quiet.posting.perSecond(), logged_runs, kRunFinished);
  }
  std::fflush(stdout);
}

}  // namespace
}  // namespace outpost::testing
