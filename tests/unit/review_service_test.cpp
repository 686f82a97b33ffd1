// The manual review queue: listing, and resolving by approve or cancel.
#include "review/review_service.h"

#include <gtest/gtest.h>

#include "jobs/job_store.h"
#include "saga_fixture.h"
#include "store/review_records.h"
#include "store/saga_records.h"

namespace outpost::testing {
namespace {

using nlohmann::json;

class Reviews : public SagaFixture {
 protected:
  void SetUp() override {
    SagaFixture::SetUp();
    reviews_ = std::make_unique<review::ReviewService>(
        *context_, review::ReviewHooks{[this](const std::string& id) { cancels_.push_back(id); },
                                       [this] { ++redeliveries_; }});
  }

  void flag(const std::string& id, const char* kind, const std::string& reason) {
    ASSERT_TRUE(store_->write([&](store::Connection& c) {
      store::flagForReview(c, id, kind, reason, clock_.wallMillis());
      return okStatus();
    }));
  }

  std::unique_ptr<review::ReviewService> reviews_;
  std::vector<std::string> cancels_;
  int redeliveries_ = 0;
};

TEST_F(Reviews, ResolutionsAreParsedStrictly) {
  EXPECT_TRUE(review::parseResolution(json{{"action", "approve"}}));
  auto cancel = review::parseResolution(json{{"action", "cancel"}, {"note", "fraud"}});
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->action, review::ReviewAction::kCancel);
  EXPECT_EQ(cancel->note, "fraud");
  auto bad = review::parseResolution(json{{"action", "delete"}, {"note", 5}, {"who", "me"}});
  ASSERT_FALSE(bad);
  ASSERT_EQ(bad.error().fields.size(), 3u);
  EXPECT_FALSE(review::parseResolution(json::array()));
  EXPECT_FALSE(
      review::parseResolution(json{{"action", "approve"}, {"note", std::string(1001, 'x')}}));
}

TEST_F(Reviews, TheQueueListsOpenItemsOldestFirstInPages) {
  const std::string a = newOrder();
  const std::string b = newOrder();
  flag(a, store::kReviewAvailability, "product service down");
  clock_.advance(std::chrono::milliseconds(5));
  flag(b, store::kReviewDelivery, "delivery failed 20 times");
  flag(a, store::kReviewReconciliation, "Invalid status transition");
  auto first = reviews_->list({2, std::nullopt});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->items[0].order_id, a);
  EXPECT_EQ(first->items[1].order_id, b);
  ASSERT_TRUE(first->next);
  auto second = reviews_->list({2, first->next});
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].kind, "RECONCILIATION");
  EXPECT_FALSE(second->next);
  const json item = review::reviewJson(first->items[0]);
  EXPECT_EQ(item["orderId"], a);
  EXPECT_EQ(item["reason"], "product service down");
  EXPECT_TRUE(item["createdAt"].is_string());
}

TEST_F(Reviews, ApproveClosesEveryItemRecordsTheNoteAndRestartsAGivenUpDelivery) {
  const std::string id = newOrder();
  ASSERT_TRUE(store_->write([&](store::Connection& c) {
    c.exec("UPDATE jobs SET status = 'FAILED', attempts = 20");
    return okStatus();
  }));
  flag(id, store::kReviewDelivery, "delivery initiation failed 20 times");
  flag(id, store::kReviewAvailability, "product service down");
  auto resolved = reviews_->resolve(id, {review::ReviewAction::kApprove, "checked by phone"});
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_FALSE(resolved->accepted);
  EXPECT_FALSE(resolved->order.requires_manual_review);
  EXPECT_EQ(resolved->order.history.back().reason, "manual review: approve: checked by phone");
  EXPECT_EQ(resolved->order.status, orders::kPendingShipment);
  EXPECT_EQ(redeliveries_, 1);
  auto job = *store_->read(
      [&](store::Connection& c) { return jobs::pendingJobFor(c, jobs::kInitiateDelivery, id); });
  ASSERT_TRUE(job);
  EXPECT_EQ(job->attempts, 0);
  EXPECT_EQ(events(id, "MANUAL_REVIEW_RESOLVED"), 1);
  // The answer carries the forwarding trail, the resolution's event last (SPEC §11).
  ASSERT_FALSE(resolved->order.events.empty());
  EXPECT_EQ(resolved->order.events.front().event_type, "ORDER_CREATED");
  EXPECT_EQ(resolved->order.events.back().event_type, "MANUAL_REVIEW_RESOLVED");
  EXPECT_EQ(reviews_->list({})->items.size(), 0u);

  auto again = reviews_->resolve(id, {review::ReviewAction::kApprove, ""});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::kConflict);
}

TEST_F(Reviews, CancelStartsTheSagasCompensation) {
  const std::string id = newOrder();
  flag(id, store::kReviewAvailability, "product service down");
  auto resolved = reviews_->resolve(id, {review::ReviewAction::kCancel, "out of stock"});
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_TRUE(resolved->accepted);
  EXPECT_EQ(resolved->order.saga_state, store::kSagaCompensating);
  EXPECT_EQ(cancels_, std::vector<std::string>{id});
  auto job = *store_->read(
      [&](store::Connection& c) { return jobs::pendingJobFor(c, jobs::kCompensateOrder, id); });
  EXPECT_TRUE(job);
}

TEST_F(Reviews, AShippedOrderCannotBeCancelledAndKeepsItsItem) {
  const std::string id = newOrder();
  giveDelivery(id, "dlv-1");
  setStatus(id, orders::kPendingShipment, orders::kShipped);
  flag(id, store::kReviewReconciliation, "Invalid status transition");
  auto resolved = reviews_->resolve(id, {review::ReviewAction::kCancel, ""});
  ASSERT_FALSE(resolved);
  EXPECT_EQ(resolved.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(openReviews(id, "RECONCILIATION"), 1);
  EXPECT_TRUE(cancels_.empty());
  EXPECT_EQ(reviews_->resolve("ORD-01ARZ3NDEKTSV4RRFFQ69G5FAV", {}).error().kind,
            ErrorKind::kNotFound);
}

}  // namespace
}  // namespace outpost::testing
