// storage.min_free_bytes (SPEC §11): the DiskFloor's reading, at most once a second, the
// refusal of POST /v1/orders below it, and the DISK_SPACE_LOW alert.
#include "store/disk_floor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "alerts/alert_rules.h"
#include "http/order_gates.h"
#include "observability/metrics.h"
#include "support/fake_clock.h"
#include "support/node_process.h"

namespace outpost::store {
namespace {

using std::chrono::milliseconds;

// A filesystem whose free space the test sets, counting how often it is asked.
struct FakeFilesystem {
  Result<std::uint64_t> free = std::uint64_t{0};
  int reads = 0;
  DiskFloor::FreeSpaceProbe probe() {
    return [this] {
      ++reads;
      return free;
    };
  }
};

class DiskFloorTest : public ::testing::Test {
 protected:
  DiskFloor floorOf(std::uint64_t floor_bytes) {
    return DiskFloor(clock_, floor_bytes, filesystem_.probe());
  }

  FakeClock clock_;
  FakeFilesystem filesystem_;
};

TEST_F(DiskFloorTest, ReadsFreeSpaceAtMostOnceASecond) {
  filesystem_.free = std::uint64_t{5000};
  auto floor = floorOf(1000);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(floor.belowFloor());
  EXPECT_EQ(filesystem_.reads, 1);
  clock_.advance(milliseconds(999));
  EXPECT_FALSE(floor.belowFloor());
  EXPECT_EQ(*floor.reading().free_bytes, 5000u);
  EXPECT_EQ(filesystem_.reads, 1);
  clock_.advance(milliseconds(1));
  EXPECT_FALSE(floor.belowFloor());
  EXPECT_EQ(floor.reading().free_bytes, 5000u);
  EXPECT_EQ(filesystem_.reads, 2);
}

TEST_F(DiskFloorTest, LessThanTheFloorIsRefusedAndExactlyTheFloorIsEnough) {
  auto floor = floorOf(1000);
  filesystem_.free = std::uint64_t{999};
  EXPECT_TRUE(floor.belowFloor());
  clock_.advance(DiskFloor::kReadEvery);
  filesystem_.free = std::uint64_t{1000};
  EXPECT_FALSE(floor.belowFloor());
  clock_.advance(DiskFloor::kReadEvery);
  filesystem_.free = std::uint64_t{1001};
  EXPECT_FALSE(floor.belowFloor());
}

TEST_F(DiskFloorTest, OrdersAreTakenAgainOnceTheNextReadingIsAboveTheFloor) {
  auto floor = floorOf(1000);
  filesystem_.free = std::uint64_t{10};
  EXPECT_TRUE(floor.belowFloor());
  filesystem_.free = std::uint64_t{2000};  // space freed: seen at the next reading
  clock_.advance(milliseconds(999));
  EXPECT_TRUE(floor.belowFloor());
  clock_.advance(milliseconds(1));
  EXPECT_FALSE(floor.belowFloor());
}

TEST_F(DiskFloorTest, AFloorOfZeroIsOffAndNeverReadsForAnOrder) {
  auto floor = floorOf(0);
  filesystem_.free = std::uint64_t{0};
  EXPECT_FALSE(floor.enabled());
  EXPECT_FALSE(floor.belowFloor());
  EXPECT_EQ(filesystem_.reads, 0);
  // /metrics still shows the free space.
  EXPECT_EQ(floor.reading().free_bytes, 0u);
  EXPECT_FALSE(floor.reading().belowFloor());
}

TEST_F(DiskFloorTest, AFilesystemThatCannotBeReadRefusesNothingAndIsReadAgainASecondLater) {
  auto floor = floorOf(1000);
  filesystem_.free = Error::unavailable("statvfs: No such file or directory");
  EXPECT_FALSE(floor.belowFloor());
  EXPECT_FALSE(floor.reading().free_bytes.has_value());
  filesystem_.free = std::uint64_t{10};
  clock_.advance(DiskFloor::kReadEvery);
  EXPECT_TRUE(floor.belowFloor());
  EXPECT_EQ(filesystem_.reads, 2);
}

TEST(DiskFloorProbe, ReadsTheFilesystemHoldingTheDatabase) {
  testing::TempDir dir;
  auto free = DiskFloor::probeFor(dir.file("outpost.db"))();
  ASSERT_TRUE(free) << free.error().message;
  EXPECT_GT(*free, 0u);
  EXPECT_FALSE(DiskFloor::probeFor(dir.file("missing/outpost.db"))());
}

TEST_F(DiskFloorTest, AnOrderBelowTheFloorIsA503DiskSpaceLowProblemWithRetryAfter) {
  auto floor = floorOf(1000);
  filesystem_.free = std::uint64_t{999};
  httplib::Response response;
  ASSERT_TRUE(http::refuseOrderBelowDiskFloor(floor, response));
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.get_header_value("Content-Type"), "application/problem+json");
  EXPECT_EQ(response.get_header_value("Retry-After"), "5");
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["type"], "urn:outpost:problem:disk-space-low");
  EXPECT_EQ(body["status"], 503);
  EXPECT_NE(body["detail"].get<std::string>().find("storage.min_free_bytes"), std::string::npos);
}

TEST_F(DiskFloorTest, AnOrderAtOrAboveTheFloorGoesOnUntouched) {
  auto floor = floorOf(1000);
  filesystem_.free = std::uint64_t{1000};
  httplib::Response response;
  EXPECT_FALSE(http::refuseOrderBelowDiskFloor(floor, response));
  EXPECT_TRUE(response.body.empty());
  EXPECT_FALSE(response.has_header("Retry-After"));
  auto off = floorOf(0);
  filesystem_.free = std::uint64_t{0};
  EXPECT_FALSE(http::refuseOrderBelowDiskFloor(off, response));
  EXPECT_TRUE(response.body.empty());
}

observability::ReliabilityFigures figuresWith(std::optional<std::uint64_t> free,
                                              std::uint64_t floor) {
  observability::ReliabilityFigures figures;
  figures.disk.free_bytes = free;
  figures.disk.floor_bytes = floor;
  return figures;
}

alerts::Condition diskCondition(const observability::ReliabilityFigures& figures) {
  return alerts::evaluate(figures, {}).at(alerts::kDiskSpaceLow);
}

TEST(DiskSpaceLowAlert, HoldsBelowTheFloorWithFreeAndFloorBytes) {
  const auto held = diskCondition(figuresWith(999, 1000));
  EXPECT_TRUE(held.holds);
  EXPECT_EQ(held.details, (nlohmann::json{{"freeBytes", 999}, {"floorBytes", 1000}}));
}

TEST(DiskSpaceLowAlert, ClearsAtTheFloorAndNeverHoldsWithNoFloorOrNoReading) {
  EXPECT_FALSE(diskCondition(figuresWith(1000, 1000)).holds);
  EXPECT_FALSE(diskCondition(figuresWith(1001, 1000)).holds);
  EXPECT_FALSE(diskCondition(figuresWith(0, 0)).holds);
  const auto unread = diskCondition(figuresWith(std::nullopt, 1000));
  EXPECT_FALSE(unread.holds);
  EXPECT_TRUE(unread.details["freeBytes"].is_null());
}

TEST(DiskFreeBytesGauge, ShowsTheLastReadingAndNoSampleWithoutOne) {
  observability::Metrics metrics;
  const auto text = metrics.render(figuresWith(123456789, 1000));
  EXPECT_NE(text.find("# TYPE outpost_disk_free_bytes gauge\n"), std::string::npos);
  EXPECT_NE(text.find("\noutpost_disk_free_bytes 123456789\n"), std::string::npos) << text;
  const auto unread = metrics.render(figuresWith(std::nullopt, 1000));
  EXPECT_EQ(unread.find("\noutpost_disk_free_bytes "), std::string::npos) << unread;
}

}  // namespace
}  // namespace outpost::store
