// The manual review queue's SQL. Functions run on the connection they are given, inside
// the caller's transaction, and throw SQLite::Exception.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/connection.h"

namespace outpost::store {

// Why an order waits for staff; an order has at most one open item of each kind.
inline constexpr const char* kReviewAvailability = "AVAILABILITY";
inline constexpr const char* kReviewDelivery = "DELIVERY";
inline constexpr const char* kReviewReconciliation = "RECONCILIATION";
inline constexpr const char* kReviewCancellation = "CANCELLATION";

// Opens an item of `kind` for the order (or updates the reason of the open one) and sets
// the order's requires_manual_review and review_reason.
void flagForReview(Connection& connection, const std::string& order_id, const std::string& kind,
                   const std::string& reason, std::int64_t now_millis);

// Resolves the open item of `kind`, if any. The order stays flagged while another kind
// is open (its review_reason becomes that item's reason).
void resolveReview(Connection& connection, const std::string& order_id, const std::string& kind,
                   const std::string& resolution, std::int64_t now_millis);

struct ReviewItem {
  std::int64_t id = 0;
  std::string order_id;
  std::string kind;
  std::string reason;
  std::int64_t created_at = 0;
};

struct ReviewFilter {
  int limit = 50;
  std::optional<std::int64_t> after;  // an item id: the page starts after it
};

struct ReviewPage {
  std::vector<ReviewItem> items;
  std::optional<std::int64_t> next;
};

// Open items, oldest first: the queue staff work through.
ReviewPage listOpenReviews(Connection& connection, const ReviewFilter& filter);

// Resolves every open item of the order with `resolution` (APPROVED, CANCELLED) and the
// staff's note; returns how many there were.
int resolveAllReviews(Connection& connection, const std::string& order_id,
                      const std::string& resolution, const std::string& note,
                      std::int64_t now_millis);

}  // namespace outpost::store
