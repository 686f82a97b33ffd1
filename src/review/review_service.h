// The manual review queue for staff (GET /v1/reviews, POST /v1/reviews/{orderId}/resolve,
// `outpost review`). Resolving closes every open item of the order and is recorded in its
// history with the note, and as a MANUAL_REVIEW_RESOLVED event. "approve": the order
// stands as it is (a delivery initiation that had given up is started again); "cancel":
// the saga compensates, as POST /v1/orders/{id}/cancel. Thread-safe.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "node/context.h"
#include "orders/order.h"
#include "outpost/clock.h"
#include "outpost/result.h"
#include "store/review_records.h"
#include "store/store.h"

namespace outpost::review {

inline constexpr std::size_t kMaxNoteLength = 1000;

enum class ReviewAction { kApprove, kCancel };

// {"orderId", "kind", "reason", "createdAt"}.
nlohmann::json reviewJson(const store::ReviewItem& item);

// The body of a resolve request: {"action": "approve"|"cancel", "note": string?}; every
// bad field is named.
struct Resolution {
  ReviewAction action = ReviewAction::kApprove;
  std::string note;
};
Result<Resolution> parseResolution(const nlohmann::json& body);

struct ReviewHooks {
  // After a resolve "cancel" committed: make a compensation attempt (nullptr: the node's
  // compensation job finds it on its next pass).
  std::function<void(const std::string& order_id)> after_cancel;
  // After an "approve" restarted a delivery initiation.
  std::function<void()> after_redelivery;
};

class ReviewService {
 public:
  ReviewService(const node::Context& node, ReviewHooks hooks)
      : store_(node.store),
        clock_(node.clock),
        random_(node.random),
        node_id_(node.node_id),
        hooks_(std::move(hooks)) {}

  Result<store::ReviewPage> list(const store::ReviewFilter& filter);

  // kNotFound for an unknown order, kConflict when it has no open item or cannot be
  // cancelled any more. `accepted` is true when a cancel is under way (HTTP 202).
  struct Resolved {
    bool accepted = false;
    orders::Order order;
  };
  Result<Resolved> resolve(const std::string& order_id, const Resolution& resolution);

 private:
  store::Store& store_;
  const Clock& clock_;
  Random& random_;
  std::string node_id_;
  ReviewHooks hooks_;
};

}  // namespace outpost::review
