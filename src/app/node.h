// Node: the composition root of a running node. It makes the shared services (clock,
// randomness, log, metrics, the job runner, the store: node::Context), builds every part
// on them in dependency order, wires their reactions to each other (which job a commit or
// a recovered breaker wakes), serves HTTP until SIGTERM or SIGINT, and tears it all down
// in order. One per process; run() from the main thread.
#pragma once

#include <signal.h>

#include <chrono>
#include <memory>
#include <optional>

#include "app/systemd.h"
#include "http/tls.h"
#include "jobs/drain.h"
#include "jobs/job_runner.h"
#include "observability/logger.h"
#include "observability/metrics.h"
#include "outpost/clock.h"
#include "outpost/config.h"
#include "outpost/result.h"

namespace outpost::app {

class Node {
 public:
  // Loads the TLS certificate when one is configured, opens the store (migrating it) and
  // builds every part; an error when either fails (kInvalidArgument: a bad TLS file).
  static Result<std::unique_ptr<Node>> create(const Config& config);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Binds the listening socket, starts the jobs and serves until one of `signals` (blocked
  // in every thread by the caller) arrives; then stops the server, the jobs and the
  // store, in that order. Returns the process exit status.
  int run(const sigset_t& signals);

 private:
  struct Parts;  // everything built on the store: node.cpp

  explicit Node(const Config& config);

  const Config& config_;
  SystemClock clock_;
  SystemRandom random_;
  observability::Logger log_;
  // Before the store: its writer thread wakes the runner until the store has shut down.
  observability::Metrics metrics_;
  jobs::JobRunner runner_;
  // Before the store too: every commit tells it that some work may be done.
  jobs::Drain drain_;
  std::shared_ptr<const http::TlsContext> tls_;  // none: plain HTTP
  SystemdNotifier notifier_;                     // disabled outside systemd
  std::optional<std::chrono::milliseconds> watchdog_interval_;
  std::unique_ptr<Parts> parts_;
};

}  // namespace outpost::app
