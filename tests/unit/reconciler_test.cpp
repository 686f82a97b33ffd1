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
  http_.setRespond([&](const std::string&, const std::string&) {
    setStatus(id, orders::kPendingShipment, orders::kCancelled);  // cancelled meanwhile
    return ScriptedHttp::answer(404, {});
  });
  auto reconciler = makeReconciler();
  run(reconciler);
  EXPECT_FALSE(order(id).requires_manual_review);
  EXPECT_EQ(openReviews(id, "RECONCILIATION"), 0);
}

}  // namespace
}  // namespace outpost::testing
