// outpost serve: the process around the node (app/node.h): signals blocked for every
// thread, SIGPIPE and SIGXFSZ ignored, then the node runs until SIGTERM or SIGINT.
#pragma once

#include "outpost/config.h"

namespace outpost::app {

// Runs the node until a signal; returns the process exit status.
int serve(const Config& config);

}  // namespace outpost::app
