#include "app/systemd.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

namespace outpost::app {
namespace {

std::optional<std::string> lookup(const std::map<std::string, std::string>& env,
                                  const std::string& name) {
  auto found = env.find(name);
  if (found == env.end() || found->second.empty()) return std::nullopt;
  return found->second;
}

std::optional<long long> positiveNumber(const std::string& text) {
  long long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

}  // namespace

SystemdNotifier SystemdNotifier::fromEnvironment(const std::map<std::string, std::string>& env) {
  return SystemdNotifier(lookup(env, "NOTIFY_SOCKET").value_or(""));
}

bool SystemdNotifier::notify(std::string_view state) const {
  sockaddr_un address{};
  if (!enabled() || socket_address_.size() >= sizeof address.sun_path) return false;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_address_.data(), socket_address_.size());
  // '@' names a socket in the abstract namespace, whose address starts with a NUL.
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';
  const auto length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_address_.size());
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                              reinterpret_cast<const sockaddr*>(&address), length);
  close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

std::optional<std::chrono::milliseconds> watchdogInterval(
    const std::map<std::string, std::string>& env, pid_t pid) {
  auto usec = lookup(env, "WATCHDOG_USEC");
  if (!usec) return std::nullopt;
  if (auto owner = lookup(env, "WATCHDOG_PID")) {
    auto owner_pid = positiveNumber(*owner);
    if (!owner_pid || *owner_pid != pid) return std::nullopt;
  }
  auto micros = positiveNumber(*usec);
  if (!micros) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::microseconds(*micros));
}

ServiceWatchdog::ServiceWatchdog(std::chrono::milliseconds interval, WriterResponds writer_responds,
                                 const SystemdNotifier& notifier, observability::Logger& log)
    : interval_(std::max(interval, std::chrono::milliseconds(4))),
      writer_responds_(std::move(writer_responds)),
      notifier_(notifier),
      log_(log) {}

std::chrono::milliseconds ServiceWatchdog::runPass(const jobs::StopRequested&) {
  const auto limit = interval_ / 4;
  if (writer_responds_(limit)) {
    notifier_.notify("WATCHDOG=1");
  } else {
    log_.error("the database writer did not answer: not telling systemd the node is alive",
               {{"waitedMs", limit.count()}});
  }
  return interval_ / 2;
}

}  // namespace outpost::app
