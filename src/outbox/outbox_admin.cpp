#include "outbox/outbox_admin.h"

#include "common/text.h"

namespace outpost::outbox {
namespace {

using nlohmann::json;

// The columns readEvent reads, in its order.
constexpr const char* kEventColumns =
    "seq, id, event_type, aggregate_id, status, retry_count, last_error, created_at, sent_at,"
    " next_attempt_at";

// Both re-queues share it: back to PENDING, due now (?1), retries reset.
constexpr const char* kRequeueFailed =
    "UPDATE outbox_events SET status = 'PENDING', retry_count = 0, next_attempt_at = ?1"
    " WHERE status = 'FAILED'";

EventRow readEvent(SQLite::Statement& row) {
  EventRow event;
  event.seq = row.getColumn(0).getInt64();
  event.id = row.getColumn(1).getString();
  event.event_type = row.getColumn(2).getString();
  event.aggregate_id = row.getColumn(3).getString();
  event.status = row.getColumn(4).getString();
  event.retry_count = row.getColumn(5).getInt();
  if (!row.getColumn(6).isNull()) event.last_error = row.getColumn(6).getString();
  event.created_at = row.getColumn(7).getInt64();
  if (!row.getColumn(8).isNull()) event.sent_at = row.getColumn(8).getInt64();
  event.next_attempt_at = row.getColumn(9).getInt64();
  return event;
}

}  // namespace

bool isEventStatus(const std::string& status) {
  return status == "PENDING" || status == "SENT" || status == "FAILED";
}

EventPage listEvents(store::Connection& connection, const EventFilter& filter) {
  EventPage page;
  // One statement for every filter: NULL parameters switch a condition off.
  static const std::string sql =
      std::string("SELECT ") + kEventColumns +
      " FROM outbox_events WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR seq < ?2)"
      " ORDER BY seq DESC LIMIT ?3";
  {
    auto query = connection.prepare(sql.c_str());
    if (filter.status) query->bind(1, *filter.status);
    if (filter.after) query->bind(2, *filter.after);
    query->bind(3, filter.limit + 1);  // one more than asked tells whether a next page exists
    while (query->executeStep()) page.items.push_back(readEvent(*query));
  }
  if (page.items.size() > static_cast<std::size_t>(filter.limit)) {
    page.items.pop_back();
    page.next = page.items.back().seq;
  }
  return page;
}

json trailEventJson(const EventRow& event) {
  return {{"id", event.id},
          {"eventType", event.event_type},
          {"status", event.status},
          {"retryCount", event.retry_count},
          {"lastError", event.last_error ? json(*event.last_error) : json(nullptr)},
          {"createdAt", formatTimestamp(event.created_at)},
          {"sentAt", event.sent_at ? json(formatTimestamp(*event.sent_at)) : json(nullptr)}};
}

json eventJson(const EventRow& event) {
  json out = trailEventJson(event);
  out["aggregateId"] = event.aggregate_id;
  out["nextAttemptAt"] =
      event.status == "PENDING" ? json(formatTimestamp(event.next_attempt_at)) : json(nullptr);
  return out;
}

std::vector<EventRow> listAggregateEvents(store::Connection& connection,
                                          const std::string& aggregate_id) {
  // outbox_by_aggregate (aggregate_id, seq) finds the rows already in commit order.
  static const std::string sql = std::string("SELECT ") + kEventColumns +
                                 " FROM outbox_events WHERE aggregate_id = ? ORDER BY seq";
  auto query = connection.prepare(sql.c_str());
  query->bind(1, aggregate_id);
  std::vector<EventRow> events;
  while (query->executeStep()) events.push_back(readEvent(*query));
  return events;
}

RequeueResult requeueFailed(store::Connection& connection, const std::string& event_id,
                            std::int64_t now_millis) {
  static const std::string sql = std::string(kRequeueFailed) + " AND id = ?2";
  {
    auto requeue = connection.prepare(sql.c_str());
    requeue->bind(1, now_millis);
    requeue->bind(2, event_id);
    if (requeue->exec() == 1) return RequeueResult::kRequeued;
  }
  auto exists = connection.prepare("SELECT 1 FROM outbox_events WHERE id = ?");
  exists->bind(1, event_id);
  return exists->executeStep() ? RequeueResult::kNotFailed : RequeueResult::kNotFound;
}

Result<FailedEventFilter> parseFailedEventFilter(const json& body) {
  if (!body.is_object()) return Error::invalidFields({{"body", "must be a JSON object"}});
  std::vector<FieldError> errors;
  FailedEventFilter filter;
  for (const auto& [key, value] : body.items()) {
    std::optional<std::string>* field = key == "eventType"     ? &filter.event_type
                                        : key == "aggregateId" ? &filter.aggregate_id
                                                               : nullptr;
    if (field == nullptr) {
      errors.push_back({key, "unknown field"});
    } else if (value.is_null()) {
      continue;
    } else if (!value.is_string() || value.get_ref<const std::string&>().empty() ||
               utf8Length(value.get_ref<const std::string&>()) > kMaxFilterLength) {
      errors.push_back(
          {key, "must be a string of 1 to " + std::to_string(kMaxFilterLength) + " characters"});
    } else {
      *field = value.get<std::string>();
    }
  }
  if (!errors.empty()) return Error::invalidFields(std::move(errors));
  return filter;
}

int requeueAllFailed(store::Connection& connection, const FailedEventFilter& filter,
                     std::int64_t now_millis) {
  // outbox_by_status (status, seq) finds the FAILED events; NULL filters match all.
  static const std::string sql = std::string(kRequeueFailed) +
                                 " AND (?2 IS NULL OR event_type = ?2)"
                                 " AND (?3 IS NULL OR aggregate_id = ?3)";
  auto requeue = connection.prepare(sql.c_str());
  requeue->bind(1, now_millis);
  if (filter.event_type) requeue->bind(2, *filter.event_type);
  if (filter.aggregate_id) requeue->bind(3, *filter.aggregate_id);
  return requeue->exec();
}

int pruneSentEvents(store::Connection& connection, std::int64_t sent_before_millis, int limit) {
  auto prune = connection.prepare(
      "DELETE FROM outbox_events WHERE seq IN (SELECT seq FROM outbox_events"
      " WHERE status = 'SENT' AND sent_at < ? ORDER BY seq LIMIT ?)");
  prune->bind(1, sent_before_millis);
  prune->bind(2, limit);
  return prune->exec();
}

Result<EventPage> OutboxAdmin::list(const EventFilter& filter) {
  return store_.read([&](store::Connection& c) { return listEvents(c, filter); });
}

Status OutboxAdmin::retry(const std::string& event_id) {
  RequeueResult result = RequeueResult::kNotFound;
  auto written = store_.write([&](store::Connection& c) {
    result = requeueFailed(c, event_id, clock_.wallMillis());
    return okStatus();
  });
  if (!written) return written.error();
  switch (result) {
    case RequeueResult::kRequeued:
      return okStatus();
    case RequeueResult::kNotFailed:
      return Error::conflict("event " + event_id +
                             " is not FAILED; only FAILED events are retried");
    case RequeueResult::kNotFound:
      break;
  }
  return Error::notFound("no outbox event with id " + event_id);
}

Result<int> OutboxAdmin::retryAllFailed(const FailedEventFilter& filter) {
  int requeued = 0;
  auto written = store_.write([&](store::Connection& c) {
    requeued = requeueAllFailed(c, filter, clock_.wallMillis());
    return okStatus();
  });
  if (!written) return written.error();
  return requeued;
}

}  // namespace outpost::outbox
