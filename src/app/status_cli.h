// `outpost status`: GET /health's figures straight from the database file, for an operator
// on the box when the server is down (or to compare with a running node's view).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "outpost/config.h"

namespace outpost::app {

inline constexpr const char* kStatusHelp = R"(Usage: outpost status [--json] [--config FILE]

Prints the node's health figures as the database file has them: the circuit breakers'
last stored states (the database breaker is never stored and always shows CLOSED; a
file that cannot be read makes the status UNAVAILABLE), outbox events pending, failed
events, the manual review queue, the last reconciliation run and the alerts active at
the node's last check (with their details as raised). --json prints the same object as
GET /health. Reads only; works whether or not the node is running. Exit status: 0
HEALTHY or DEGRADED, 1 when the file cannot be read (UNAVAILABLE) or is not migrated
yet, 2 bad usage.

Also: how long the oldest pending event has waited (whole seconds since its commit, by
this machine's clock; 0 when none waits).
)";

int runStatusCommand(const Config& config, const std::vector<std::string>& positional,
                     const std::map<std::string, std::string>& options);

}  // namespace outpost::app
