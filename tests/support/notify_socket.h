// A test's stand-in for systemd's end of the notify protocol: a datagram socket bound at
// a path, as systemd binds the one it names in NOTIFY_SOCKET.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace outpost::testing {

class NotifySocket {
 public:
  // Binds a socket at `path` (which must not exist yet); fails the test if it cannot.
  explicit NotifySocket(std::string path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& path() const { return path_; }
  // The next datagram, waiting at most `limit` for one; nullopt when none came.
  std::optional<std::string> receive(std::chrono::milliseconds limit);
  // Datagrams until one holds `state` (e.g. "READY=1"), all within `limit`; the ones
  // before it are dropped. False when it did not come in time.
  bool awaitState(const std::string& state, std::chrono::milliseconds limit);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace outpost::testing
