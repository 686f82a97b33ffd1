// Looking at and handling outbox events, for staff (GET /v1/outbox, POST
// /v1/outbox/{id}/retry, `outpost outbox`) and for retention. Functions run on the
// connection they are given and throw SQLite::Exception.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "outpost/clock.h"
#include "outpost/result.h"
#include "store/connection.h"
#include "store/store.h"

namespace outpost::outbox {

bool isEventStatus(const std::string& status);  // PENDING, SENT, FAILED

struct EventRow {
  std::int64_t seq = 0;
  std::string id;
  std::string event_type;
  std::string aggregate_id;
  std::string status;
  int retry_count = 0;
  std::optional<std::string> last_error;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> sent_at;
  std::int64_t next_attempt_at = 0;
};

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

enum class RequeueResult { kRequeued, kNotFailed, kNotFound };

// Puts a FAILED event back to PENDING, due now, with its retries reset.
RequeueResult requeueFailed(store::Connection& connection, const std::string& event_id,
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

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace outpost::outbox
