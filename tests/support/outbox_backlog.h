// Test and bench support: a backlog of PENDING outbox events written straight into a
// node's database file (created and migrated if needed) while no node runs, and counts
// read back from it.
#pragma once

#include <string>
#include <vector>

namespace outpost::testing {

// `orders` aggregates with `events_per_order` events each, committed order after order
// (so events of one order are interleaved with none other); returns the event ids in
// commit order. Fails the test and returns what it wrote if the database cannot be used.
std::vector<std::string> fillOutbox(const std::string& database, int orders, int events_per_order);

// SELECT COUNT(*) FROM outbox_events [WHERE status = ?], read-only; -1 on error.
int countEvents(const std::string& database, const std::string& status = "");

// Events of `type` for one order, read-only; -1 on error.
int countOrderEvents(const std::string& database, const std::string& order_id,
                     const std::string& type);

}  // namespace outpost::testing
