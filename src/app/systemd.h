// The node's side of systemd's notify protocol (sd_notify(3)): readiness, stopping and
// watchdog pings, each one datagram to the socket in $NOTIFY_SOCKET. Outside systemd
// (no NOTIFY_SOCKET) every call does nothing. The protocol is one sendto(), so it is
// spoken here rather than through libsystemd. Thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "jobs/background_job.h"
#include "observability/logger.h"

namespace outpost::app {

class SystemdNotifier {
 public:
  // From NOTIFY_SOCKET in `env`: a path, or '@' and an abstract socket's name.
  static SystemdNotifier fromEnvironment(const std::map<std::string, std::string>& env);
  explicit SystemdNotifier(std::string socket_address = "")
      : socket_address_(std::move(socket_address)) {}

  bool enabled() const { return !socket_address_.empty(); }
  // Sends one state, such as "READY=1"; false when disabled or the send failed.
  bool notify(std::string_view state) const;

 private:
  std::string socket_address_;
};

// How often systemd wants a WATCHDOG=1 (WATCHDOG_USEC) when its watchdog is on for this
// process (WATCHDOG_PID unset or `pid`); nullopt otherwise.
std::optional<std::chrono::milliseconds> watchdogInterval(
    const std::map<std::string, std::string>& env, pid_t pid);

// The job that pets systemd's watchdog: a pass sends WATCHDOG=1 only when the store's
// writer thread answers a ping within a quarter of the interval, so a node whose writer
// hangs stops petting and systemd restarts it. Passes run twice per interval, as
// sd_watchdog_enabled(3) advises.
class ServiceWatchdog final : public jobs::BackgroundJob {
 public:
  using WriterResponds = std::function<bool(std::chrono::milliseconds limit)>;

  ServiceWatchdog(std::chrono::milliseconds interval, WriterResponds writer_responds,
                  const SystemdNotifier& notifier, observability::Logger& log);
  std::chrono::milliseconds runPass(const jobs::StopRequested& stop_requested) override;

 private:
  std::chrono::milliseconds interval_;
  WriterResponds writer_responds_;
  const SystemdNotifier& notifier_;
  observability::Logger& log_;
};

}  // namespace outpost::app
