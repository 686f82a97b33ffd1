// SPEC §11 clock skew: which AWS answers blame the node's clock, the offset a Date header
// gives, and the one corrected retry of the SNS and SQS destinations, against a scripted
// HttpClient. The wire (one X-Amz-Date, the signature) is in http_client_test.cpp, the
// real binary behind a skewed proxy in tests/integration/clock_skew_test.cpp.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "alerts/alert_rules.h"
#include "clients/aws_sigv4.h"
#include "clients/event_destinations.h"
#include "clients/service_clock.h"
#include "observability/metrics.h"
#include "observability/reliability.h"
#include "support/fake_clock.h"
#include "support/scripted_http.h"

namespace outpost::clients {
namespace {

using outpost::FakeClock;
using outpost::testing::ScriptedHttp;

// 2026-03-03 10:00:00 UTC on the box; the services say 12:00:00.
constexpr std::int64_t kLocalMs = 1'772'532'000'000;
constexpr std::int64_t kTwoHoursMs = 2 * 3600 * 1000;
const std::string kServiceDate = "Tue, 03 Mar 2026 12:00:00 GMT";

const EventMessage kCreated{R"({"eventId":"e-1"})", "ORDER_CREATED", "ORD-1", "e-1"};

HttpResponse withDate(HttpResponse response, std::string date = kServiceDate) {
  response.date = std::move(date);
  return response;
}

HttpResponse sqsSignatureExpired() {
  return withDate(ScriptedHttp::answer(
      400, {{"__type", "com.amazon.coral.service#InvalidSignatureException"},
            {"message",
             "Signature expired: 20260303T100000Z is now earlier than 20260303T115500Z "
             "(20260303T120000Z - 5 min.)"}}));
}

HttpResponse snsSignatureExpired() {
  return withDate(ScriptedHttp::answerText(
      403,
      "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
      "<Message>Signature expired: 20260303T100000Z is now earlier than 20260303T115500Z "
      "(20260303T120000Z - 5 min.)</Message></Error></ErrorResponse>"));
}

HttpResponse sqsSent() { return ScriptedHttp::answer(200, {{"MessageId", "m-1"}}); }

class ClockSkew : public ::testing::Test {
 protected:
  ClockSkew()
      : local_(FakeClock::WallTime(std::chrono::milliseconds(kLocalMs))),
        service_clock_(local_,
                       [this](std::int64_t, std::int64_t now) { changes_.push_back(now); }) {}

  AwsTarget target() {
    return {"eu-west-1", "http://127.0.0.1:4566/", AwsCredentials{"AKID", "secret", ""}, 1000,
            nullptr,     &service_clock_};
  }

  FakeClock local_;
  std::vector<std::int64_t> changes_;
  ServiceClock service_clock_;
  ScriptedHttp http_;
};

TEST(ClockError, TooSkewedAndExpiredRequestsAreClockErrorsWhateverTheMessage) {
  EXPECT_TRUE(isClockError("RequestTimeTooSkewed",
                           "The difference between the request time and "
                           "the current time is too large."));
  EXPECT_TRUE(isClockError("RequestExpired", ""));
}

TEST(ClockError, AnExpiredOrNotYetCurrentSignatureIsAClockError) {
  for (const char* code : {"InvalidSignatureException", "SignatureDoesNotMatch"}) {
    EXPECT_TRUE(isClockError(code,
                             "Signature expired: 20261207T100000Z is now earlier than "
                             "20261207T115500Z (20261207T120000Z - 5 min.)"))
        << code;
    EXPECT_TRUE(isClockError(code,
                             "Signature not yet current: 20261207T140000Z is still later than "
                             "20261207T120500Z (20261207T120000Z + 5 min.)"))
        << code;
  }
}

TEST(ClockError, APlainSignatureMismatchIsAWrongSecretNotAClockError) {
  const char* wrong_secret =
      "The request signature we calculated does not match the signature you provided. Check "
      "your AWS Secret Access Key and signing method.";
  EXPECT_FALSE(isClockError("SignatureDoesNotMatch", wrong_secret));
  EXPECT_FALSE(isClockError("InvalidSignatureException", wrong_secret));
  EXPECT_FALSE(isClockError("AccessDenied", "Signature expired: but not a signature code"));
  EXPECT_FALSE(isClockError("", ""));
  // Its classification is unchanged: the node's credentials, not the event, are at fault.
  EXPECT_EQ(classifyAwsError(403, "SignatureDoesNotMatch"), CallClass::kRetriable);
}

TEST(ServiceClockTest, TheOffsetIsTheDateHeaderMinusTheLocalClock) {
  FakeClock local{FakeClock::WallTime(std::chrono::milliseconds(kLocalMs))};
  std::vector<std::pair<std::int64_t, std::int64_t>> changes;
  ServiceClock clock(local, [&](std::int64_t old_ms, std::int64_t new_ms) {
    changes.emplace_back(old_ms, new_ms);
  });
  EXPECT_EQ(clock.offsetMillis(), 0);
  EXPECT_EQ(clock.serviceMillis(), kLocalMs);

  ASSERT_TRUE(clock.correctFrom(kServiceDate));
  EXPECT_EQ(clock.offsetMillis(), kTwoHoursMs);
  EXPECT_EQ(clock.serviceMillis(), kLocalMs + kTwoHoursMs);
  local.advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.serviceMillis(), kLocalMs + 1500 + kTwoHoursMs);  // the offset is kept

  ASSERT_TRUE(clock.correctFrom("Tue, 03 Mar 2026 09:00:01 GMT"));  // a clock ahead
  EXPECT_EQ(clock.offsetMillis(), -3600 * 1000 + 1000 - 1500);
  EXPECT_FALSE(clock.correctFrom(""));
  EXPECT_FALSE(clock.correctFrom("not a date"));
  EXPECT_EQ(clock.offsetMillis(), -3600 * 1000 + 1000 - 1500);  // unchanged
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0], std::make_pair(std::int64_t{0}, kTwoHoursMs));
}

TEST(ServiceClockTest, AmzDateIsTheSigV4TimeInUtc) {
  EXPECT_EQ(amzDate(kLocalMs + kTwoHoursMs), "20260303T120000Z");
  EXPECT_EQ(amzDate(kLocalMs + 999), "20260303T100000Z");
}

TEST_F(ClockSkew, AnSqsClockErrorIsSignedAgainAtTheServiceTimeAndSucceeds) {
  http_.queue(sqsSignatureExpired());
  http_.queue(sqsSent());
  SqsQueue queue(http_, target(), "http://127.0.0.1:4566/000000000000/events");

  const PublishOutcome outcome = queue.publish({kCreated});

  EXPECT_EQ(outcome.request, CallClass::kSuccess);
  ASSERT_EQ(outcome.entries.size(), 1u);
  EXPECT_EQ(outcome.entries[0].call_class, CallClass::kSuccess);
  const auto sent = http_.requests();
  ASSERT_EQ(sent.size(), 2u);
  ASSERT_TRUE(sent[0].aws_sigv4 && sent[1].aws_sigv4);
  EXPECT_EQ(sent[0].aws_sigv4->signing_time, "");  // libcurl at the local clock
  EXPECT_EQ(sent[1].aws_sigv4->signing_time, "20260303T120000Z");
  EXPECT_EQ(sent[1].body, sent[0].body);  // the same request
  EXPECT_EQ(service_clock_.offsetMillis(), kTwoHoursMs);
  EXPECT_EQ(changes_, std::vector<std::int64_t>{kTwoHoursMs});
}

TEST_F(ClockSkew, AnSnsClockErrorIsSignedAgainAtTheServiceTimeAndSucceeds) {
  http_.queue(snsSignatureExpired());
  http_.queue(ScriptedHttp::answerText(
      200,
      "<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult>"
      "</PublishResponse>"));
  SnsTopic topic(http_, target(), "arn:aws:sns:eu-west-1:000000000000:events");

  const PublishOutcome outcome = topic.publish({kCreated});

  EXPECT_EQ(outcome.request, CallClass::kSuccess);
  EXPECT_TRUE(outcome.error.empty()) << outcome.error;
  const auto sent = http_.requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].aws_sigv4->signing_time, "20260303T120000Z");
}

TEST_F(ClockSkew, LaterPublishesAndDescribesSignWithTheKeptOffset) {
  http_.queue(sqsSignatureExpired());
  SqsQueue queue(http_, target(), "http://127.0.0.1:4566/000000000000/events");
  SnsTopic topic(http_, target(), "arn:aws:sns:eu-west-1:000000000000:events");
  queue.publish({kCreated});
  local_.advance(std::chrono::minutes(10));

  queue.publish({kCreated});
  topic.describe();

  const auto sent = http_.requests();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[2].aws_sigv4->signing_time, "20260303T121000Z");
  EXPECT_EQ(sent[3].aws_sigv4->signing_time, "20260303T121000Z");  // one clock, SNS too
}

TEST_F(ClockSkew, ASecondClockErrorTakesTheNormalPathWithoutAThirdTry) {
  http_.queue(sqsSignatureExpired());
  http_.queue(sqsSignatureExpired());
  SqsQueue queue(http_, target(), "http://127.0.0.1:4566/000000000000/events");

  const PublishOutcome outcome = queue.publish({kCreated});

  EXPECT_EQ(outcome.request, CallClass::kRetriable);  // as before: not the event's fault
  EXPECT_EQ(http_.requests().size(), 2u);
}

TEST_F(ClockSkew, AClockErrorWithoutADateIsNotRetriedAndTakesTheNormalPath) {
  http_.queue(withDate(sqsSignatureExpired(), ""));
  SqsQueue queue(http_, target(), "http://127.0.0.1:4566/000000000000/events");

  EXPECT_EQ(queue.publish({kCreated}).request, CallClass::kRetriable);
  EXPECT_EQ(http_.requests().size(), 1u);
  EXPECT_EQ(service_clock_.offsetMillis(), 0);
}

TEST_F(ClockSkew, AWrongSecretIsNotRetriedAndKeepsItsClassification) {
  http_.queue(withDate(ScriptedHttp::answer(
      400, {{"__type", "com.amazon.coral.service#InvalidSignatureException"},
            {"message",
             "The request signature we calculated does not match the signature you "
             "provided."}})));
  SqsQueue queue(http_, target(), "http://127.0.0.1:4566/000000000000/events");

  EXPECT_EQ(queue.publish({kCreated}).request, CallClass::kRetriable);
  EXPECT_EQ(http_.requests().size(), 1u);
  EXPECT_EQ(service_clock_.offsetMillis(), 0);
}

TEST(ClockSkewFigures, TheAlertHoldsOnlyWhileTheOffsetIsOverFiveMinutesEitherWay) {
  observability::ReliabilityFigures figures;
  const auto holds = [&](std::int64_t skew_ms) {
    figures.clock_skew_ms = skew_ms;
    const auto condition = alerts::evaluate(figures, {}).at(alerts::kClockSkew);
    EXPECT_EQ(condition.details["skewMs"], skew_ms);
    return condition.holds;
  };
  EXPECT_FALSE(holds(0));
  EXPECT_FALSE(holds(300'000));
  EXPECT_TRUE(holds(300'001));
  EXPECT_FALSE(holds(-300'000));
  EXPECT_TRUE(holds(-300'001));
}

TEST(ClockSkewFigures, HealthAndMetricsShowTheOffsetInUse) {
  observability::FigureInputs inputs;
  inputs.stored = observability::StoredFigures{};
  inputs.clock_skew_ms = kTwoHoursMs + 250;
  const auto figures = observability::assembleFigures(Config{}, inputs);
  EXPECT_EQ(observability::healthJson(figures)["clockSkewMs"], kTwoHoursMs + 250);
  const std::string text = observability::Metrics().render(figures);
  EXPECT_NE(text.find("\n# TYPE outpost_clock_skew_seconds gauge\noutpost_clock_skew_seconds "
                      "7200.25\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(observability::healthJson(observability::assembleFigures(Config{}, {}))["clockSkewMs"],
            0);
}

}  // namespace
}  // namespace outpost::clients
