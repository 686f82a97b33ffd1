// Delivery initiation (SPEC §4.1) on a fake clock: retries and their backoff, the
// breaker's trial pulling a retry forward, recovery bringing retries forward, giving up,
// a permanent rejection and a missing delivery URL. No test waits for real time.
#include "saga/delivery_initiator.h"

#include <gtest/gtest.h>

#include "saga_fixture.h"
#include "store/review_records.h"

namespace outpost::testing {
namespace {

using std::chrono::milliseconds;

const jobs::StopRequested kKeepGoing = [] { return false; };

class DeliveryInitiation : public SagaFixture {
 protected:
  saga::DeliveryInitiator initiator(clients::DeliveryClient* client,
                                    RetryConfig retry = {60000, 300000, 20}) {
    return saga::DeliveryInitiator({*context_, breaker_, client, retry, order_calls_, nullptr});
  }

  struct Job {
    std::string status;
    int attempts = 0;
    std::int64_t next_run_at = 0;
  };
  Job job(const std::string& order_id) {
    return *store_->read([&](store::Connection& c) {
      SQLite::Statement query(c.db(),
                              "SELECT status, attempts, next_run_at FROM jobs"
                              " WHERE aggregate_id = ? AND kind = 'INITIATE_DELIVERY'");
      query.bind(1, order_id);
      EXPECT_TRUE(query.executeStep());
      return Job{query.getColumn(0).getString(), query.getColumn(1).getInt(),
                 query.getColumn(2).getInt64()};
    });
  }
  std::int64_t waitOf(const std::string& order_id) {
    return job(order_id).next_run_at - clock_.wallMillis();
  }
  void deliveriesSucceed() {
    http_.setFault(ScriptedHttp::Fault::kNone);
    http_.setRespond([](const std::string&, const std::string&) {
      return ScriptedHttp::answer(201, {{"id", "dlv-1"}, {"status", "CREATED"}});
    });
  }

  saga::OrderCalls order_calls_;
};

TEST_F(DeliveryInitiation, AFailedDeliveryIsRetriedAfterAMinuteDoublingToFive) {
  http_.setFault(ScriptedHttp::Fault::kRefuse);
  const std::string id = newOrder();
  auto delivery = initiator(&client_);
  // 1 min, 2 min, 4 min, then 5 min (the cap), each within ±20 %.
  const std::int64_t expected[] = {60000, 120000, 240000, 300000};
  for (int attempt = 1; attempt <= 4; ++attempt) {
    delivery.runPass(kKeepGoing);
    EXPECT_EQ(job(id).attempts, attempt);
    const std::int64_t wait = waitOf(id);
    const std::int64_t nominal = expected[attempt - 1];
    EXPECT_GE(wait, nominal * 8 / 10) << attempt;
    EXPECT_LE(wait, std::min<std::int64_t>(nominal * 12 / 10, 300000)) << attempt;
    // Not a moment early.
    clock_.advance(milliseconds(wait - 1));
    delivery.runPass(kKeepGoing);
    EXPECT_EQ(job(id).attempts, attempt);
    clock_.advance(milliseconds(1));
  }
  EXPECT_EQ(events(id, "DELIVERY_INITIATION_FAILED"), 4);
  EXPECT_EQ(order(id).delivery_id, std::nullopt);
}

TEST_F(DeliveryInitiation, ASuccessRecordsTheDeliveryAndCompletesTheSaga) {
  deliveriesSucceed();
  const std::string id = newOrder();
  auto delivery = initiator(&client_);
  delivery.runPass(kKeepGoing);
  EXPECT_EQ(order(id).delivery_id, "dlv-1");
  EXPECT_EQ(job(id).status, "DONE");
  EXPECT_EQ(events(id, "DELIVERY_INITIATED"), 1);
  EXPECT_EQ(order(id).saga_state, store::kSagaCompleted);
  // The order id is the Idempotency-Key.
  const auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& headers = requests[0].headers;
  EXPECT_NE(
      std::find(headers.begin(), headers.end(), std::make_pair(std::string("Idempotency-Key"), id)),
      headers.end());
}

TEST_F(DeliveryInitiation, FlappingAndMalformedAnswersConvergeOnOneDeliveryPerOrder) {
  // A malformed 2xx (a proxy's HTML page) may have made a delivery the node never heard
  // of: it is retried, with the same Idempotency-Key, so the service answers with that
  // same delivery rather than making a second one.
  const std::string id = newOrder();
  auto delivery = initiator(&client_, {1000, 1000, 20});
  for (auto fault : {ScriptedHttp::Fault::kMalformed, ScriptedHttp::Fault::kServerError,
                     ScriptedHttp::Fault::kRefuse, ScriptedHttp::Fault::kMalformed}) {
    http_.setFault(fault);
    delivery.runPass(kKeepGoing);
    EXPECT_EQ(job(id).status, "PENDING");
    clock_.advance(milliseconds(1200));
  }
  deliveriesSucceed();
  delivery.runPass(kKeepGoing);
  EXPECT_EQ(order(id).delivery_id, "dlv-1");
  EXPECT_EQ(events(id, "DELIVERY_INITIATION_FAILED"), 4);
  const auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 5u);
  for (const auto& request : requests) {
    EXPECT_NE(std::find(request.headers.begin(), request.headers.end(),
                        std::make_pair(std::string("Idempotency-Key"), id)),
              request.headers.end());
  }
}

TEST_F(DeliveryInitiation, AfterTheLastAttemptTheOrderGoesToReview) {
  http_.setFault(ScriptedHttp::Fault::kServerError);
  const std::string id = newOrder();
  auto delivery = initiator(&client_, {1000, 8000, 3});
  for (int attempt = 1; attempt <= 3; ++attempt) {
    delivery.runPass(kKeepGoing);
    clock_.advance(milliseconds(10000));
  }
  EXPECT_EQ(job(id).status, "FAILED");
  EXPECT_EQ(job(id).attempts, 3);
  EXPECT_EQ(events(id, "DELIVERY_INITIATION_FAILED"), 3);
  EXPECT_EQ(events(id, "DELIVERY_INITIATION_EXHAUSTED"), 1);
  EXPECT_TRUE(order(id).requires_manual_review);
  EXPECT_EQ(openReviews(id, store::kReviewDelivery), 1);
  EXPECT_EQ(http_.count("POST /deliveries"), 3);
}

TEST_F(DeliveryInitiation, APermanentRejectionCancelsTheOrderAtOnce) {
  http_.setRespond([](const std::string&, const std::string&) {
    return ScriptedHttp::answer(422, {{"title", "no such address"}});
  });
  const std::string id = newOrder();
  auto delivery = initiator(&client_);
  delivery.runPass(kKeepGoing);
  // The saga compensates: nothing to cancel at the delivery service, so the order goes.
  EXPECT_EQ(order(id).status, orders::kCancelled);
  EXPECT_EQ(order(id).saga_state, store::kSagaCompensated);
  EXPECT_EQ(events(id, "ORDER_CANCELLED"), 1);
  EXPECT_EQ(job(id).status, "FAILED");
  EXPECT_EQ(openReviews(id, store::kReviewDelivery), 1);
  EXPECT_EQ(events(id, "DELIVERY_INITIATION_FAILED"), 1);
  EXPECT_EQ(events(id, "DELIVERY_INITIATION_EXHAUSTED"), 0);
  EXPECT_EQ(http_.count("POST /deliveries"), 1);
}

TEST_F(DeliveryInitiation, AnOpenBreakerSpendsNoAttemptsAndWaitsForItsTrial) {
  openBreaker();
  deliveriesSucceed();
  const std::string id = newOrder();
  auto delivery = initiator(&client_);
  EXPECT_EQ(delivery.runPass(kKeepGoing), milliseconds(60000));  // the breaker's reset timeout
  EXPECT_EQ(job(id).attempts, 0);
  EXPECT_TRUE(http_.calls().empty());
}

TEST_F(DeliveryInitiation, TheBreakersTrialPullsTheEarliestRetryForward) {
  http_.setFault(ScriptedHttp::Fault::kRefuse);
  const std::string first = newOrder();
  const std::string second = newOrder();
  auto delivery = initiator(&client_, {300000, 300000, 20});
  delivery.runPass(kKeepGoing);  // both fail: retries in about 5 min
  openBreaker();
  deliveriesSucceed();
  clock_.advance(milliseconds(60000));  // the breaker's reset timeout, long before the retries
  ASSERT_EQ(breaker_.state(), resilience::BreakerState::kHalfOpen);
  delivery.runPass(kKeepGoing);
  EXPECT_EQ(breaker_.state(), resilience::BreakerState::kClosed);
  // One of them went as the trial; the other waits for the recovery to bring it forward.
  const int delivered = (order(first).delivery_id ? 1 : 0) + (order(second).delivery_id ? 1 : 0);
  EXPECT_EQ(delivered, 1);
  delivery.bringRetriesForward();
  delivery.runPass(kKeepGoing);
  EXPECT_EQ(order(first).delivery_id, "dlv-1");
  EXPECT_EQ(order(second).delivery_id, "dlv-1");
}

TEST_F(DeliveryInitiation, RecoveryBringsEveryWaitingRetryForward) {
  http_.setFault(ScriptedHttp::Fault::kTimeout);
  const std::string first = newOrder();
  const std::string second = newOrder();
  auto delivery = initiator(&client_);
  delivery.runPass(kKeepGoing);
  ASSERT_GT(waitOf(first), 40000);
  deliveriesSucceed();
  delivery.bringRetriesForward();
  delivery.runPass(kKeepGoing);  // no time has passed
  EXPECT_EQ(order(first).delivery_id, "dlv-1");
  EXPECT_EQ(order(second).delivery_id, "dlv-1");
}

TEST_F(DeliveryInitiation, WithoutADeliveryUrlJobsWaitAndSpendNoAttempts) {
  const std::string id = newOrder();
  auto delivery = initiator(nullptr);
  EXPECT_EQ(delivery.runPass(kKeepGoing), jobs::kIdleDelay);
  clock_.advance(milliseconds(3600000));
  delivery.runPass(kKeepGoing);
  EXPECT_EQ(job(id).attempts, 0);
  EXPECT_EQ(job(id).status, "PENDING");
}

}  // namespace
}  // namespace outpost::testing
