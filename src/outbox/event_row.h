// One outbox event as staff see it (GET /v1/outbox, an order's trail). Plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace outpost::outbox {

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

}  // namespace outpost::outbox
