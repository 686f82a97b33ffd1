// node::Context: the services every part of the node shares: the store, the clock,
// randomness, the log, the metrics and the node's name (carried on every event). Each
// part is given this one context instead of its own list of the same things; the
// composition root (app/node.h) makes it, and it outlives every part. Plain references:
// safe to share between threads as far as each service is.
#pragma once

#include <string>

#include "observability/logger.h"
#include "observability/metrics.h"
#include "outpost/clock.h"
#include "store/store.h"

namespace outpost::node {

struct Context {
  store::Store& store;
  const Clock& clock;
  Random& random;
  observability::Logger& log;
  observability::Metrics& metrics;
  std::string node_id;
};

}  // namespace outpost::node
