// `outpost drain [--timeout-ms N] [--resume]`: before a box is switched off (SPEC §10),
// asks the running node over its HTTP API to stop taking orders and to forward its
// waiting work now, and reports what is left.
#pragma once

#include <map>
#include <string>

#include "outpost/config.h"

namespace outpost::app {

inline constexpr const char* kDrainHelp =
    R"(Usage: outpost drain [--config FILE] [--timeout-ms N] [--resume]

Run before a box is switched off. Asks the running node (at listen, with admin_token
when set; over HTTPS trusting tls.cert_file when TLS is on) to stop taking orders
(POST /v1/orders then answers 503, type urn:outpost:problem:draining) and to forward
every waiting event and delivery initiation now, without waiting out their backoff; an
open circuit breaker gets its trial at once. On a terminal the counts are shown as they
fall. Then prints "drained: 0 events, 0 deliveries pending" and exits 0, or the counts
left after --timeout-ms (default 60000) and exits 1.

The node keeps refusing orders (reads, /health and staff actions work) until it stops
or until `outpost drain --resume`, which makes it take orders again. A restarted node
takes orders whatever it did before.
Exit status: 0 drained (or resumed), 1 not drained, no node answering or refused, 2 bad
usage.
)";

// `options` are those cli.cpp lets through: --timeout-ms N, --resume.
int runDrainCommand(const Config& config, const std::map<std::string, std::string>& options);

}  // namespace outpost::app
