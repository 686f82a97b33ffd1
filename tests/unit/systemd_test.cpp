// The notify protocol as systemd reads it: one datagram per state, to a path or an
// abstract socket; the watchdog interval only for the process systemd named; the watchdog
// job pets only while the writer answers.
#include "app/systemd.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstring>

#include "support/fake_clock.h"
#include "support/node_process.h"
#include "support/notify_socket.h"

namespace outpost::app {
namespace {

using namespace std::chrono_literals;
using testing::NotifySocket;

TEST(SystemdNotifier, SendsEachStateAsOneDatagramToTheNamedSocket) {
  testing::TempDir dir;
  NotifySocket systemd(dir.file("notify"));
  const auto notifier = SystemdNotifier::fromEnvironment({{"NOTIFY_SOCKET", systemd.path()}});
  ASSERT_TRUE(notifier.enabled());
  EXPECT_TRUE(notifier.notify("READY=1"));
  EXPECT_TRUE(notifier.notify("STOPPING=1"));
  EXPECT_EQ(systemd.receive(1s), "READY=1");
  EXPECT_EQ(systemd.receive(1s), "STOPPING=1");
}

TEST(SystemdNotifier, OutsideSystemdDoesNothing) {
  const auto notifier = SystemdNotifier::fromEnvironment({{"HOME", "/root"}});
  EXPECT_FALSE(notifier.enabled());
  EXPECT_FALSE(notifier.notify("READY=1"));
}

TEST(SystemdNotifier, ReportsASocketNobodyListensOn) {
  testing::TempDir dir;
  EXPECT_FALSE(SystemdNotifier(dir.file("nobody")).notify("READY=1"));
}

TEST(SystemdNotifier, ReachesAnAbstractSocket) {
  const std::string name = "outpost-test-" + std::to_string(getpid());
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&address), length), 0);
  EXPECT_TRUE(SystemdNotifier("@" + name).notify("WATCHDOG=1"));
  char buffer[64] = {};
  EXPECT_EQ(recv(fd, buffer, sizeof buffer, MSG_DONTWAIT), 10);
  EXPECT_STREQ(buffer, "WATCHDOG=1");
  close(fd);
}

TEST(WatchdogInterval, IsSetOnlyForTheProcessSystemdNamed) {
  const pid_t self = 4242;
  EXPECT_EQ(watchdogInterval({{"WATCHDOG_USEC", "30000000"}}, self), 30s);
  EXPECT_EQ(watchdogInterval({{"WATCHDOG_USEC", "30000000"}, {"WATCHDOG_PID", "4242"}}, self), 30s);
  EXPECT_EQ(watchdogInterval({{"WATCHDOG_USEC", "30000000"}, {"WATCHDOG_PID", "4243"}}, self),
            std::nullopt);
  EXPECT_EQ(watchdogInterval({}, self), std::nullopt);
  EXPECT_EQ(watchdogInterval({{"WATCHDOG_USEC", "0"}}, self), std::nullopt);
  EXPECT_EQ(watchdogInterval({{"WATCHDOG_USEC", "soon"}}, self), std::nullopt);
}

class ServiceWatchdogTest : public ::testing::Test {
 protected:
  testing::TempDir dir;
  NotifySocket systemd{dir.file("notify")};
  SystemdNotifier notifier{systemd.path()};
  FakeClock clock;
  std::FILE* log_sink = std::tmpfile();
  observability::Logger log{clock, log_sink};
  std::chrono::milliseconds asked_limit{0};
  bool writer_answers = true;
  ServiceWatchdog watchdog{20s,
                           [this](std::chrono::milliseconds limit) {
                             asked_limit = limit;
                             return writer_answers;
                           },
                           notifier, log};

  ~ServiceWatchdogTest() override { std::fclose(log_sink); }
};

TEST_F(ServiceWatchdogTest, PetsWhileTheWriterAnswersTwicePerInterval) {
  EXPECT_EQ(watchdog.runPass([] { return false; }), 10s);
  EXPECT_EQ(asked_limit, 5s);
  EXPECT_EQ(systemd.receive(1s), "WATCHDOG=1");
}

TEST_F(ServiceWatchdogTest, StaysSilentWhenTheWriterDoesNotAnswer) {
  writer_answers = false;
  EXPECT_EQ(watchdog.runPass([] { return false; }), 10s);
  // The send is synchronous: had the pass sent anything, it would be waiting already.
  EXPECT_EQ(systemd.receive(0ms), std::nullopt);
}

}  // namespace
}  // namespace outpost::app
