// Saga compensation (cancel) with a scripted delivery service, a fake clock and a real
// store: every outcome of the delivery service's answer, and what is recorded.
#include "saga/compensator.h"

#include <gtest/gtest.h>

#include "jobs/job_store.h"
#include "review/review_service.h"
#include "saga/delivery_initiator.h"
#include "saga/saga_recovery.h"
#include "saga_fixture.h"
#include "store/review_records.h"
#include "store/saga_records.h"

namespace outpost::testing {
namespace {

using std::chrono::milliseconds;

class Compensation : public SagaFixture {
 protected:
  saga::Compensator makeCompensator(clients::DeliveryClient* client, std::int64_t started_at) {
    return saga::Compensator({*context_, breaker_, client, RetryConfig{1000, 8000, 3}, order_calls_,
                              started_at, [this] { ++wakes_; }});
  }
  saga::Compensator makeCompensator() { return makeCompensator(&client_, clock_.wallMillis()); }

  std::string jobStatus(const std::string& id, const char* kind) {
    auto job = *store_->read([&](store::Connection& c) { return jobs::latestJobFor(c, kind, id); });
    return job ? job->status : "";
  }

  saga::OrderCalls order_calls_;
  int wakes_ = 0;
};

TEST_F(Compensation, AnOrderWithoutADeliveryIsCancelledAtOnceWithoutACall) {
  const std::string id = newOrder();
  saga::Compensator compensator = makeCompensator();
  auto cancelled = compensator.cancel(id, "customer changed their mind");
  ASSERT_TRUE(cancelled) << cancelled.error().message;
  EXPECT_EQ(cancelled->outcome, saga::CancelRequest::kStarted);
  EXPECT_EQ(cancelled->order.status, orders::kCancelled);
  EXPECT_EQ(cancelled->order.saga_state, store::kSagaCompensated);
  EXPECT_TRUE(http_.calls().empty());
  EXPECT_EQ(events(id, "ORDER_CANCELLED"), 1);
  EXPECT_EQ(jobStatus(id, jobs::kInitiateDelivery), "DONE");  // stopped, never run
  EXPECT_EQ(steps(id), (std::vector<std::string>{"AVAILABILITY_CHECKED", "ORDER_CREATED",
                                                 "COMPENSATION_STARTED", "ORDER_CANCELLED"}));
  const auto& history = cancelled->order.history;
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[1].reason, "cancel requested: customer changed their mind");
  EXPECT_EQ(history[2].status, orders::kCancelled);
}

TEST_F(Compensation, CancellingTwiceChangesNothingTheSecondTime) {
  const std::string id = newOrder();
  saga::Compensator compensator = makeCompensator();
  ASSERT_TRUE(compensator.cancel(id, "first"));
  auto again = compensator.cancel(id, "second");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outcome, saga::CancelRequest::kAlreadyCancelled);
  EXPECT_EQ(events(id, "ORDER_CANCELLED"), 1);
  EXPECT_EQ(again->order.history.size(), 3u);
}

TEST_F(Compensation, UnknownShippedAndDeliveredOrdersAreRefused) {
  saga::Compensator compensator = makeCompensator();
  auto unknown = compensator.cancel("ORD-01ARZ3NDEKTSV4RRFFQ69G5FAV", "x");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorKind::kNotFound);

  const std::string shipped = newOrder();
  giveDelivery(shipped, "dlv-1");
  setStatus(shipped, orders::kPendingShipment, orders::kShipped);
  auto refused = compensator.cancel(shipped, "x");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kConflict);
  EXPECT_NE(refused.error().message.find("SHIPPED"), std::string::npos);
  setStatus(shipped, orders::kShipped, orders::kDelivered);
  EXPECT_EQ(compensator.cancel(shipped, "x").error().kind, ErrorKind::kConflict);
  EXPECT_EQ(order(shipped).saga_state, store::kSagaCompleted);
  EXPECT_TRUE(http_.calls().empty());
}

TEST_F(Compensation, TheDeliveryIsCancelledFirstThenTheOrder) {
  const std::string id = newOrder();
  giveDelivery(id, "dlv-7");
  http_.setRespond([](const std::string&, const std::string&) {
    return ScriptedHttp::answer(200, {{"id", "dlv-7"}, {"status", "CANCELLED"}});
  });
  saga::Compensator compensator = makeCompensator();
  auto cancelled = compensator.cancel(id, "wrong size");
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(http_.calls(), std::vector<std::string>{"POST /deliveries/dlv-7/cancel"});
  EXPECT_EQ(cancelled->order.status, orders::kCancelled);
  const auto recorded = steps(id);
  ASSERT_GE(recorded.size(), 3u);
  EXPECT_EQ(recorded[recorded.size() - 2], "DELIVERY_CANCELLED");
  EXPECT_EQ(recorded.back(), "ORDER_CANCELLED");
  EXPECT_EQ(jobStatus(id, jobs::kCompensateOrder), "DONE");
}

TEST_F(Compensation, ADeliveryServiceThatIsDownIsRetriedWithBackoffUntilItAnswers) {
  const std::string id = newOrder();
  giveDelivery(id, "dlv-2");
  http_.setRespond([](const std::string&, const std::string&) { return ScriptedHttp::refused(); });
  saga::Compensator compensator = makeCompensator();
  auto cancelled = compensator.cancel(id, "x");
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->outcome, saga::CancelRequest::kStarted);
  EXPECT_EQ(cancelled->order.status, orders::kPendingShipment);  // not yet: 202
  EXPECT_EQ(cancelled->order.saga_state, store::kSagaCompensating);
  EXPECT_EQ(wakes_, 1);
  // Backing off: nothing is due before the first delay (1 s, jittered).
  EXPECT_GE(compensator.runPass([] { return false; }), milliseconds(100));
  EXPECT_EQ(http_.count("POST /deliveries/dlv-2/cancel"), 1);

  auto again = compensator.cancel(id, "impatient");  // still under way: nothing new
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outcome, saga::CancelRequest::kAlreadyUnderWay);

  http_.setRespond([](const std::string&, const std::string&) {
    return ScriptedHttp::answer(200, {{"id", "dlv-2"}, {"status", "CANCELLED"}});
  });
  clock_.advance(milliseconds(1300));
  compensator.runPass([] { return false; });
  EXPECT_EQ(http_.count("POST /deliveries/dlv-2/cancel"), 2);
  EXPECT_EQ(order(id).status, orders::kCancelled);
  EXPECT_EQ(order(id).saga_state, store::kSagaCompensated);
}

TEST_F(Compensation, ACancelAnsweredWithAnHtmlPageIsRetriedNeverTakenAsDone) {
  const std::string id = newOrder();
  giveDelivery(id, "dlv-h");
  http_.queue(ScriptedHttp::answerText(200, "<html><title>Sign in to the shop Wi-Fi</title>"));
  http_.setRespond(ScriptedHttp::knowsDelivery("dlv-h"));
  saga::Compensator compensator = makeCompensator();
  auto cancelled = compensator.cancel(id, "x");
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->order.status, orders::kPendingShipment);  // nothing was cancelled
  EXPECT_EQ(cancelled->order.saga_state, store::kSagaCompensating);
  EXPECT_EQ(events(id, "ORDER_CANCELLED"), 0);
  EXPECT_EQ(jobStatus(id, jobs::kCompensateOrder), "PENDING");

  clock_.advance(milliseconds(1300));
  compensator.runPass([] { return false; });
  EXPECT_EQ(http_.count("POST /deliveries/dlv-h/cancel"), 2);
  EXPECT_EQ(order(id).status, orders::kCancelled);
  EXPECT_EQ(events(id, "ORDER_CANCELLED"), 1);
}

TEST_F(Compensation, ACancelledOrderWithADeliveryIsLeftToBeReadBack) {
  const std::string without = newOrder();
  const std::string with = newOrder();
  giveDelivery(with, "dlv-r");
  http_.setRespond(ScriptedHttp::knowsDelivery("dlv-r"));
  saga::Compensator compensator = makeCompensator();
  ASSERT_TRUE(compensator.cancel(without, "x"));
  ASSERT_TRUE(compensator.cancel(with, "x"));
  EXPECT_EQ(order(with).status, orders::kCancelled);
  // The cancel's own answer does not end the check: reconciliation reads the delivery back.
  EXPECT_EQ(cancelUnverified(with), 1);
  EXPECT_EQ(cancelUnverified(without), 0);
}

TEST_F(Compensation, AfterMaxAttemptsStaffAreToldButTheCancelGoesOn) {
  const std::string id = newOrder();
  giveDelivery(id, "dlv-3");
  http_.setRespond(
      [](const std::string&, const std::string&) { return ScriptedHttp::answer(503, {}); });
  saga::Compensator compensator = makeCompensator();
  ASSERT_TRUE(compensator.cancel(id, "x"));
  for (int i = 0; i < 3; ++i) {
    clock_.advance(milliseconds(10000));
    compensator.runPass([] { return false; });
  }
  EXPECT_EQ(http_.count("POST /deliveries/dlv-3/cancel"), 4);
  EXPECT_EQ(openReviews(id, "CANCELLATION"), 1);
  EXPECT_EQ(jobStatus(id, jobs::kCompensateOrder), "PENDING");  // never given up
  EXPECT_EQ(order(id).status, orders::kPendingShipment);

  http_.setRespond(ScriptedHttp::knowsDelivery("dlv-3"));
  clock_.advance(milliseconds(10000));
  compensator.runPass([] { return false; });
  EXPECT_EQ(order(id).status, orders::kCancelled);
  EXPECT_EQ(openReviews(id, "CANCELLATION"), 0);  // done: nothing left for staff
  EXPECT_FALSE(order(id).requires_manual_review);
}

TEST_F(Compensation, ARefusalEndsTheSagaInReview) {
  const std::string id = newOrder();
  giveDelivery(id, "dlv-4");
  http_.setRespond([](const std::string&, const std::string&) {
    return ScriptedHttp::answer(409, {{"title", "delivery dlv-4 is IN_TRANSIT"}});
  });
  saga::Compensator compensator = makeCompensator();
  auto cancelled = compensator.cancel(id, "x");
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->order.status, orders::kPendingShipment);
  EXPECT_EQ(cancelled->order.saga_state, store::kSagaCompensationFailed);
  EXPECT_TRUE(cancelled->order.requires_manual_review);
  EXPECT_EQ(openReviews(id, "CANCELLATION"), 1);
  EXPECT_EQ(events(id, "ORDER_CANCELLATION_FAILED"), 1);
  EXPECT_EQ(events(id, "ORDER_CANCELLED"), 0);
  EXPECT_EQ(jobStatus(id, jobs::kCompensateOrder), "FAILED");
}

TEST_F(Compensation, ADeliveryTheServiceDoesNotKnowCountsAsCancelled) {
  const std::string id = newOrder();
  giveDelivery(id, "dlv-gone");
  http_.setRespond(
      [](const std::string&, const std::string&) { return ScriptedHttp::answer(404, {}); });
  saga::Compensator compensator = makeCompensator();
  auto cancelled = compensator.cancel(id, "x");
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->order.status, orders::kCancelled);
}

TEST_F(Compensation, ADeliveryWhoseAnswerWasLostIsFoundByItsKeyAndCancelled) {
  const std::string id = newOrder();
  // The one attempt timed out: the service may have made a delivery the node never heard of.
  ASSERT_TRUE(store_->write([&](store::Connection& c) {
    c.exec("UPDATE jobs SET attempts = 1, last_error = 'timed out'");
    return okStatus();
  }));
  http_.setRespond(ScriptedHttp::knowsDelivery("dlv-lost"));
  saga::Compensator compensator = makeCompensator();
  auto cancelled = compensator.cancel(id, "x");
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(http_.calls(),
            (std::vector<std::string>{"POST /deliveries", "POST /deliveries/dlv-lost/cancel"}));
  EXPECT_EQ(cancelled->order.status, orders::kCancelled);
  EXPECT_EQ(cancelled->order.delivery_id, "dlv-lost");
  EXPECT_EQ(jobStatus(id, jobs::kInitiateDelivery), "DONE");
}

TEST_F(Compensation, AnInitiationLeftFromBeforeARestartMayHaveMadeADelivery) {
  const std::string id = newOrder();
  http_.setRespond(ScriptedHttp::knowsDelivery("dlv-9"));
  // This process started after the order was taken: its first attempt may have been in
  // flight when the earlier process died.
  saga::Compensator compensator = makeCompensator(&client_, clock_.wallMillis() + 1);
  ASSERT_TRUE(compensator.cancel(id, "x"));
  EXPECT_EQ(http_.count("POST /deliveries/dlv-9/cancel"), 1);
  EXPECT_EQ(order(id).status, orders::kCancelled);
}

TEST_F(Compensation, WhileADeliveryCallIsUnderWayTheCancelWaitsForIt) {
  const std::string id = newOrder();
  giveDelivery(id, "dlv-5");
  http_.setRespond(ScriptedHttp::knowsDelivery("dlv-5"));
  saga::Compensator compensator = makeCompensator();
  {
    ASSERT_TRUE(order_calls_.in_flight.tryClaim(id));  // the initiator is calling for it
    idempotency::KeyClaim held(order_calls_.in_flight, id);
    auto cancelled = compensator.cancel(id, "x");
    ASSERT_TRUE(cancelled);
    EXPECT_EQ(cancelled->order.saga_state, store::kSagaCompensating);
    EXPECT_TRUE(http_.calls().empty());
  }
  compensator.runPass([] { return false; });
  EXPECT_EQ(order(id).status, orders::kCancelled);
}

TEST_F(Compensation, AnOpenBreakerHoldsTheCallAndTheNextPassWaitsForTheTrial) {
  const std::string id = newOrder();
  giveDelivery(id, "dlv-6");
  openBreaker();
  saga::Compensator compensator = makeCompensator();
  ASSERT_TRUE(compensator.cancel(id, "x"));
  EXPECT_TRUE(http_.calls().empty());
  EXPECT_GE(compensator.runPass([] { return false; }), milliseconds(59000));
  EXPECT_EQ(order(id).saga_state, store::kSagaCompensating);
}

TEST_F(Compensation, NoDeliveryServiceConfiguredStillCancelsAnOrderWithoutDelivery) {
  const std::string id = newOrder();
  saga::Compensator compensator = makeCompensator(nullptr, clock_.wallMillis() + 1);
  auto cancelled = compensator.cancel(id, "x");
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->order.status, orders::kCancelled);
}

TEST_F(Compensation, WithoutADeliveryUrlACancelThatMustLookForADeliveryWaitsForOne) {
  const std::string id = newOrder();
  ASSERT_TRUE(store_->write([&](store::Connection& c) {
    c.exec("UPDATE jobs SET attempts = 1, last_error = 'timed out'");
    return okStatus();
  }));
  saga::Compensator compensator = makeCompensator(nullptr, clock_.wallMillis());
  auto cancelled = compensator.cancel(id, "x");
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->order.status, orders::kPendingShipment);
  EXPECT_EQ(cancelled->order.saga_state, store::kSagaCompensating);
  // It waits (no spinning) for a delivery URL to ask the service with.
  EXPECT_GE(compensator.runPass([] { return false; }), milliseconds(59000));
}

TEST_F(Compensation, StartUpResumesInterruptedSagas) {
  const std::string waiting = newOrder();
  const std::string cancelling = newOrder();
  giveDelivery(cancelling, "dlv-8");
  ASSERT_TRUE(store_->write([&](store::Connection& c) {
    c.exec("UPDATE jobs SET next_run_at = next_run_at + 600000 WHERE kind = 'INITIATE_DELIVERY'");
    // A COMPENSATING saga whose job went missing (written by hand: cannot happen otherwise).
    store::setSagaState(c, cancelling, store::kSagaCompensating, clock_.wallMillis());
    return okStatus();
  }));
  auto report = saga::resumeInterruptedSagas(*store_, clock_.wallMillis());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->resumed, 1);  // `waiting`: its delivery initiation is due now
  EXPECT_EQ(report->compensating, 1);
  EXPECT_EQ(report->repaired, 1);
  auto due = *store_->read([&](store::Connection& c) {
    return jobs::dueJobs(c, jobs::kInitiateDelivery, clock_.wallMillis(), 10);
  });
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].aggregate_id, waiting);

  http_.setRespond(ScriptedHttp::knowsDelivery("dlv-8"));
  saga::Compensator compensator = makeCompensator();
  compensator.runPass([] { return false; });
  EXPECT_EQ(order(cancelling).status, orders::kCancelled);
}

TEST_F(Compensation, AnOrderWhoseCallOutcomeWasNotRecordedIsLookedUp) {
  const std::string id = newOrder();
  order_calls_.markUnrecorded(id);  // a delivery answered, but the database was down
  http_.setRespond(ScriptedHttp::knowsDelivery("dlv-u"));
  saga::Compensator compensator = makeCompensator();
  ASSERT_TRUE(compensator.cancel(id, "x"));
  EXPECT_EQ(http_.count("POST /deliveries/dlv-u/cancel"), 1);
}

TEST_F(Compensation, AnApprovedRestartStillRemembersEarlierAttempts) {
  const std::string id = newOrder();
  ASSERT_TRUE(store_->write([&](store::Connection& c) {
    c.exec("UPDATE jobs SET status = 'FAILED', attempts = 5");
    store::flagForReview(c, id, store::kReviewDelivery, "delivery failed 5 times",
                         clock_.wallMillis());
    return okStatus();
  }));
  review::ReviewService reviews(*context_, {});
  ASSERT_TRUE(reviews.resolve(id, {review::ReviewAction::kApprove, ""}));
  http_.setRespond(ScriptedHttp::knowsDelivery("dlv-a"));
  saga::Compensator compensator = makeCompensator();
  ASSERT_TRUE(compensator.cancel(id, "x"));
  EXPECT_EQ(http_.count("POST /deliveries"), 1);  // a timed-out attempt may have made one
  EXPECT_EQ(http_.count("POST /deliveries/dlv-a/cancel"), 1);
  EXPECT_EQ(order(id).status, orders::kCancelled);
}

TEST_F(Compensation, DeliveryInitiationStandsAsideWhileTheOrderIsBeingCancelled) {
  const std::string id = newOrder();
  http_.setRespond([](const std::string&, const std::string&) {
    return ScriptedHttp::answer(201, {{"id", "dlv-n"}, {"status", "CREATED"}});
  });
  saga::Compensator compensator = makeCompensator();
  {
    // Compensation cannot run yet (a call is under way): the saga is COMPENSATING.
    ASSERT_TRUE(order_calls_.in_flight.tryClaim(id));
    idempotency::KeyClaim held(order_calls_.in_flight, id);
    ASSERT_TRUE(compensator.cancel(id, "x"));
  }
  saga::DeliveryInitiator initiator(
      {*context_, breaker_, &client_, RetryConfig{1000, 8000, 3}, order_calls_, nullptr});
  // It does not call, and it does not come back at once for the same job.
  EXPECT_GE(initiator.runPass([] { return false; }), milliseconds(50000));
  EXPECT_TRUE(http_.calls().empty());
  compensator.runPass([] { return false; });
  EXPECT_EQ(order(id).status, orders::kCancelled);
  EXPECT_EQ(jobStatus(id, jobs::kInitiateDelivery), "DONE");
  EXPECT_TRUE(http_.calls().empty());
}

TEST_F(Compensation, CancellingAnOrderEndsItsCompensationJobToo) {
  const std::string id = newOrder();
  ASSERT_TRUE(store_->write([&](store::Connection& c) -> Status {
    auto found = orders::findOrder(c, id, false);
    auto begun = saga::beginCompensation(c, *found, "x", clock_.wallMillis());
    EXPECT_TRUE(begun);
    found = orders::findOrder(c, id, false);  // as a permanent rejection would, meanwhile
    outbox::EventContext context{"node-1", clock_.wallMillis(), random_};
    EXPECT_TRUE(saga::cancelOrder(c, *found, "rejected", context));
    return okStatus();
  }));
  EXPECT_EQ(jobStatus(id, jobs::kCompensateOrder), "DONE");
  EXPECT_EQ(order(id).saga_state, store::kSagaCompensated);
}

}  // namespace
}  // namespace outpost::testing
