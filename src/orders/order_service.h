// OrderService: taking orders and reading them back. An order, its ORDER_CREATED event,
// its durable delivery job and its idempotency record are committed in one transaction
// before the caller hears 201. Thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "idempotency/idempotency.h"
#include "node/context.h"
#include "orders/availability.h"
#include "orders/order.h"
#include "orders/ulid.h"
#include "outpost/clock.h"
#include "outpost/result.h"
#include "store/store.h"

namespace outpost::orders {

struct AvailabilityPolicy {
  bool reject_unavailable = true;            // checkout.reject_unavailable
  std::int64_t recheck_interval_ms = 60000;  // product_service.recheck_interval_ms
  // Called once an order taken on the fallback has committed its re-check job, so the
  // sleeping re-check pass learns of it.
  std::function<void()> wake_recheck;
};

struct IdempotentRequest {
  std::string key;
  std::string request_hash;  // of the request body in canonical form
};

// What the client is answered: a fresh creation or the replay of the first answer.
struct CreateResponse {
  int status = 201;
  std::string body;
  std::string order_id;
  bool replayed = false;
};

class OrderService {
 public:
  // Called once an order is committed, before the caller is answered: the one delivery
  // attempt of SPEC §4.1. Returns the delivery id when delivery was initiated.
  using AfterCommit = std::function<std::optional<std::string>(const std::string& order_id)>;

  explicit OrderService(const node::Context& node);

  // Before the first create() only. The order's delivery job is due for the background
  // pass only `attempt_window_ms` after the commit, so that pass never races the attempt
  // after commit for the same job (the attempt's answer would then lack the delivery id);
  // after a crash the job is just that much later.
  void setAfterCommit(AfterCommit after_commit, std::int64_t attempt_window_ms) {
    after_commit_ = std::move(after_commit);
    attempt_window_ms_ = attempt_window_ms;
  }
  // nullptr: no product service configured, no check and no flag (zero infrastructure).
  void setAvailability(AvailabilityChecker* checker, AvailabilityPolicy policy) {
    availability_ = checker;
    availability_policy_ = policy;
  }

  // kConflict while the same key is in flight or for unavailable products (fields name
  // them); kUnprocessable for a key reused with another body; kUnavailable when the
  // store is unusable.
  Result<CreateResponse> create(const NewOrder& order,
                                const std::optional<IdempotentRequest>& idempotency);
  Result<Order> get(const std::string& id);
  Result<OrderPage> list(const OrderFilter& filter);

 private:
  Order buildOrder(const NewOrder& request, const AvailabilityVerdict& verdict, std::int64_t now);
  Result<std::optional<CreateResponse>> replayIfSeen(const IdempotentRequest& idempotency,
                                                     std::int64_t now);
  Status commitOrder(const Order& order, const AvailabilityVerdict& verdict,
                     const CreateResponse& response,
                     const std::optional<IdempotentRequest>& idempotency, std::int64_t now);

  store::Store& store_;
  const Clock& clock_;
  Random& random_;
  std::string node_id_;
  UlidGenerator ids_;
  idempotency::InFlightKeys in_flight_;
  AfterCommit after_commit_;
  std::int64_t attempt_window_ms_ = 0;
  AvailabilityChecker* availability_ = nullptr;
  AvailabilityPolicy availability_policy_;
};

}  // namespace outpost::orders
