// `outpost review list|resolve`: the manual review queue straight from the database file,
// for an operator on the box, whether or not the node is running.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "outpost/config.h"

namespace outpost::app {

inline constexpr const char* kReviewHelp = R"(Usage:
  outpost review list [--limit N] [--json] [--config FILE]
  outpost review resolve ORDER_ID --action approve|cancel [--note TEXT] [--config FILE]

list shows the open manual review items, oldest first (50 by default, at most 500): order,
kind, since when and why; --json prints the API's JSON instead.
resolve closes every open item of the order, recorded in its history with the note.
approve: the order stands as it is (a delivery initiation that had given up starts again).
cancel: the order is cancelled through the saga's compensation; a running node cancels
its delivery on its next compensation pass (within a minute), then the order.
)";

int runReviewCommand(const Config& config, const std::vector<std::string>& positional,
                     const std::map<std::string, std::string>& options);

}  // namespace outpost::app
