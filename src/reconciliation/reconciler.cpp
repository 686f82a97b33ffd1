#include "reconciliation/reconciler.h"

#include <algorithm>
#include <optional>

#include "clients/guarded_call.h"
#include "orders/order_repository.h"
#include "orders/order_status.h"
#include "outbox/outbox.h"
#include "store/review_records.h"
#include "store/saga_records.h"

namespace outpost::reconciliation {
namespace {

using nlohmann::json;

constexpr int kRunsKept = 100;
constexpr int kStaleOrdersPerRun = 1000;

std::string humanDuration(std::int64_t millis) {
  if (millis >= 3600000) return std::to_string(millis / 3600000) + " h";
  if (millis >= 60000) return std::to_string(millis / 60000) + " min";
  return std::to_string(millis / 1000) + " s";
}

}  // namespace

struct Reconciler::Decision {
  enum class Kind { kInSync, kApply, kFlag } kind = Kind::kInSync;
  Candidate order;
  std::string delivery_status;
  std::string to;      // kApply
  std::string reason;  // kFlag
};

struct Reconciler::RunState {
  RunRecord record;
  int candidates = 0;
  bool breaker_open = false;
  bool store_down = false;
  bool stopped = false;  // shutdown cut the run short
};

RunRecord Reconciler::reconcile(const jobs::StopRequested& stop_requested) {
  RunState run;
  run.record.started_at = deps_.node.clock.wallMillis();
  forEachPage(
      run, stop_requested, "the orders", ordersToReconcile,
      [&](const std::vector<Candidate>& page) { reconcilePage(page, run, stop_requested); });
  forEachPage(run, stop_requested, "the cancelled orders", cancelledToVerify,
              [&](const std::vector<Candidate>& page) {
                for (const auto& order : page) {
                  if (run.breaker_open || run.store_down || stop_requested()) break;
                  verifyCancellation(order, run);
                }
              });
  run.stopped = stop_requested();
  if (!run.breaker_open && !run.store_down && !run.stopped) flagStaleOrders(run);
  return finish(run);
}

std::chrono::milliseconds Reconciler::runPass(const jobs::StopRequested& stop_requested) {
  reconcile(stop_requested);
  return std::chrono::milliseconds(deps_.interval_ms);
}

std::string Reconciler::lastStatus(const std::optional<std::string>& stored) const {
  std::lock_guard lock(mutex_);
  if (last_status_) return *last_status_;
  return stored.value_or(kHealthy);
}

void Reconciler::reconcilePage(const std::vector<Candidate>& page, RunState& run,
                               const std::function<bool()>& stop_requested) {
  std::vector<Decision> decisions;
  for (const auto& candidate : page) {
    if (stop_requested()) break;
    const auto answer = clients::callThrough(
        deps_.breaker, [&] { return deps_.client.status(candidate.delivery_id); });
    if (!answer) {
      breakerOpened(run);
      break;
    }
    auto decision = judge(candidate, *answer);
    if (!decision) {
      orderFailed(candidate, answer->error, run);
      continue;
    }
    ++run.record.checked;
    decisions.push_back(std::move(*decision));
  }
  if (!decisions.empty() && !apply(decisions, run)) {
    run.store_down = true;
    run.record.error = "cannot record the run's changes";
  }
}

std::optional<Reconciler::Decision> Reconciler::judge(const Candidate& candidate,
                                                      const clients::DeliveryAnswer& answer) {
  Decision decision{Decision::Kind::kFlag, candidate, answer.status, "", ""};
  if (answer.no_such_delivery) {
    decision.reason = "the delivery service does not know delivery " + candidate.delivery_id;
    return decision;
  }
  if (answer.call_class != clients::CallClass::kSuccess) return std::nullopt;
  const auto expected = orders::statusForDeliveryStatus(answer.status);
  if (!expected) {
    decision.reason = "the delivery service reports an unknown status " + answer.status +
                      " for delivery " + candidate.delivery_id;
    return decision;
  }
  if (*expected == candidate.status) {
    decision.kind = Decision::Kind::kInSync;
    return decision;
  }
  deps_.node.log.warn("order status inconsistency detected", {{"orderId", candidate.order_id},
                                                              {"currentStatus", candidate.status},
                                                              {"expectedStatus", *expected},
                                                              {"deliveryStatus", answer.status}});
  if (orders::isValidTransition(candidate.status, *expected)) {
    decision.kind = Decision::Kind::kApply;
    decision.to = *expected;
    return decision;
  }
  decision.reason = "Invalid status transition: " + candidate.status + " -> " + *expected +
                    " (delivery " + candidate.delivery_id + " is " + answer.status + ")";
  return decision;
}

namespace {

bool needsWrite(const Reconciler::Decision& decision) {
  return decision.kind != Reconciler::Decision::Kind::kInSync || decision.order.flagged;
}

// A decision was made on a read taken before the delivery service answered; it holds only
// if the order has not moved since, is not final and is not being cancelled.
bool stillAsRead(store::Connection& c, const Candidate& order) {
  auto now = orderNow(c, order.order_id);
  return now && now->status == order.status && !orders::isFinalStatus(now->status) &&
         now->saga_state != store::kSagaCompensating;
}

}  // namespace

Status Reconciler::apply(const std::vector<Decision>& decisions, RunState& run) {
  if (std::none_of(decisions.begin(), decisions.end(), needsWrite)) return okStatus();
  const std::int64_t now = deps_.node.clock.wallMillis();
  int reconciled = 0;
  int flagged = 0;
  auto written = deps_.node.store.write([&](store::Connection& c) -> Status {
    reconciled = 0;
    flagged = 0;
    outbox::EventContext context{deps_.node.node_id, now, deps_.node.random};
    for (const auto& decision : decisions) {
      if (!needsWrite(decision) || !stillAsRead(c, decision.order)) continue;
      const Candidate& order = decision.order;
      switch (decision.kind) {
        case Decision::Kind::kInSync:
          // A reconciliation flag from an earlier run has cleared itself.
          store::resolveReview(c, order.order_id, store::kReviewReconciliation, "IN_SYNC", now);
          break;
        case Decision::Kind::kApply:
          applyStatus(c, decision, context);
          ++reconciled;
          break;
        case Decision::Kind::kFlag:
          store::flagForReview(c, order.order_id, store::kReviewReconciliation, decision.reason,
                               now);
          ++flagged;
          break;
      }
    }
    return okStatus();
  });
  if (!written) return written;
  run.record.reconciled += reconciled;
  run.record.flagged += flagged;
  return okStatus();
}

void Reconciler::applyStatus(store::Connection& c, const Decision& decision,
                             const outbox::EventContext& context) {
  const Candidate& order = decision.order;
  const std::int64_t now = context.now_millis;
  const std::string reason =
      "reconciled: delivery " + order.delivery_id + " is " + decision.delivery_status;
  orders::changeStatus(c, order.order_id, order.status, {decision.to, now, reason});
  outbox::appendEvent(c,
                      {"ORDER_STATUS_RECONCILED",
                       order.order_id,
                       {{"orderId", order.order_id},
                        {"deliveryId", order.delivery_id},
                        {"deliveryStatus", decision.delivery_status},
                        {"previousStatus", order.status},
                        {"status", decision.to}}},
                      context);
  if (decision.to == orders::kCancelled) {
    // Cancelled at the delivery service: the saga has nothing left to undo.
    store::recordSagaStep(c, order.order_id, store::kStepOrderCancelled, {{"reason", reason}}, now);
    store::setSagaState(c, order.order_id, store::kSagaCompensated, now);
    store::resolveReview(c, order.order_id, store::kReviewCancellation, "CANCELLED", now);
    orders::markDeliveryCancelVerified(c, order.order_id, order.delivery_id);  // just read
  }
  if (order.flagged) {
    store::resolveReview(c, order.order_id, store::kReviewReconciliation, "RECONCILED", now);
  }
  deps_.node.log.info(
      "order status reconciled",
      {{"orderId", order.order_id}, {"from", order.status}, {"status", decision.to}});
}

void Reconciler::forEachPage(RunState& run, const jobs::StopRequested& stop_requested,
                             const std::string& what, const ReadPage& read_page,
                             const std::function<void(const std::vector<Candidate>&)>& handle) {
  std::string after;
  while (!run.breaker_open && !run.store_down && !stop_requested()) {
    auto page = deps_.node.store.read(
        [&](store::Connection& c) { return read_page(c, after, deps_.page_size); });
    if (!page) {
      run.store_down = true;
      run.record.error = "cannot read " + what + ": " + page.error().message;
      return;
    }
    if (page->empty()) return;
    run.candidates += static_cast<int>(page->size());
    after = page->back().order_id;
    handle(*page);
    if (page->size() < static_cast<std::size_t>(deps_.page_size)) return;
  }
}

// A cancelled order's delivery is read back: cancelled (or unknown to the service) ends the
// check; live, it is cancelled again and read back on the next run; a refusal (the parcel
// has left) goes to staff, who then own it.
void Reconciler::verifyCancellation(const Candidate& order, RunState& run) {
  const auto read =
      clients::callThrough(deps_.breaker, [&] { return deps_.client.status(order.delivery_id); });
  if (!read) return breakerOpened(run);
  if (read->no_such_delivery ||
      (read->call_class == clients::CallClass::kSuccess &&
       orders::statusForDeliveryStatus(read->status) == orders::kCancelled)) {
    ++run.record.checked;
    (void)markVerified(order, run);
    return;
  }
  if (read->call_class != clients::CallClass::kSuccess) return orderFailed(order, read->error, run);
  ++run.record.checked;
  deps_.node.log.warn("the delivery of a cancelled order is live: cancelling it again",
                      {{"orderId", order.order_id},
                       {"deliveryId", order.delivery_id},
                       {"deliveryStatus", read->status}});
  const auto cancelled =
      clients::callThrough(deps_.breaker, [&] { return deps_.client.cancel(order.delivery_id); });
  if (!cancelled) return breakerOpened(run);
  if (cancelled->call_class == clients::CallClass::kRetriable) {
    return orderFailed(order, cancelled->error, run);
  }
  if (cancelled->no_such_delivery) {
    (void)markVerified(order, run);  // gone meanwhile: nothing left to cancel
    return;
  }
  const std::string was = "delivery " + order.delivery_id + " was " + read->status;
  if (cancelled->call_class == clients::CallClass::kPermanent) {
    const std::string reason =
        "the order is cancelled but " + was +
        " and the delivery service refused to cancel it: " + cancelled->error;
    const bool flagged =
        recordCancellation(order, run, [&](store::Connection& c, std::int64_t now) {
          store::flagForReview(c, order.order_id, store::kReviewCancellation, reason, now);
          orders::appendHistory(c, order.order_id,
                                {orders::kCancelled, now, "reconciliation: " + reason});
          orders::markDeliveryCancelVerified(c, order.order_id, order.delivery_id);
        });
    if (flagged) ++run.record.flagged;
    return;
  }
  const bool recancelled =
      recordCancellation(order, run, [&](store::Connection& c, std::int64_t now) {
        store::recordSagaStep(c, order.order_id, store::kStepDeliveryCancelled,
                              {{"deliveryId", order.delivery_id},
                               {"byReconciliation", true},
                               {"deliveryStatus", read->status}},
                              now);
        orders::appendHistory(
            c, order.order_id,
            {orders::kCancelled, now, "reconciliation: " + was + "; cancelled again"});
      });
  if (recancelled) ++run.record.reconciled;
}

bool Reconciler::markVerified(const Candidate& order, RunState& run) {
  return recordCancellation(order, run, [&](store::Connection& c, std::int64_t) {
    orders::markDeliveryCancelVerified(c, order.order_id, order.delivery_id);
  });
}

bool Reconciler::recordCancellation(
    const Candidate& order, RunState& run,
    const std::function<void(store::Connection&, std::int64_t)>& change) {
  const std::int64_t now = deps_.node.clock.wallMillis();
  auto written = deps_.node.store.write([&](store::Connection& c) {
    auto current = orderNow(c, order.order_id);
    if (current && current->status == orders::kCancelled) change(c, now);
    return okStatus();
  });
  if (!written) {
    run.store_down = true;
    run.record.error = "cannot record the run's changes";
  }
  return static_cast<bool>(written);
}

void Reconciler::breakerOpened(RunState& run) {
  run.breaker_open = true;
  if (run.record.error.empty()) run.record.error = "the delivery service's breaker is open";
}

void Reconciler::orderFailed(const Candidate& order, const std::string& error, RunState& run) {
  ++run.record.failed;
  deps_.node.log.error(
      "reconciliation failed for order",
      {{"orderId", order.order_id}, {"deliveryId", order.delivery_id}, {"error", error}});
  if (run.record.error.empty()) run.record.error = order.order_id + ": " + error;
}

void Reconciler::flagStaleOrders(RunState& run) {
  const std::int64_t now = deps_.node.clock.wallMillis();
  auto stale = deps_.node.store.read([&](store::Connection& c) {
    return staleWithoutDelivery(c, now - deps_.stale_after_ms, kStaleOrdersPerRun);
  });
  if (!stale || stale->empty()) return;
  const std::string reason =
      "no delivery " + humanDuration(deps_.stale_after_ms) + " after the order was taken";
  int flagged = 0;
  auto written = deps_.node.store.write([&](store::Connection& c) {
    flagged = 0;
    for (const auto& id : *stale) {
      auto order = orderNow(c, id);
      if (!order || order->status != orders::kPendingShipment || order->has_delivery ||
          order->saga_state == store::kSagaCompensating) {
        continue;
      }
      store::flagForReview(c, id, store::kReviewReconciliation, reason, now);
      ++flagged;
    }
    return okStatus();
  });
  if (written) run.record.flagged += flagged;
}

RunRecord Reconciler::finish(RunState& run) {
  RunRecord& record = run.record;
  record.finished_at = deps_.node.clock.wallMillis();
  if (run.store_down || (!run.stopped && run.candidates > 0 && record.checked == 0)) {
    record.status = kFailed;  // nothing could be checked
  } else if (run.breaker_open || run.stopped || record.failed > 0) {
    record.status = kDegraded;
  } else {
    record.status = kHealthy;
  }
  {
    std::lock_guard lock(mutex_);
    last_status_ = record.status;
  }
  (void)deps_.node.store.write([&](store::Connection& c) {
    recordRun(c, record, kRunsKept);
    return okStatus();
  });
  deps_.node.log.info("reconciliation run finished",
                      {{"status", record.status},
                       {"checked", record.checked},
                       {"reconciled", record.reconciled},
                       {"flagged", record.flagged},
                       {"failed", record.failed},
                       {"durationMs", record.finished_at - record.started_at}});
  return record;
}

}  // namespace outpost::reconciliation
