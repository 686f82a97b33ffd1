// Looking at and handling outbox events, for staff (GET /v1/outbox, POST
// /v1/outbox/{id}/retry and /v1/outbox/retry-failed, `outpost outbox`, an order's
// forwarding trail) and for retention. Functions run on the connection they are given
// and throw SQLite::Exception.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "outbox/event_row.h"
#include "outpost/clock.h"
#include "outpost/result.h"
#include "store/connection.h"
#include "store/store.h"

namespace outpost::outbox {

bool isEventStatus(const std::string& status);  // PENDING, SENT, FAILED

struct EventFilter {
  std::optional<std::string> status;
  int limit = 50;
  std::optional<std::int64_t> after;  // a seq: the page starts below it
};

struct EventPage {
  std::vector<EventRow> items;
  std::optional<std::int64_t> next;  // the cursor of the following page
};

// Newest first.
EventPage listEvents(store::Connection& connection, const EventFilter& filter);

// {"id", "eventType", "aggregateId", "status", "retryCount", "lastError", "createdAt",
// "sentAt", "nextAttemptAt"} (SPEC §3).
nlohmann::json eventJson(const EventRow& event);

// The events of one aggregate (an order) still in the outbox, in commit order: the
// forwarding trail of SPEC §11. SENT events pruned by retention are no longer there.
std::vector<EventRow> listAggregateEvents(store::Connection& connection,
                                          const std::string& aggregate_id);

// {"id", "eventType", "status", "createdAt", "sentAt", "retryCount", "lastError"}: an
// event in an order's trail, the fields eventJson shares, in the same formats.
nlohmann::json trailEventJson(const EventRow& event);

enum class RequeueResult { kRequeued, kNotFailed, kNotFound };

// Puts a FAILED event back to PENDING, due now, with its retries reset.
RequeueResult requeueFailed(store::Connection& connection, const std::string& event_id,
                            std::int64_t now_millis);

// Which FAILED events a bulk re-drive takes; an unset field matches every event.
struct FailedEventFilter {
  std::optional<std::string> event_type;
  std::optional<std::string> aggregate_id;
};

inline constexpr std::size_t kMaxFilterLength = 128;

// The body of POST /v1/outbox/retry-failed: a JSON object with the optional strings
// "eventType" and "aggregateId" (1-128 characters); kInvalidArgument naming every bad
// field, unknown fields included.
Result<FailedEventFilter> parseFailedEventFilter(const nlohmann::json& body);

// requeueFailed for every FAILED event the filter matches, in the caller's transaction.
// Returns how many were re-queued.
int requeueAllFailed(store::Connection& connection, const FailedEventFilter& filter,
                     std::int64_t now_millis);

// Deletes up to `limit` SENT events sent before `sent_before_millis`; FAILED and PENDING
// events are never pruned. Returns how many went.
int pruneSentEvents(store::Connection& connection, std::int64_t sent_before_millis, int limit);

// The same for callers holding a Store: errors are values (kNotFound for an unknown id,
// kConflict for an event that is not FAILED). Thread-safe.
class OutboxAdmin {
 public:
  OutboxAdmin(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}
  Result<EventPage> list(const EventFilter& filter);
  Status retry(const std::string& event_id);
  // Every matching FAILED event, in one transaction; how many were re-queued.
  Result<int> retryAllFailed(const FailedEventFilter& filter);

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace outpost::outbox
