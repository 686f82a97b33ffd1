// The outbox relay's reads and writes (SPEC §4.3). Functions run on the connection they
// are given and throw SQLite::Exception.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/connection.h"

namespace outpost::outbox {

struct DueEvent {
  std::int64_t seq = 0;
  std::string id;
  std::string event_type;
  std::string aggregate_id;
  std::string envelope;  // the message body
  int retry_count = 0;
  int sent_to = 0;  // bit flags of the destinations that accepted it (clients::DestinationKind)
};

// Up to `limit` PENDING events due at `now_millis`, in commit order, at most one per
// order: an order's earliest PENDING event. A later event of the same order waits behind
// it even when due, so events of one order go out in the order they were committed, and
// one that is backing off holds back only its own order.
std::vector<DueEvent> dueEvents(store::Connection& connection, std::int64_t now_millis, int limit);

// When the earliest PENDING event that is not due at `now_millis` becomes due.
std::optional<std::int64_t> nextEventDueAt(store::Connection& connection, std::int64_t now_millis);

// Makes every PENDING event that waits for a later attempt due at `now_millis` (`outpost
// drain`); returns how many were moved.
int bringEventsForward(store::Connection& connection, std::int64_t now_millis);

// Every destination accepted the event.
void markSent(store::Connection& connection, std::int64_t seq, int sent_to,
              std::int64_t now_millis);

// Some destinations accepted it; the others are still to be tried.
void markPartlySent(store::Connection& connection, std::int64_t seq, int sent_to);

// A destination rejected it for good: counts toward max_retries. FAILED (dead letter) when
// `give_up`, else due again at `retry_at_millis`.
void markRejected(store::Connection& connection, std::int64_t seq, int sent_to,
                  const std::string& error, bool give_up, std::int64_t retry_at_millis);

}  // namespace outpost::outbox
