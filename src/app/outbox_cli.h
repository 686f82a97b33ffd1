// `outpost outbox list|retry [--all-failed]`: the outbox straight from the database file, for an
// operator on the box, whether or not the node is running.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "outpost/config.h"

namespace outpost::app {

inline constexpr const char* kOutboxHelp = R"(Usage:
  outpost outbox list [--status PENDING|SENT|FAILED] [--limit N] [--json] [--config FILE]
  outpost outbox retry EVENT_ID [--config FILE]
  outpost outbox retry --all-failed [--event-type TYPE] [--config FILE]

list shows the newest events first (50 by default, at most 500): id, type, order, status,
retries and last error; --json prints the API's JSON instead. retry puts a FAILED event
back to PENDING with its retries reset, so the relay sends it again. --all-failed does
that for every FAILED event (only those of type TYPE with --event-type) in one
transaction, e.g. once a destination that rejected events has been fixed, and prints how
many it re-queued.
)";

int runOutboxCommand(const Config& config, const std::vector<std::string>& positional,
                     const std::map<std::string, std::string>& options);

}  // namespace outpost::app
