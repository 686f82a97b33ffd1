// The manual review queue's SQL. Functions run on the connection they are given, inside
// the caller's transaction, and throw SQLite::Exception.
#pragma once

#include <cstdint>
#include <string>

#include "store/connection.h"

namespace outpost::review {

// Why an order waits for staff; an order has at most one open item of each kind.
inline constexpr const char* kAvailability = "AVAILABILITY";
inline constexpr const char* kDelivery = "DELIVERY";

// Opens an item of `kind` for the order (or updates the reason of the open one) and sets
// the order's requires_manual_review and review_reason.
void flagForReview(store::Connection& connection, const std::string& order_id,
                   const std::string& kind, const std::string& reason, std::int64_t now_millis);

// Resolves the open item of `kind`, if any. The order stays flagged while another kind
// is open (its review_reason becomes that item's reason).
void resolveReview(store::Connection& connection, const std::string& order_id,
                   const std::string& kind, const std::string& resolution, std::int64_t now_millis);

}  // namespace outpost::review
