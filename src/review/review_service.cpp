#include "review/review_service.h"

#include "common/text.h"
#include "jobs/job_store.h"
#include "orders/order_repository.h"
#include "outbox/outbox.h"
#include "saga/compensator.h"
#include "store/saga_records.h"

namespace outpost::review {
namespace {

using nlohmann::json;

const char* actionName(ReviewAction action) {
  return action == ReviewAction::kApprove ? "approve" : "cancel";
}

std::string historyReason(const Resolution& resolution) {
  std::string reason = std::string("manual review: ") + actionName(resolution.action);
  if (!resolution.note.empty()) reason += ": " + resolution.note;
  return reason;
}

// An order approved while its delivery initiation had given up would never ship.
bool restartGivenUpDelivery(store::Connection& c, const orders::Order& order, std::int64_t now) {
  if (order.delivery_id || order.status != orders::kPendingShipment ||
      order.saga_state != store::kSagaRunning) {
    return false;
  }
  auto initiation = jobs::latestJobFor(c, jobs::kInitiateDelivery, order.id);
  if (!initiation || initiation->status != "FAILED") return false;
  // Those attempts may have made a delivery: a later cancel must look for it.
  const int previous = initiation->attempts + initiation->payload.value("previousAttempts", 0);
  jobs::restartJob(c, {jobs::kInitiateDelivery, order.id, {{"previousAttempts", previous}}, now},
                   now);
  return true;
}

}  // namespace

json reviewJson(const store::ReviewItem& item) {
  return {{"orderId", item.order_id},
          {"kind", item.kind},
          {"reason", item.reason},
          {"createdAt", formatTimestamp(item.created_at)}};
}

Result<Resolution> parseResolution(const json& body) {
  std::vector<FieldError> errors;
  Resolution resolution;
  if (!body.is_object()) {
    return Error::invalidFields({{"body", "must be a JSON object"}});
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "action" && key != "note") errors.push_back({key, "unknown field"});
  }
  auto action = body.find("action");
  if (action == body.end() || !action->is_string() ||
      (*action != "approve" && *action != "cancel")) {
    errors.push_back({"action", "must be \"approve\" or \"cancel\""});
  } else {
    resolution.action = *action == "approve" ? ReviewAction::kApprove : ReviewAction::kCancel;
  }
  auto note = body.find("note");
  if (note != body.end() && !note->is_null()) {
    if (!note->is_string() || utf8Length(note->get_ref<const std::string&>()) > kMaxNoteLength) {
      errors.push_back({"note", "must be a string of at most " + std::to_string(kMaxNoteLength) +
                                    " characters"});
    } else {
      resolution.note = note->get<std::string>();
    }
  }
  if (!errors.empty()) return Error::invalidFields(std::move(errors));
  return resolution;
}

Result<store::ReviewPage> ReviewService::list(const store::ReviewFilter& filter) {
  return store_.read([&](store::Connection& c) { return store::listOpenReviews(c, filter); });
}

Result<ReviewService::Resolved> ReviewService::resolve(const std::string& order_id,
                                                       const Resolution& resolution) {
  const std::int64_t now = clock_.wallMillis();
  bool cancel_started = false;
  bool redelivery = false;
  auto written = store_.write([&](store::Connection& c) -> Status {
    auto order = orders::findOrder(c, order_id, false);
    if (!order) return Error::notFound("no order with id " + order_id);
    const char* outcome = resolution.action == ReviewAction::kApprove ? "APPROVED" : "CANCELLED";
    if (store::resolveAllReviews(c, order_id, outcome, resolution.note, now) == 0) {
      return Error::conflict("order " + order_id + " has no open review item");
    }
    orders::appendHistory(c, order_id, {order->status, now, historyReason(resolution)});
    outbox::EventContext context{node_id_, now, random_};
    outbox::appendEvent(c,
                        {"MANUAL_REVIEW_RESOLVED",
                         order_id,
                         {{"orderId", order_id},
                          {"action", actionName(resolution.action)},
                          {"note", resolution.note}}},
                        context);
    if (resolution.action == ReviewAction::kApprove) {
      redelivery = restartGivenUpDelivery(c, *order, now);
      return okStatus();
    }
    auto begun = saga::beginCompensation(c, *order, historyReason(resolution), now);
    if (!begun) return begun.error();
    cancel_started = *begun != saga::CancelRequest::kAlreadyCancelled;
    return okStatus();
  });
  if (!written) return written.error();
  if (cancel_started && hooks_.after_cancel) hooks_.after_cancel(order_id);
  if (redelivery && hooks_.after_redelivery) hooks_.after_redelivery();
  auto order =
      store_.read([&](store::Connection& c) { return orders::findOrder(c, order_id, true); });
  if (!order) return order.error();
  if (!*order) return Error::notFound("no order with id " + order_id);
  return Resolved{cancel_started, std::move(**order)};
}

}  // namespace outpost::review
