// storage.min_free_bytes (SPEC §11) against the real binary on a real small filesystem: a
// 16 MiB tmpfs the test mounts (as root, as CI and the dev machine run), filled with a
// filler file until free space is below the floor. Orders are refused with 503
// disk-space-low before SQLite meets a full disk, everything else goes on, the alert and
// /health follow, and once the filler is gone orders are taken again; no order that was
// answered 201 is lost.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/eventually.h"
#include "support/fauxqs.h"
#include "support/node_process.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const std::string kOrder = R"({"customerId":"c-1","items":[{"productId":"sku-1","quantity":1}]})";
constexpr const char* kAdmin = "admin-secret";
constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::uint64_t kFloor = 4 * kMiB;
// Waiting for the next once-a-second reading by posting orders: a few, not hundreds, so
// the orders taken meanwhile never fill what is left.
constexpr std::chrono::milliseconds kOrderPoll{200};

std::uint64_t freeBytesOf(const std::string& directory) {
  struct statvfs reading {};
  if (statvfs(directory.c_str(), &reading) != 0) return 0;
  return static_cast<std::uint64_t>(reading.f_bavail) * reading.f_frsize;
}

class DiskFloor : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(mount_point_.c_str(), 0700), 0) << std::strerror(errno);
    ASSERT_EQ(mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, "size=16m"), 0)
        << "cannot mount a 16 MiB tmpfs at " << mount_point_ << ": " << std::strerror(errno)
        << " (this test needs root, or CAP_SYS_ADMIN, to make a real small filesystem)";
    mounted_ = true;
  }

  void TearDown() override {
    if (node_) node_->terminate();  // before the unmount: the node holds the database open
    node_.reset();
    if (mounted_ && umount(mount_point_.c_str()) != 0) {
      ADD_FAILURE() << "cannot unmount " << mount_point_ << ": " << std::strerror(errno);
      umount2(mount_point_.c_str(), MNT_DETACH);
    }
  }

  void start(std::map<std::string, std::string> env) {
    env["OUTPOST_ADMIN_TOKEN"] = kAdmin;
    env["OUTPOST_STORAGE_MIN_FREE_BYTES"] = std::to_string(kFloor);
    env["OUTPOST_ALERTS_CHECK_INTERVAL_MS"] = "100";
    node_ = NodeProcess::start(dir_, {std::move(env), mount_point_ + "/outpost.db"});
    ASSERT_NE(node_, nullptr);
    client_ = node_->client();
  }

  // Posts an order; remembers every one answered 201.
  httplib::Result post() {
    auto posted = client_->Post("/v1/orders", kOrder, "application/json");
    if (posted && posted->status == 201) {
      taken_.push_back(json::parse(posted->body).at("id").get<std::string>());
    }
    return posted;
  }

  int postStatus() {
    auto posted = post();
    return posted ? posted->status : -1;
  }

  json health() {
    auto response = client_->Get("/health");
    return response ? json::parse(response->body, nullptr, false) : json();
  }

  static json diskAlert(const json& health) {
    if (!health.contains("alerts")) return json();
    for (const auto& alert : health["alerts"]) {
      if (alert.value("alert", "") == "DISK_SPACE_LOW") return alert;
    }
    return json();
  }

  // Fills the filesystem until about half the floor is left: below it, far from full.
  void fillBelowTheFloor() {
    const std::uint64_t free = freeBytesOf(mount_point_);
    ASSERT_GT(free, kFloor) << "the tmpfs is already below the floor";
    const std::uint64_t filler_bytes = free - kFloor / 2;
    std::ofstream filler(filler_path_, std::ios::binary);
    const std::string chunk(kMiB, 'x');
    for (std::uint64_t written = 0; written < filler_bytes; written += chunk.size()) {
      filler.write(chunk.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(
                                     chunk.size(), filler_bytes - written)));
    }
    filler.close();
    ASSERT_TRUE(filler) << "cannot write the filler file";
    const std::uint64_t left = freeBytesOf(mount_point_);
    ASSERT_LT(left, kFloor);
    ASSERT_GT(left, kFloor / 4);
  }

  static double sample(const std::string& text, const std::string& series) {
    const std::string start = "\n" + series + " ";
    const auto at = text.find(start);
    return at == std::string::npos ? -1 : std::stod(text.substr(at + start.size()));
  }

  httplib::Headers admin() const { return {{"Authorization", std::string("Bearer ") + kAdmin}}; }

  TempDir dir_;
  const std::string mount_point_ = dir_.file("small-disk");
  const std::string filler_path_ = mount_point_ + "/filler";
  bool mounted_ = false;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
  std::vector<std::string> taken_;
};

TEST_F(DiskFloor, BelowTheFloorOrdersAre503AndEverythingElseGoesOnUntilSpaceIsFreed) {
  start({});
  for (int i = 0; i < 5; ++i) ASSERT_EQ(postStatus(), 201);
  const std::string earlier = taken_.front();
  EXPECT_EQ(health()["status"], "HEALTHY");

  ASSERT_NO_FATAL_FAILURE(fillBelowTheFloor());
  // The node reads free space at most once a second: the next reading refuses.
  ASSERT_TRUE(eventually([&] { return postStatus() == 503; }, seconds(5), kOrderPoll));
  auto refused = post();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503) << refused->body;
  EXPECT_EQ(refused->get_header_value("Content-Type"), "application/problem+json");
  EXPECT_EQ(refused->get_header_value("Retry-After"), "5");
  EXPECT_EQ(json::parse(refused->body)["type"], "urn:outpost:problem:disk-space-low");

  json alert;
  ASSERT_TRUE(eventually(
      [&] {
        const auto now = health();
        alert = diskAlert(now);
        return now["status"] == "DEGRADED" && !alert.is_null();
      },
      seconds(5)))
      << health().dump() << node_->logs();
  EXPECT_EQ(alert["details"]["floorBytes"], kFloor) << alert;
  EXPECT_LT(alert["details"]["freeBytes"].get<std::uint64_t>(), kFloor) << alert;
  EXPECT_GT(alert["details"]["freeBytes"].get<std::uint64_t>(), 0u) << alert;

  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  const double free_gauge = sample(metrics->body, "outpost_disk_free_bytes");
  EXPECT_GT(free_gauge, 0) << metrics->body;
  EXPECT_LT(free_gauge, static_cast<double>(kFloor)) << metrics->body;

  // Reads and staff actions go on.
  auto read = client_->Get("/v1/orders/" + earlier);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200) << read->body;
  auto cancelled = client_->Post("/v1/orders/" + taken_.back() + "/cancel", "", "application/json");
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->status, 202) << cancelled->body;
  auto outbox = client_->Get("/v1/outbox?status=PENDING", admin());
  ASSERT_TRUE(outbox);
  EXPECT_EQ(outbox->status, 200) << outbox->body;

  ASSERT_EQ(std::remove(filler_path_.c_str()), 0) << std::strerror(errno);
  ASSERT_TRUE(eventually([&] { return postStatus() == 201; }, seconds(5), kOrderPoll))
      << node_->logs();
  ASSERT_TRUE(eventually([&] { return diskAlert(health()).is_null(); }, seconds(5)))
      << health().dump();
  EXPECT_EQ(health()["status"], "HEALTHY");

  // No order answered 201 is lost.
  ASSERT_EQ(node_->terminate(), 0);
  SQLite::Database db(mount_point_ + "/outpost.db", SQLite::OPEN_READONLY);
  SQLite::Statement has(db, "SELECT COUNT(*) FROM orders WHERE id = ?");
  for (const auto& id : taken_) {
    has.bind(1, id);
    ASSERT_TRUE(has.executeStep());
    EXPECT_EQ(has.getColumn(0).getInt(), 1) << id;
    has.reset();
  }
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM orders").getInt(), static_cast<int>(taken_.size()));
  EXPECT_GE(taken_.size(), 6u);
}

TEST_F(DiskFloor, TheRelaySendsWhileTheFloorHolds) {
  auto fauxqs = Fauxqs::start(dir_, R"({"queues": [{"name": "orders"}]})");
  ASSERT_NE(fauxqs, nullptr);
  const std::string queue = fauxqs->queueUrl("orders");
  start({{"OUTPOST_EVENTS_ENDPOINT_URL", fauxqs->endpoint()},
         {"OUTPOST_EVENTS_SQS_QUEUE_URL", queue},
         {"AWS_ACCESS_KEY_ID", "test"},
         {"AWS_SECRET_ACCESS_KEY", "test"}});
  ASSERT_EQ(postStatus(), 201);
  ASSERT_FALSE(fauxqs->receiveAtLeast(queue, 1, seconds(10)).empty());

  ASSERT_NO_FATAL_FAILURE(fillBelowTheFloor());
  ASSERT_TRUE(eventually([&] { return postStatus() == 503; }, seconds(5), kOrderPoll));
  // The alert's own ALERT_RAISED event is committed while the floor holds and still sent.
  bool alert_event_sent = false;
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& message : fauxqs->receive(queue)) {
          const auto envelope = json::parse(message.value("Body", ""), nullptr, false);
          if (envelope.value("eventType", "") == "ALERT_RAISED" &&
              envelope["data"].dump().find("DISK_SPACE_LOW") != std::string::npos) {
            alert_event_sent = true;
          }
        }
        return alert_event_sent;
      },
      seconds(10)))
      << node_->logs();
  EXPECT_EQ(postStatus(), 503);
}

}  // namespace
}  // namespace outpost::testing
