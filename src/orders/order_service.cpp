#include "orders/order_service.h"

#include "jobs/job_store.h"
#include "orders/availability_recheck.h"
#include "orders/order_json.h"
#include "orders/order_repository.h"
#include "outbox/outbox.h"
#include "store/review_records.h"
#include "store/saga_records.h"

namespace outpost::orders {

using nlohmann::json;

namespace {

using Verdict = AvailabilityVerdict::Kind;

// 409's errors[]: each short product under the path of the first item that asked for it.
std::vector<FieldError> shortProductFields(const NewOrder& request,
                                           const AvailabilityVerdict& verdict) {
  std::vector<FieldError> fields;
  for (const auto& entry : verdict.short_products) {
    std::string path = "items";
    for (std::size_t i = 0; i < request.items.size(); ++i) {
      if (request.items[i].product_id != entry.field) continue;
      path = "items[" + std::to_string(i) + "].productId";
      break;
    }
    fields.push_back({path, entry.field + ": " + entry.detail});
  }
  return fields;
}

// The saga's first step as recorded: what the availability check said.
json availabilityStep(const AvailabilityVerdict& verdict) {
  switch (verdict.kind) {
    case Verdict::kNotChecked:
      return {{"result", "SKIPPED"}};  // no product service configured
    case Verdict::kAvailable:
      return {{"result", "AVAILABLE"}};
    case Verdict::kShort:
      return {{"result", "SHORT_ACCEPTED"}, {"reason", verdict.reason}};
    case Verdict::kFallback:
      return {{"result", "FALLBACK"}, {"reason", verdict.reason}};
  }
  return json::object();
}

json fallbackEventData(const Order& order, const AvailabilityVerdict& verdict) {
  json assumed = json::array();
  json ids = json::array();
  for (const auto& [product, quantity] : requestedQuantities(order.items)) {
    ids.push_back(product);
    assumed.push_back({{"productId", product},
                       {"available", true},
                       {"quantity", 1},
                       {"requiresManualReview", true},
                       {"fallbackUsed", true}});
  }
  return {{"orderId", order.id},
          {"productIds", ids},
          {"fallbackResponse", assumed},
          {"reason", verdict.reason}};
}

}  // namespace

OrderService::OrderService(const node::Context& node)
    : store_(node.store),
      clock_(node.clock),
      random_(node.random),
      node_id_(node.node_id),
      ids_(node.clock, node.random) {}

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
  const AvailabilityVerdict verdict =
      availability_ ? availability_->check(request.items) : AvailabilityVerdict{};
  if (verdict.kind == Verdict::kShort && availability_policy_.reject_unavailable) {
    return Error(ErrorKind::kConflict, verdict.reason, shortProductFields(request, verdict));
  }
  Order order = buildOrder(request, verdict, now);
  CreateResponse response{201, orderSummaryJson(order).dump(), order.id, false};
  auto committed = commitOrder(order, verdict, response, idempotency, now);
  if (!committed) return committed.error();
  if (verdict.kind == Verdict::kFallback && availability_policy_.wake_recheck) {
    availability_policy_.wake_recheck();
  }
  if (after_commit_) {
    if (auto delivery_id = after_commit_(order.id)) {
      order.delivery_id = std::move(delivery_id);
      response.body = orderSummaryJson(order).dump();
    }
  }
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
      CreateResponse{(*stored)->status, (*stored)->body, (*stored)->resource_id, true});
}

Order OrderService::buildOrder(const NewOrder& request, const AvailabilityVerdict& verdict,
                               std::int64_t now) {
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
  order.saga_state = store::kSagaRunning;
  order.saga_steps = store::firstSagaSteps(
      {store::NewSagaStep{store::kStepAvailabilityChecked, availabilityStep(verdict)},
       store::NewSagaStep{store::kStepOrderCreated, json::object()}},
      now);
  if (verdict.kind == Verdict::kShort || verdict.kind == Verdict::kFallback) {
    order.requires_manual_review = true;
    order.review_reason = verdict.reason;
  }
  return order;
}

Status OrderService::commitOrder(const Order& order, const AvailabilityVerdict& verdict,
                                 const CreateResponse& response,
                                 const std::optional<IdempotentRequest>& idempotency,
                                 std::int64_t now) {
  json event_data = orderJson(order, false);
  event_data["orderId"] = order.id;
  return store_.write([&](store::Connection& connection) -> Status {
    insertOrder(connection, order);
    outbox::EventContext context{node_id_, now, random_};
    outbox::appendEvent(connection, {"ORDER_CREATED", order.id, event_data}, context);
    jobs::scheduleJob(connection,
                      {jobs::kInitiateDelivery, order.id, json::object(), now + attempt_window_ms_},
                      now);
    if (order.requires_manual_review) {
      store::flagForReview(connection, order.id, store::kReviewAvailability, verdict.reason, now);
    }
    if (verdict.kind == Verdict::kFallback) {
      outbox::appendEvent(
          connection,
          {"AVAILABILITY_CHECK_FALLBACK_USED", order.id, fallbackEventData(order, verdict)},
          context);
      jobs::scheduleJob(connection,
                        {kRecheckAvailability, order.id, json::object(),
                         now + availability_policy_.recheck_interval_ms},
                        now);
    }
    if (idempotency) {
      idempotency::saveResponse(
          connection, idempotency->key,
          {idempotency->request_hash, response.status, response.body, order.id}, now,
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
