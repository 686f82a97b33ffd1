// A node that a soak kills with SIGKILL and restarts on the same file while its clients keep
// using it (bench/fault_soak.cpp, bench/kill_soak.cpp).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "support/node_process.h"

namespace outpost::testing {

class LiveNode {
 public:
  // Starts the node in `dir` (a test failure, and up() false, if it does not start).
  LiveNode(const TempDir& dir, std::map<std::string, std::string> env);

  bool up();
  // The port it listens on now, 0 while it is down; a restart picks a new one, and clients
  // asking meanwhile wait for it.
  int port();
  std::string database();
  std::string logs();
  // SIGKILL to the process it started, then a new process on the same file; false (and the
  // node down) if that one does not start.
  bool killAndRestart();
  // SIGTERM, waiting up to `limit`: the exit status, or -1 (then it is killed) if it did not
  // exit in time or was down.
  int terminate(std::chrono::milliseconds limit = std::chrono::seconds(10));

 private:
  const TempDir& dir_;
  std::map<std::string, std::string> env_;
  std::mutex mutex_;
  std::unique_ptr<NodeProcess> process_;
};

}  // namespace outpost::testing
