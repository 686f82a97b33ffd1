// OrderService: taking orders and reading them back. An order, its ORDER_CREATED event,
// its durable delivery job and its idempotency record are committed in one transaction
// before the caller hears 201. Thread-safe.
#pragma once

#include <optional>
#include <string>

#include "idempotency/idempotency.h"
#include "orders/order.h"
#include "orders/ulid.h"
#include "outpost/clock.h"
#include "outpost/result.h"
#include "store/store.h"

namespace outpost::orders {

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
  OrderService(store::Store& store, const Clock& clock, Random& random, std::string node_id);

  // kConflict while the same key is in flight; kUnprocessable for a key reused with
  // another body; kUnavailable when the store is unusable.
  Result<CreateResponse> create(const NewOrder& order,
                                const std::optional<IdempotentRequest>& idempotency);
  Result<Order> get(const std::string& id);
  Result<OrderPage> list(const OrderFilter& filter);

 private:
  Order buildOrder(const NewOrder& request, std::int64_t now);
  Result<std::optional<CreateResponse>> replayIfSeen(const IdempotentRequest& idempotency,
                                                     std::int64_t now);
  Status commitOrder(const Order& order, const CreateResponse& response,
                     const std::optional<IdempotentRequest>& idempotency, std::int64_t now);

  store::Store& store_;
  const Clock& clock_;
  Random& random_;
  std::string node_id_;
  UlidGenerator ids_;
  idempotency::InFlightKeys in_flight_;
};

}  // namespace outpost::orders
