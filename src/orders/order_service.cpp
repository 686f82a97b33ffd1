#include "orders/order_service.h"

#include "jobs/job_store.h"
#include "orders/order_json.h"
#include "orders/order_repository.h"
#include "outbox/outbox.h"

namespace outpost::orders {

using nlohmann::json;

OrderService::OrderService(store::Store& store, const Clock& clock, Random& random,
                           std::string node_id)
    : store_(store),
      clock_(clock),
      random_(random),
      node_id_(std::move(node_id)),
      ids_(clock, random) {}

Result<CreateResponse> OrderService::create(const NewOrder& request,
                                            const std::optional<IdempotentRequest>& idempotency) {
  std::optional<idempotency::KeyClaim> claim;
  const std::int64_t now = clock_.wallMillis();
  if (idempotency) {
    if (!in_flight_.tryClaim(idempotency->key)) {
      return Error::conflict("a request with this Idempotency-Key is still being processed");
    }
    claim.emplace(in_flight_, idempotency->key);
    auto replay = replayIfSeen(*idempotency, now);
    if (!replay) return replay.error();
    if (*replay) return std::move(**replay);
  }
  const Order order = buildOrder(request, now);
  CreateResponse response{201, orderSummaryJson(order).dump(), order.id, false};
  auto committed = commitOrder(order, response, idempotency, now);
  if (!committed) return committed.error();
  return response;
}

Result<std::optional<CreateResponse>> OrderService::replayIfSeen(
    const IdempotentRequest& idempotency, std::int64_t now) {
  auto stored = store_.read([&](store::Connection& connection) {
    return idempotency::findResponse(connection, idempotency.key,
                                     now - idempotency::kReplayWindowMillis);
  });
  if (!stored) return stored.error();
  if (!*stored) return std::optional<CreateResponse>();
  if ((*stored)->request_hash != idempotency.request_hash) {
    return Error::unprocessable(
        "this Idempotency-Key was already used with a different request body");
  }
  return std::optional<CreateResponse>(
      CreateResponse{(*stored)->status, (*stored)->body, "", true});
}

Order OrderService::buildOrder(const NewOrder& request, std::int64_t now) {
  Order order;
  order.id = kOrderIdPrefix + ids_.next();
  order.customer_id = request.customer_id;
  order.status = kPendingShipment;
  order.items = request.items;
  order.shipping_address = request.shipping_address;
  order.metadata = request.metadata;
  order.created_at = now;
  order.updated_at = now;
  order.history.push_back({kPendingShipment, now, "order created"});
  return order;
}

Status OrderService::commitOrder(const Order& order, const CreateResponse& response,
                                 const std::optional<IdempotentRequest>& idempotency,
                                 std::int64_t now) {
  json event_data = orderJson(order, false);
  event_data["orderId"] = order.id;
  return store_.write([&](store::Connection& connection) -> Status {
    insertOrder(connection, order);
    outbox::EventContext context{node_id_, now, random_};
    outbox::appendEvent(connection, {"ORDER_CREATED", order.id, event_data}, context);
    jobs::scheduleJob(connection, {jobs::kInitiateDelivery, order.id, json::object(), now}, now);
    if (idempotency) {
      idempotency::saveResponse(connection, idempotency->key,
                                {idempotency->request_hash, response.status, response.body}, now,
                                now - idempotency::kReplayWindowMillis);
    }
    return okStatus();
  });
}

Result<Order> OrderService::get(const std::string& id) {
  auto found =
      store_.read([&](store::Connection& connection) { return findOrder(connection, id, true); });
  if (!found) return found.error();
  if (!*found) return Error::notFound("no order with id " + id);
  return std::move(**found);
}

Result<OrderPage> OrderService::list(const OrderFilter& filter) {
  return store_.read([&](store::Connection& connection) { return listOrders(connection, filter); });
}

}  // namespace outpost::orders
