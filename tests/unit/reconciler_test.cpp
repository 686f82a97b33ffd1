// The reconciliation job with a scripted delivery service, a fake clock and a real store:
// valid statuses applied, invalid ones flagged, failures counted without stopping the run.
#include "reconciliation/reconciler.h"

#include <gtest/gtest.h>

#include "saga_fixture.h"

namespace outpost::testing {
namespace {

using reconciliation::RunRecord;

class Reconciliation : public SagaFixture {
 protected:
  reconciliation::Reconciler makeReconciler(int page_size = 100) {
    return reconciliation::Reconciler(
        {*context_, breaker_, client_, 300000, kStaleAfter, page_size});
  }

  // The delivery service reports `statuses` (delivery id -> status); others are 500.
  void deliveryStatuses(std::map<std::string, std::string> statuses) {
    http_.setRespond([statuses](const std::string&, const std::string& path) {
      const std::string id = path.substr(std::string("/deliveries/").size());
      auto it = statuses.find(id);
      if (it == statuses.end()) return ScriptedHttp::answer(500, {});
      if (it->second == "404") return ScriptedHttp::answer(404, {});
      return ScriptedHttp::answer(200, {{"id", id}, {"status", it->second}});
    });
  }

  std::string orderWithDelivery(const std::string& delivery_id) {
    const std::string id = newOrder();
    giveDelivery(id, delivery_id);
    return id;
  }

  RunRecord run(reconciliation::Reconciler& reconciler) {
    return reconciler.reconcile([] { return false; });
  }

  static constexpr std::int64_t kStaleAfter = 86400000;
};

TEST_F(Reconciliation, AValidStatusIsAppliedWithHistoryAndEvent) {
  const std::string id = orderWithDelivery("dlv-1");
  deliveryStatuses({{"dlv-1", "IN_TRANSIT"}});
  auto reconciler = makeReconciler();
  const RunRecord record = run(reconciler);
  EXPECT_EQ(record.status, "HEALTHY");
  EXPECT_EQ(record.checked, 1);
  EXPECT_EQ(record.reconciled, 1);
  const orders::Order reconciled = order(id);
  EXPECT_EQ(reconciled.status, orders::kShipped);
  EXPECT_EQ(reconciled.history.back().status, orders::kShipped);
  EXPECT_EQ(reconciled.history.back().reason, "reconciled: delivery dlv-1 is IN_TRANSIT");
  EXPECT_EQ(events(id, "ORDER_STATUS_RECONCILED"), 1);

  deliveryStatuses({{"dlv-1", "DELIVERED"}});
  EXPECT_EQ(run(reconciler).reconciled, 1);
  EXPECT_EQ(order(id).status, orders::kDelivered);
  // Final: never asked again.
  EXPECT_EQ(run(reconciler).checked, 0);
  EXPECT_EQ(http_.count("GET /deliveries/dlv-1"), 2);
}

TEST_F(Reconciliation, AnInvalidTransitionIsFlaggedAndNotApplied) {
  const std::string id = orderWithDelivery("dlv-2");
  setStatus(id, orders::kPendingShipment, orders::kShipped);
  deliveryStatuses({{"dlv-2", "PENDING"}});  // SHIPPED -> PENDING_SHIPMENT is not allowed
  auto reconciler = makeReconciler();
  const RunRecord record = run(reconciler);
  EXPECT_EQ(record.flagged, 1);
  EXPECT_EQ(record.reconciled, 0);
  const orders::Order flagged = order(id);
  EXPECT_EQ(flagged.status, orders::kShipped);
  EXPECT_TRUE(flagged.requires_manual_review);
  ASSERT_TRUE(flagged.review_reason);
  EXPECT_EQ(
      flagged.review_reason->rfind("Invalid status transition: SHIPPED -> PENDING_SHIPMENT", 0), 0u)
      << *flagged.review_reason;
  EXPECT_EQ(openReviews(id, "RECONCILIATION"), 1);
  EXPECT_EQ(events(id, "ORDER_STATUS_RECONCILED"), 0);

  // The delivery service corrects itself: the flag clears on the next run.
  deliveryStatuses({{"dlv-2", "IN_TRANSIT"}});
  run(reconciler);
  EXPECT_EQ(openReviews(id, "RECONCILIATION"), 0);
  EXPECT_FALSE(order(id).requires_manual_review);
}

TEST_F(Reconciliation, AnOrderInSyncIsLeftAlone) {
  const std::string id = orderWithDelivery("dlv-3");
  deliveryStatuses({{"dlv-3", "CREATED"}});
  auto reconciler = makeReconciler();
  const RunRecord record = run(reconciler);
  EXPECT_EQ(record.checked, 1);
  EXPECT_EQ(record.reconciled + record.flagged, 0);
  EXPECT_EQ(order(id).history.size(), 1u);
}

TEST_F(Reconciliation, OneOrdersFailureDoesNotStopTheOthers) {
  const std::string a = orderWithDelivery("dlv-a");
  const std::string broken = orderWithDelivery("dlv-broken");
  const std::string c = orderWithDelivery("dlv-c");
  deliveryStatuses({{"dlv-a", "IN_TRANSIT"}, {"dlv-c", "FAILED"}});  // dlv-broken: 500
  auto reconciler = makeReconciler(2);                               // two pages
  const RunRecord record = run(reconciler);
  EXPECT_EQ(record.status, "DEGRADED");
  EXPECT_EQ(record.failed, 1);
  EXPECT_EQ(record.reconciled, 2);
  EXPECT_NE(record.error.find(broken), std::string::npos);
  EXPECT_EQ(order(a).status, orders::kShipped);
  EXPECT_EQ(order(c).status, orders::kDeliveryFailed);
  EXPECT_EQ(order(broken).status, orders::kPendingShipment);
  EXPECT_EQ(reconciler.lastStatus(), "DEGRADED");
  auto stored =
      *store_->read([](store::Connection& conn) { return reconciliation::lastRun(conn); });
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, "DEGRADED");
  EXPECT_EQ(stored->checked, 2);
}

TEST_F(Reconciliation, UnknownDeliveriesAndStatusesGoToReview) {
  const std::string gone = orderWithDelivery("dlv-gone");
  const std::string odd = orderWithDelivery("dlv-odd");
  deliveryStatuses({{"dlv-gone", "404"}, {"dlv-odd", "LOST_IN_SPACE"}});
  auto reconciler = makeReconciler();
  const RunRecord record = run(reconciler);
  EXPECT_EQ(record.status, "HEALTHY");
  EXPECT_EQ(record.flagged, 2);
  EXPECT_EQ(*order(gone).review_reason, "the delivery service does not know delivery dlv-gone");
  EXPECT_NE(order(odd).review_reason->find("LOST_IN_SPACE"), std::string::npos);
}

TEST_F(Reconciliation, AnOpenBreakerMeansTheRunCouldNotWork) {
  orderWithDelivery("dlv-4");
  openBreaker();
  auto reconciler = makeReconciler();
  const RunRecord record = run(reconciler);
  EXPECT_EQ(record.status, "FAILED");
  EXPECT_EQ(record.checked, 0);
  EXPECT_TRUE(http_.calls().empty());
  EXPECT_EQ(reconciler.lastStatus(), "FAILED");
}

TEST_F(Reconciliation, ABreakerThatOpensMidRunEndsItDegraded) {
  for (int i = 0; i < 8; ++i) orderWithDelivery("dlv-x" + std::to_string(i));
  // The rest fail: the breaker (volume 5, 40 %) opens at the fifth call.
  deliveryStatuses({{"dlv-x0", "CREATED"}});
  auto reconciler = makeReconciler();
  const RunRecord record = run(reconciler);
  EXPECT_EQ(record.status, "DEGRADED");
  EXPECT_EQ(record.checked, 1);
  EXPECT_EQ(record.failed, 4);
  EXPECT_EQ(http_.calls().size(), 5u);  // nothing after the breaker opened
}

TEST_F(Reconciliation, StaleOrdersWithoutADeliveryAreFlaggedOnce) {
  const std::string stale = newOrder();
  auto reconciler = makeReconciler();
  EXPECT_EQ(run(reconciler).flagged, 0);
  clock_.advance(std::chrono::milliseconds(kStaleAfter + 1));
  const std::string fresh = newOrder();
  EXPECT_EQ(run(reconciler).flagged, 1);
  EXPECT_EQ(*order(stale).review_reason, "no delivery 24 h after the order was taken");
  EXPECT_FALSE(order(fresh).requires_manual_review);
  EXPECT_EQ(run(reconciler).flagged, 0);  // already flagged
}

TEST_F(Reconciliation, AStatusChangedSinceItWasReadIsNotOverwritten) {
  const std::string id = orderWithDelivery("dlv-5");
  http_.setRespond([&](const std::string&, const std::string&) {
    // Between the read and the write another writer moves the order on.
    setStatus(id, orders::kPendingShipment, orders::kDeliveryFailed);
    return ScriptedHttp::answer(200, {{"id", "dlv-5"}, {"status", "IN_TRANSIT"}});
  });
  auto reconciler = makeReconciler();
  run(reconciler);
  EXPECT_EQ(order(id).status, orders::kDeliveryFailed);
  EXPECT_EQ(events(id, "ORDER_STATUS_RECONCILED"), 0);
}

TEST_F(Reconciliation, WhenNothingCanBeCheckedTheRunFailed) {
  for (int i = 0; i < 3; ++i) orderWithDelivery("dlv-y" + std::to_string(i));
  deliveryStatuses({});  // every read fails
  auto reconciler = makeReconciler();
  const RunRecord record = run(reconciler);
  EXPECT_EQ(record.status, "FAILED");
  EXPECT_EQ(record.failed, 3);
}

TEST_F(Reconciliation, ARunCutShortByShutdownIsDegradedNotFailed) {
  orderWithDelivery("dlv-s");
  deliveryStatuses({{"dlv-s", "CREATED"}});
  auto reconciler = makeReconciler();
  bool first_check = true;
  // Shutdown arrives once the first page has been read, before any order is checked.
  const RunRecord record = reconciler.reconcile([&] {
    const bool stop = !first_check;
    first_check = false;
    return stop;
  });
  EXPECT_EQ(record.checked, 0);
  EXPECT_EQ(record.status, "DEGRADED");
}

TEST_F(Reconciliation, NoCandidatesIsAHealthyRun) {
  auto reconciler = makeReconciler();
  EXPECT_EQ(run(reconciler).status, "HEALTHY");
}

TEST_F(Reconciliation, OrdersBeingCancelledAreLeftToTheCompensation) {
  const std::string id = orderWithDelivery("dlv-c1");
  ASSERT_TRUE(store_->write([&](store::Connection& c) {
    c.exec("UPDATE orders SET saga_state = 'COMPENSATING'");
    return okStatus();
  }));
  deliveryStatuses({{"dlv-c1", "CANCELLED"}});
  auto reconciler = makeReconciler();
  EXPECT_EQ(run(reconciler).checked, 0);
  EXPECT_TRUE(http_.calls().empty());
  EXPECT_EQ(order(id).status, orders::kPendingShipment);
}

TEST_F(Reconciliation, ADeliveryCancelledElsewhereCompletesTheSagasCompensation) {
  const std::string id = orderWithDelivery("dlv-c2");
  deliveryStatuses({{"dlv-c2", "CANCELLED"}});
  auto reconciler = makeReconciler();
  EXPECT_EQ(run(reconciler).reconciled, 1);
  EXPECT_EQ(order(id).status, orders::kCancelled);
  EXPECT_EQ(order(id).saga_state, "COMPENSATED");
}

TEST_F(Reconciliation, AFlagIsNotPutOnAnOrderThatMovedMeanwhile) {
  const std::string id = orderWithDelivery("dlv-m");
  bool cancelled = false;
  http_.setRespond([&](const std::string&, const std::string&) {
    if (!std::exchange(cancelled, true)) {
      setStatus(id, orders::kPendingShipment, orders::kCancelled);  // cancelled meanwhile
    }
    return ScriptedHttp::answer(404, {});
  });
  auto reconciler = makeReconciler();
  run(reconciler);
  EXPECT_FALSE(order(id).requires_manual_review);
  EXPECT_EQ(openReviews(id, "RECONCILIATION"), 0);
}

// --- Cancelled orders: their delivery is read back until it is seen cancelled -----------

class CancelVerification : public Reconciliation {
 protected:
  std::string cancelledOrder(const std::string& delivery_id) {
    const std::string id = orderWithDelivery(delivery_id);
    setStatus(id, orders::kPendingShipment, orders::kCancelled);
    return id;
  }

  // The scripted delivery service holds every delivery as `status` ("404": none, "500":
  // failing reads); a cancel answers `cancel_status`, and 200 cancels it.
  void deliveryService(std::string status, int cancel_status = 200) {
    status_ = std::move(status);
    http_.setRespond([this, cancel_status](const std::string& method, const std::string& path) {
      std::string id = path.substr(std::string("/deliveries/").size());
      id = id.substr(0, id.find('/'));
      if (method == "GET") {
        if (status_ == "404") return ScriptedHttp::answer(404, {});
        if (status_ == "500") return ScriptedHttp::answer(500, {});
        return ScriptedHttp::answer(200, {{"id", id}, {"status", status_}});
      }
      if (cancel_status != 200) return ScriptedHttp::answer(cancel_status, {});
      status_ = "CANCELLED";
      return ScriptedHttp::answer(200, {{"id", id}, {"status", status_}});
    });
  }

  std::string status_;
};

TEST_F(CancelVerification, ADeliverySeenCancelledEndsTheCheck) {
  const std::string id = cancelledOrder("dlv-c");
  EXPECT_EQ(cancelUnverified(id), 1);
  deliveryService("CANCELLED");
  auto reconciler = makeReconciler();
  const RunRecord record = run(reconciler);
  EXPECT_EQ(record.status, "HEALTHY");
  EXPECT_EQ(record.checked, 1);
  EXPECT_EQ(record.reconciled, 0);
  EXPECT_EQ(cancelUnverified(id), 0);
  EXPECT_EQ(run(reconciler).checked, 0);  // never asked again
  EXPECT_EQ(http_.calls(), std::vector<std::string>{"GET /deliveries/dlv-c"});
  EXPECT_EQ(order(id).status, orders::kCancelled);
}

TEST_F(CancelVerification, ALiveDeliveryIsCancelledAgainAndReadBackOnTheNextRun) {
  const std::string id = cancelledOrder("dlv-l");
  deliveryService("CREATED");  // the service lost the cancel it acknowledged
  auto reconciler = makeReconciler();
  const RunRecord first = run(reconciler);
  EXPECT_EQ(first.status, "HEALTHY");
  EXPECT_EQ(first.reconciled, 1);
  EXPECT_EQ(http_.calls(),
            (std::vector<std::string>{"GET /deliveries/dlv-l", "POST /deliveries/dlv-l/cancel"}));
  EXPECT_EQ(cancelUnverified(id), 1);  // its answer is not yet the read-back
  const orders::Order cancelled = order(id);
  EXPECT_EQ(cancelled.status, orders::kCancelled);
  EXPECT_EQ(cancelled.history.back().reason,
            "reconciliation: delivery dlv-l was CREATED; cancelled again");
  ASSERT_FALSE(cancelled.saga_steps.empty());
  EXPECT_EQ(cancelled.saga_steps.back().at("step"), "DELIVERY_CANCELLED");
  EXPECT_EQ(cancelled.saga_steps.back().at("data").at("byReconciliation"), true);

  EXPECT_EQ(run(reconciler).checked, 1);
  EXPECT_EQ(cancelUnverified(id), 0);
  EXPECT_EQ(http_.count("POST /deliveries/dlv-l/cancel"), 1);
}

TEST_F(CancelVerification, ARefusalToCancelALiveDeliveryGoesToStaff) {
  const std::string id = cancelledOrder("dlv-t");
  deliveryService("IN_TRANSIT", 409);
  auto reconciler = makeReconciler();
  const RunRecord record = run(reconciler);
  EXPECT_EQ(record.flagged, 1);
  EXPECT_EQ(openReviews(id, "CANCELLATION"), 1);
  const orders::Order flagged = order(id);
  EXPECT_TRUE(flagged.requires_manual_review);
  ASSERT_TRUE(flagged.review_reason);
  EXPECT_EQ(flagged.review_reason->rfind(
                "the order is cancelled but delivery dlv-t was IN_TRANSIT and the delivery "
                "service refused to cancel it",
                0),
            0u)
      << *flagged.review_reason;
  EXPECT_EQ(cancelUnverified(id), 0);  // staff own it now
  EXPECT_EQ(run(reconciler).checked, 0);
}

TEST_F(CancelVerification, ADeliveryTheServiceDoesNotKnowNeedsNoCancel) {
  const std::string id = cancelledOrder("dlv-u");
  deliveryService("404");
  auto reconciler = makeReconciler();
  EXPECT_EQ(run(reconciler).checked, 1);
  EXPECT_EQ(cancelUnverified(id), 0);
  EXPECT_EQ(http_.count("POST /deliveries/dlv-u/cancel"), 0);
}

TEST_F(CancelVerification, AFailedReadKeepsTheMarkForTheNextRun) {
  const std::string id = cancelledOrder("dlv-f");
  deliveryService("500");
  auto reconciler = makeReconciler();
  const RunRecord failed = run(reconciler);
  EXPECT_EQ(failed.failed, 1);
  EXPECT_EQ(failed.status, "FAILED");
  EXPECT_EQ(cancelUnverified(id), 1);
  deliveryService("CANCELLED");
  EXPECT_EQ(run(reconciler).status, "HEALTHY");
  EXPECT_EQ(cancelUnverified(id), 0);
}

TEST_F(CancelVerification, AnOpenBreakerEndsTheRunAndKeepsTheMark) {
  const std::string id = cancelledOrder("dlv-b");
  openBreaker();
  auto reconciler = makeReconciler();
  const RunRecord record = run(reconciler);
  EXPECT_EQ(record.status, "FAILED");
  EXPECT_EQ(record.error, "the delivery service's breaker is open");
  EXPECT_TRUE(http_.calls().empty());
  EXPECT_EQ(cancelUnverified(id), 1);
}

TEST_F(CancelVerification, AnOrderCancelledByReconciliationIsReadOnlyOnce) {
  const std::string id = orderWithDelivery("dlv-s");
  deliveryService("CANCELLED");  // cancelled at the delivery service
  auto reconciler = makeReconciler();
  const RunRecord record = run(reconciler);
  EXPECT_EQ(record.reconciled, 1);
  EXPECT_EQ(record.checked, 1);
  EXPECT_EQ(order(id).status, orders::kCancelled);
  EXPECT_EQ(cancelUnverified(id), 0);  // that read was the read-back
  EXPECT_EQ(http_.calls(), std::vector<std::string>{"GET /deliveries/dlv-s"});
}

TEST_F(CancelVerification, ADeliveryGoneBeforeItsSecondCancelNeedsNothingMore) {
  const std::string id = cancelledOrder("dlv-g");
  deliveryService("CREATED", 404);
  auto reconciler = makeReconciler();
  const RunRecord record = run(reconciler);
  EXPECT_EQ(record.reconciled, 0);
  EXPECT_EQ(record.flagged, 0);
  EXPECT_EQ(cancelUnverified(id), 0);
  EXPECT_EQ(order(id).history.back().reason.value_or("").find("cancelled again"),
            std::string::npos);
}

TEST_F(CancelVerification, ADeliveryIdThatReachesACancelledOrderIsCheckedToo) {
  const std::string id = newOrder();
  setStatus(id, orders::kPendingShipment, orders::kCancelled);
  EXPECT_EQ(cancelUnverified(id), 0);  // no delivery: nothing to check
  ASSERT_TRUE(store_->write([&](store::Connection& c) {
    orders::setDeliveryId(c, id, "dlv-late", clock_.wallMillis());
    return okStatus();
  }));
  EXPECT_EQ(cancelUnverified(id), 1);
  deliveryService("PENDING");
  auto reconciler = makeReconciler();
  EXPECT_EQ(run(reconciler).reconciled, 1);
  EXPECT_EQ(http_.count("POST /deliveries/dlv-late/cancel"), 1);
}

}  // namespace
}  // namespace outpost::testing
