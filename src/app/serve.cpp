#include "app/serve.h"

#include <pthread.h>
#include <signal.h>

#include "app/node.h"

namespace outpost::app {
namespace {

sigset_t shutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);  // sent to ourselves when serving ends without a signal
  return set;
}

}  // namespace

int serve(const Config& config) {
  // Blocked before any thread starts, so every thread inherits the mask and only the
  // node's signal thread ever sees these signals.
  const sigset_t signals = shutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // A file-size limit must make writes fail (and the database answer 503), not kill us.
  signal(SIGXFSZ, SIG_IGN);
  auto node = Node::create(config);
  // A bad TLS file is the operator's configuration, like any other config error.
  if (!node) return node.error().kind == ErrorKind::kInvalidArgument ? 2 : 1;
  return (*node)->run(signals);
}

}  // namespace outpost::app
