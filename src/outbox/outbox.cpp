#include "outbox/outbox.h"

#include "common/text.h"

namespace outpost::outbox {

nlohmann::json makeEnvelope(const std::string& event_id, const NewEvent& event,
                            const EventContext& context) {
  return {{"eventId", event_id},
          {"eventType", event.type},
          {"occurredAt", formatTimestamp(context.now_millis)},
          {"nodeId", context.node_id},
          {"aggregateId", event.aggregate_id},
          {"data", event.data}};
}

std::string appendEvent(store::Connection& connection, const NewEvent& event,
                        const EventContext& context) {
  const std::string event_id = newUuid(context.random);
  auto insert = connection.prepare(
      "INSERT INTO outbox_events (id, event_type, aggregate_id, event_data, status, created_at,"
      " next_attempt_at) VALUES (?, ?, ?, ?, 'PENDING', ?, ?)");
  insert->bind(1, event_id);
  insert->bind(2, event.type);
  insert->bind(3, event.aggregate_id);
  insert->bind(4, makeEnvelope(event_id, event, context).dump());
  insert->bind(5, context.now_millis);
  insert->bind(6, context.now_millis);
  insert->exec();
  return event_id;
}

}  // namespace outpost::outbox
