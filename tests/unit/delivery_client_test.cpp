// The delivery service's answers (SPEC §6) as DeliveryClient reads them: what counts as done,
// what is a permanent answer, and what is no answer at all (retried).
#include "clients/delivery_client.h"

#include <gtest/gtest.h>

#include "support/scripted_http.h"

namespace outpost::testing {
namespace {

using clients::CallClass;
using clients::DeliveryAnswer;

class DeliveryCancel : public ::testing::Test {
 protected:
  DeliveryAnswer cancelAnswered(clients::HttpResponse answer) {
    http_.queue(std::move(answer));
    return client_.cancel("dlv-1");
  }

  ScriptedHttp http_;
  clients::DeliveryClient client_{http_, "http://delivery.test", 3000};
};

TEST_F(DeliveryCancel, TheServiceSayingTheDeliveryIsCancelledIsDone) {
  const DeliveryAnswer answer =
      cancelAnswered(ScriptedHttp::answer(200, {{"id", "dlv-1"}, {"status", "CANCELLED"}}));
  EXPECT_EQ(answer.call_class, CallClass::kSuccess);
  EXPECT_EQ(answer.delivery_id, "dlv-1");
  EXPECT_EQ(answer.status, "CANCELLED");
  EXPECT_EQ(http_.calls(), std::vector<std::string>{"POST /deliveries/dlv-1/cancel"});
}

TEST_F(DeliveryCancel, AnHtmlPageWithA200IsNoAnswerAndIsRetried) {
  const DeliveryAnswer answer =
      cancelAnswered(ScriptedHttp::answerText(200, "<html><body>Welcome to the shop Wi-Fi"));
  EXPECT_EQ(answer.call_class, CallClass::kRetriable);
  EXPECT_TRUE(answer.delivery_id.empty());
  EXPECT_NE(answer.error.find("malformed answer from the delivery service"), std::string::npos)
      << answer.error;
}

TEST_F(DeliveryCancel, A2xxOfAnyOtherShapeIsNoAnswer) {
  const std::vector<clients::HttpResponse> answers = {
      ScriptedHttp::answer(200, nlohmann::json::object()),
      ScriptedHttp::answerText(204, ""),
      ScriptedHttp::answer(200, {{"id", "dlv-1"}, {"status", "CREATED"}}),
      ScriptedHttp::answer(200, {{"id", "dlv-2"}, {"status", "CANCELLED"}}),  // another one
      ScriptedHttp::answer(200, {{"status", "CANCELLED"}}),
      ScriptedHttp::answer(200, {{"id", "dlv-1"}, {"status", 3}}),
      ScriptedHttp::answer(200,
                           nlohmann::json::array({{{"id", "dlv-1"}, {"status", "CANCELLED"}}})),
      ScriptedHttp::answerText(200, R"({"id": "dlv-1", "status": "CANCELLED")"),  // truncated
  };
  for (const auto& answer : answers) {
    const DeliveryAnswer read = cancelAnswered(answer);
    EXPECT_EQ(read.call_class, CallClass::kRetriable) << answer.body;
    EXPECT_TRUE(read.delivery_id.empty()) << answer.body;
  }
}

TEST_F(DeliveryCancel, A404MeansTheServiceHoldsNoSuchDelivery) {
  const DeliveryAnswer answer = cancelAnswered(ScriptedHttp::answer(404, {{"title", "no such"}}));
  EXPECT_EQ(answer.call_class, CallClass::kPermanent);
  EXPECT_TRUE(answer.no_such_delivery);
}

TEST_F(DeliveryCancel, AnotherRefusalIsPermanentAndNotAnUnknownDelivery) {
  const DeliveryAnswer answer = cancelAnswered(ScriptedHttp::answer(409, {{"title", "shipped"}}));
  EXPECT_EQ(answer.call_class, CallClass::kPermanent);
  EXPECT_FALSE(answer.no_such_delivery);
}

TEST_F(DeliveryCancel, ARedirectFromAPortalIsNoRefusal) {
  const DeliveryAnswer answer = cancelAnswered(ScriptedHttp::answerText(302, ""));
  EXPECT_EQ(answer.call_class, CallClass::kRetriable);
  EXPECT_FALSE(answer.no_such_delivery);
}

TEST_F(DeliveryCancel, ServerErrorsAndTimeoutsAreRetried) {
  EXPECT_EQ(cancelAnswered(ScriptedHttp::answer(500, {})).call_class, CallClass::kRetriable);
  EXPECT_EQ(cancelAnswered(ScriptedHttp::answer(503, {})).call_class, CallClass::kRetriable);
  const DeliveryAnswer timed_out = cancelAnswered(ScriptedHttp::timedOut());
  EXPECT_EQ(timed_out.call_class, CallClass::kRetriable);
  EXPECT_TRUE(timed_out.timed_out);
  EXPECT_EQ(cancelAnswered(ScriptedHttp::refused()).call_class, CallClass::kRetriable);
}

}  // namespace
}  // namespace outpost::testing
