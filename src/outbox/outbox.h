// The transactional outbox: events are appended inside the transaction of the state
// change they describe (SPEC §4.3), with the envelope consumers receive.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "outpost/clock.h"
#include "store/connection.h"

namespace outpost::outbox {

struct NewEvent {
  std::string type;          // ORDER_CREATED, DELIVERY_INITIATED, ...
  std::string aggregate_id;  // the order id: events of one aggregate keep commit order
  nlohmann::json data;
};

// Who is writing the event and when; shared by every event of one transaction.
struct EventContext {
  const std::string& node_id;
  std::int64_t now_millis;
  Random& random;
};

// {"eventId", "eventType", "occurredAt", "nodeId", "aggregateId", "data"}.
nlohmann::json makeEnvelope(const std::string& event_id, const NewEvent& event,
                            const EventContext& context);

// Appends a PENDING event, due at once; returns its event id. Throws SQLite::Exception.
std::string appendEvent(store::Connection& connection, const NewEvent& event,
                        const EventContext& context);

}  // namespace outpost::outbox
