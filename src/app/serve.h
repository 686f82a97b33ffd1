// The composition root: builds every object of a running node, owns them, and tears
// them down in order on SIGTERM/SIGINT.
#pragma once

#include "outpost/config.h"

namespace outpost::app {

// Runs the node until a signal; returns the process exit status.
int serve(const Config& config);

}  // namespace outpost::app
