// The SNS and SQS wire: what is sent (checked field by field) and how every kind of
// answer is classified, against a scripted HttpClient. The real services' side is
// covered by tests/integration/relay_test.cpp against fauxqs.
#include "clients/event_destinations.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <nlohmann/json.hpp>

#include "support/scripted_http.h"

namespace outpost::clients {
namespace {

using nlohmann::json;

using outpost::testing::ScriptedHttp;

HttpResponse answered(int status, std::string body) {
  return ScriptedHttp::answerText(status, std::move(body));
}

std::string unescape(const std::string& text) {
  int length = 0;
  char* raw = curl_easy_unescape(nullptr, text.data(), static_cast<int>(text.size()), &length);
  std::string out(raw, static_cast<std::size_t>(length));
  curl_free(raw);
  return out;
}

std::map<std::string, std::string> formFields(const std::string& body) {
  std::map<std::string, std::string> fields;
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t end = body.find('&', start);
    if (end == std::string::npos) end = body.size();
    const std::string pair = body.substr(start, end - start);
    const std::size_t equals = pair.find('=');
    fields[unescape(pair.substr(0, equals))] = unescape(pair.substr(equals + 1));
    start = end + 1;
  }
  return fields;
}

std::string header(const HttpRequest& request, const std::string& name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "";
}

const EventMessage kCreated{R"({"eventId":"e-1","note":"a&b=c d+é"})", "ORDER_CREATED", "ORD-1",
                            "e-1"};
const EventMessage kShipped{R"({"eventId":"e-2"})", "ORDER_SHIPPED", "ORD-2", "e-2"};

AwsTarget emulator() {
  return {"eu-west-1", "http://127.0.0.1:4566/", AwsCredentials{"AKID", "secret", "token"}, 1234};
}

TEST(EventDestinations, SnsPublishSendsOneSignedFormWithTheEventTypeAttribute) {
  ScriptedHttp http;
  http.setAnswer(answered(200,
                          "<PublishResponse><PublishResult><MessageId>m-1</MessageId>"
                          "</PublishResult></PublishResponse>"));
  SnsTopic topic(http, emulator(), "arn:aws:sns:eu-west-1:1:events");
  const PublishOutcome outcome = topic.publish({kCreated});

  EXPECT_EQ(outcome.request, CallClass::kSuccess);
  ASSERT_EQ(outcome.entries.size(), 1u);
  EXPECT_EQ(outcome.entries[0].call_class, CallClass::kSuccess);
  ASSERT_EQ(http.requests().size(), 1u);
  const HttpRequest sent = http.requests()[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "http://127.0.0.1:4566/");
  EXPECT_EQ(sent.timeout_ms, 1234);
  EXPECT_EQ(header(sent, "Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
  ASSERT_TRUE(sent.aws_sigv4);
  EXPECT_EQ(sent.aws_sigv4->service, "sns");
  EXPECT_EQ(sent.aws_sigv4->region, "eu-west-1");
  EXPECT_EQ(sent.aws_sigv4->access_key_id, "AKID");
  EXPECT_EQ(sent.aws_sigv4->session_token, "token");
  const auto fields = formFields(sent.body);
  EXPECT_EQ(fields, (std::map<std::string, std::string>{
                        {"Action", "Publish"},
                        {"Version", "2010-03-31"},
                        {"TopicArn", "arn:aws:sns:eu-west-1:1:events"},
                        {"Message", kCreated.body},
                        {"MessageAttributes.entry.1.Name", "eventType"},
                        {"MessageAttributes.entry.1.Value.DataType", "String"},
                        {"MessageAttributes.entry.1.Value.StringValue", "ORDER_CREATED"}}));
}

TEST(EventDestinations, SnsPublishBatchNumbersEntriesAndAddsFifoFields) {
  ScriptedHttp http;
  http.setAnswer(answered(
      200,
      "<PublishBatchResponse><PublishBatchResult><Successful><member><Id>0</Id><MessageId>a"
      "</MessageId></member><member><Id>1</Id><MessageId>b</MessageId></member></Successful>"
      "<Failed/></PublishBatchResult></PublishBatchResponse>"));
  AwsTarget unsigned_target = emulator();
  unsigned_target.credentials.reset();
  SnsTopic topic(http, unsigned_target, "arn:aws:sns:eu-west-1:1:events.fifo");
  const PublishOutcome outcome = topic.publish({kCreated, kShipped});

  ASSERT_EQ(outcome.entries.size(), 2u);
  EXPECT_EQ(outcome.entries[0].call_class, CallClass::kSuccess);
  EXPECT_EQ(outcome.entries[1].call_class, CallClass::kSuccess);
  EXPECT_FALSE(http.requests()[0].aws_sigv4);
  auto fields = formFields(http.requests()[0].body);
  EXPECT_EQ(fields["Action"], "PublishBatch");
  const std::string second = "PublishBatchRequestEntries.member.2.";
  EXPECT_EQ(fields["PublishBatchRequestEntries.member.1.Id"], "0");
  EXPECT_EQ(fields["PublishBatchRequestEntries.member.1.Message"], kCreated.body);
  EXPECT_EQ(fields["PublishBatchRequestEntries.member.1.MessageGroupId"], "ORD-1");
  EXPECT_EQ(fields[second + "Id"], "1");
  EXPECT_EQ(fields[second + "MessageDeduplicationId"], "e-2");
  EXPECT_EQ(fields[second + "MessageAttributes.entry.1.Value.StringValue"], "ORDER_SHIPPED");
  EXPECT_EQ(fields.size(), 3u + 2u * 7u);
}

TEST(EventDestinations, SnsBatchEntriesAreJudgedOneByOne) {
  ScriptedHttp http;
  http.setAnswer(answered(
      200,
      "<PublishBatchResponse><PublishBatchResult><Successful><member><Id>0</Id></member>"
      "</Successful><Failed><member><Id>1</Id><Code>InvalidParameter</Code><Message>bad "
      "&amp; wrong</Message><SenderFault>true</SenderFault></member><member><Id>2</Id>"
      "<Code>InternalError</Code><SenderFault>false</SenderFault></member><member><Id>3</Id>"
      "<Code>Throttling</Code><SenderFault>true</SenderFault></member></Failed>"
      "</PublishBatchResult></PublishBatchResponse>"));
  SnsTopic topic(http, emulator(), "arn:aws:sns:eu-west-1:1:events");
  const PublishOutcome outcome = topic.publish({kCreated, kShipped, kCreated, kShipped, kCreated});

  EXPECT_EQ(outcome.request, CallClass::kSuccess);
  ASSERT_EQ(outcome.entries.size(), 5u);
  EXPECT_EQ(outcome.entries[0].call_class, CallClass::kSuccess);
  EXPECT_EQ(outcome.entries[1].call_class, CallClass::kPermanent);
  EXPECT_EQ(outcome.entries[1].error, "sns: InvalidParameter: bad & wrong");
  EXPECT_EQ(outcome.entries[2].call_class, CallClass::kRetriable);  // the service's fault
  EXPECT_EQ(outcome.entries[3].call_class, CallClass::kRetriable);  // throttled
  EXPECT_EQ(outcome.entries[4].call_class, CallClass::kRetriable);  // not in the answer
}

TEST(EventDestinations, SnsWholeRequestErrorsAreClassifiedByStatusAndCode) {
  struct Case {
    HttpResponse answer;
    CallClass expected;
    std::string error;
  };
  const std::string not_found =
      "<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not "
      "exist</Message></Error></ErrorResponse>";
  const std::string throttled =
      "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
      "</ErrorResponse>";
  const Case cases[] = {
      {answered(404, not_found), CallClass::kPermanent,
       "sns: NotFound: Topic does not exist (HTTP 404)"},
      {answered(400, throttled), CallClass::kRetriable,
       "sns: Throttling: Rate exceeded (HTTP 400)"},
      {answered(503, "<html>busy</html>"), CallClass::kRetriable, "sns: error (HTTP 503)"},
      {HttpResponse{CallClass::kRetriable, 0, "", "connection refused", false},
       CallClass::kRetriable, "sns: connection refused"},
      {answered(200, "<PublishResponse/>"), CallClass::kRetriable,
       "malformed answer from sns: no result for the messages sent"},
  };
  for (const auto& c : cases) {
    ScriptedHttp http;
    http.setAnswer(c.answer);
    SnsTopic topic(http, emulator(), "arn:aws:sns:eu-west-1:1:events");
    const PublishOutcome outcome = topic.publish({kCreated});
    EXPECT_EQ(outcome.request, c.expected) << c.error;
    ASSERT_EQ(outcome.entries.size(), 1u);
    EXPECT_EQ(outcome.entries[0].call_class, c.expected) << c.error;
    EXPECT_EQ(outcome.entries[0].error, c.error);
  }
}

// Found by the sns_answer fuzz target: an error read from the answer, not valid UTF-8,
// became the event's lastError, and GET /v1/outbox, which writes it as JSON, answered 500.
TEST(EventDestinations, SnsErrorsAreValidUtf8WhateverTheAnswerHolds) {
  ScriptedHttp http;
  http.setAnswer(
      answered(400,
               "<ErrorResponse><Error><Code>InvalidParameter</Code><Message>bad \xff\xfe "
               "&#xD800; text</Message></Error></ErrorResponse>"));
  SnsTopic topic(http, emulator(), "arn:aws:sns:eu-west-1:1:events");
  const PublishOutcome outcome = topic.publish({kCreated});
  ASSERT_EQ(outcome.entries.size(), 1u);
  EXPECT_EQ(outcome.entries[0].call_class, CallClass::kPermanent);
  EXPECT_EQ(outcome.entries[0].error,
            "sns: InvalidParameter: bad \xef\xbf\xbd\xef\xbf\xbd &#xD800; text (HTTP 400)");
  EXPECT_TRUE(json(outcome.entries[0].error).dump().size() > 0);  // the strict writer takes it
}

TEST(EventDestinations, SqsSendMessageUsesTheJsonProtocol) {
  ScriptedHttp http;
  http.setAnswer(answered(200, R"({"MessageId":"m-1","MD5OfMessageBody":"x"})"));
  AwsTarget aws = emulator();
  aws.endpoint_url.reset();  // the real service
  SqsQueue queue(http, aws, "https://sqs.eu-west-1.amazonaws.com/1/orders");
  const PublishOutcome outcome = queue.publish({kCreated});

  EXPECT_EQ(outcome.request, CallClass::kSuccess);
  EXPECT_EQ(outcome.entries[0].call_class, CallClass::kSuccess);
  const HttpRequest sent = http.requests()[0];
  EXPECT_EQ(sent.url, "https://sqs.eu-west-1.amazonaws.com/");
  EXPECT_EQ(header(sent, "X-Amz-Target"), "AmazonSQS.SendMessage");
  EXPECT_EQ(header(sent, "Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(sent.aws_sigv4->service, "sqs");
  EXPECT_EQ(json::parse(sent.body),
            (json{{"QueueUrl", "https://sqs.eu-west-1.amazonaws.com/1/orders"},
                  {"MessageBody", kCreated.body},
                  {"MessageAttributes",
                   {{"eventType", {{"DataType", "String"}, {"StringValue", "ORDER_CREATED"}}}}}}));
}

TEST(EventDestinations, SqsBatchCarriesFifoFieldsAndJudgesEntriesOneByOne) {
  ScriptedHttp http;
  http.setAnswer(answered(200, R"({"Successful":[{"Id":"1","MessageId":"m"}],
               "Failed":[{"Id":"0","SenderFault":true,"Code":"InvalidParameterValue",
                          "Message":"too big"}]})"));
  SqsQueue queue(http, emulator(), "http://q/1/orders.fifo");
  const PublishOutcome outcome = queue.publish({kCreated, kShipped});

  EXPECT_EQ(header(http.requests()[0], "X-Amz-Target"), "AmazonSQS.SendMessageBatch");
  const json body = json::parse(http.requests()[0].body);
  EXPECT_EQ(body["QueueUrl"], "http://q/1/orders.fifo");
  ASSERT_EQ(body["Entries"].size(), 2u);
  EXPECT_EQ(body["Entries"][1]["Id"], "1");
  EXPECT_EQ(body["Entries"][1]["MessageGroupId"], "ORD-2");
  EXPECT_EQ(body["Entries"][1]["MessageDeduplicationId"], "e-2");
  EXPECT_EQ(body["Entries"][0]["MessageBody"], kCreated.body);
  EXPECT_EQ(outcome.entries[0].call_class, CallClass::kPermanent);
  EXPECT_EQ(outcome.entries[0].error, "sqs: InvalidParameterValue: too big");
  EXPECT_EQ(outcome.entries[1].call_class, CallClass::kSuccess);
}

TEST(EventDestinations, SqsErrorsAreClassifiedByStatusAndType) {
  ScriptedHttp http;
  http.setAnswer(answered(
      400,
      R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})"));
  SqsQueue queue(http, emulator(), "http://q/1/missing");
  PublishOutcome outcome = queue.publish({kCreated});
  EXPECT_EQ(outcome.request, CallClass::kPermanent);
  outcome = queue.publish({kCreated, kShipped});
  EXPECT_EQ(http.requests().size(), 4u);            // the batch, then each message on its own
  EXPECT_EQ(outcome.request, CallClass::kSuccess);  // answered, not an outage
  ASSERT_EQ(outcome.entries.size(), 2u);
  EXPECT_EQ(outcome.entries[0].call_class, CallClass::kPermanent);
  EXPECT_EQ(outcome.entries[1].call_class, CallClass::kPermanent);
  EXPECT_EQ(outcome.entries[1].error,
            "sqs: QueueDoesNotExist: The specified queue does not exist. (HTTP 400)");

  http.setAnswer(answered(400, R"({"__type":"com.amazonaws.sqs#ThrottlingException"})"));
  EXPECT_EQ(queue.publish({kCreated}).request, CallClass::kRetriable);
  http.setAnswer(answered(200, "not json"));
  EXPECT_EQ(queue.publish({kCreated, kShipped}).request, CallClass::kRetriable);
  http.setAnswer(answered(200, R"({"Successful":[{"Id":"0"}]})"));
  outcome = queue.publish({kCreated, kShipped});
  EXPECT_EQ(outcome.entries[0].call_class, CallClass::kSuccess);
  EXPECT_EQ(outcome.entries[1].call_class, CallClass::kRetriable);  // not in the answer
}

// SqsQueue::publish, which never throws, threw nlohmann's type_error 302 for a Failed entry
// whose SenderFault was not a boolean, so the relay's pass failed on that answer every time.
TEST(EventDestinations, SqsFailedEntryWithANonBooleanSenderFaultIsRetriable) {
  ScriptedHttp http;
  http.setAnswer(answered(200, R"({"Failed":[{"Id":"0","Code":"InvalidMessageContents",
                                  "SenderFault":"true"},{"Id":"1","Code":"InvalidMessageContents",
                                  "SenderFault":1}]})"));
  SqsQueue queue(http, emulator(), "http://q/1/orders");
  PublishOutcome outcome;
  ASSERT_NO_THROW(outcome = queue.publish({kCreated, kShipped}));
  ASSERT_EQ(outcome.entries.size(), 2u);
  EXPECT_EQ(outcome.entries[0].call_class, CallClass::kRetriable);
  EXPECT_EQ(outcome.entries[0].error, "sqs: InvalidMessageContents");
  EXPECT_EQ(outcome.entries[1].call_class, CallClass::kRetriable);
}

TEST(EventDestinations, ABatchRejectedAsAWholeIsTriedMessageByMessage) {
  ScriptedHttp http;
  http.queue(
      answered(400, R"({"__type":"com.amazonaws.sqs#InvalidParameterValue","message":"bad"})"));
  http.queue(answered(200, R"({"MessageId":"m-1"})"));
  http.queue(
      answered(400, R"({"__type":"com.amazonaws.sqs#InvalidParameterValue","message":"bad"})"));
  SqsQueue queue(http, emulator(), "http://q/1/orders");
  const PublishOutcome outcome = queue.publish({kCreated, kShipped});
  ASSERT_EQ(http.requests().size(), 3u);
  EXPECT_EQ(header(http.requests()[1], "X-Amz-Target"), "AmazonSQS.SendMessage");
  EXPECT_EQ(json::parse(http.requests()[2].body)["MessageBody"], kShipped.body);
  EXPECT_EQ(outcome.request, CallClass::kSuccess);
  EXPECT_EQ(outcome.entries[0].call_class, CallClass::kSuccess);  // not charged for the other
  EXPECT_EQ(outcome.entries[1].call_class, CallClass::kPermanent);
}

TEST(EventDestinations, ACancelledCallIsNoVerdictOnTheDestination) {
  ScriptedHttp http;
  http.setAnswer(
      HttpResponse{CallClass::kRetriable, 0, "", "cancelled: the node is stopping", false, true});
  AwsTarget target = emulator();
  bool stopping = true;
  target.cancelled = [&] { return stopping; };
  SnsTopic topic(http, target, "arn:aws:sns:eu-west-1:1:events");
  const PublishOutcome outcome = topic.publish({kCreated, kShipped});
  EXPECT_TRUE(outcome.cancelled);
  ASSERT_TRUE(http.requests()[0].cancelled);
  EXPECT_TRUE(http.requests()[0].cancelled());  // the target's flag reaches the HTTP call
}

TEST(EventDestinations, ThrottlingAndTransientCodesAreRetriableWhateverTheStatus) {
  for (const char* code : {"Throttling", "ThrottlingException", "RequestThrottled",
                           "TooManyRequestsException", "KMSThrottling", "RequestTimeout"}) {
    EXPECT_EQ(classifyAwsError(400, code), CallClass::kRetriable) << code;
  }
  EXPECT_EQ(classifyAwsError(400, "InvalidParameter"), CallClass::kPermanent);
  // The node's credentials or clock, not the event: an outage, not a rejection.
  for (const char* code :
       {"ExpiredToken", "SignatureDoesNotMatch", "InvalidClientTokenId", "RequestTimeTooSkewed"}) {
    EXPECT_EQ(classifyAwsError(403, code), CallClass::kRetriable) << code;
  }
  EXPECT_EQ(classifyAwsError(403, "AuthorizationError"), CallClass::kPermanent);
  EXPECT_EQ(classifyAwsError(500, "InvalidParameter"), CallClass::kRetriable);
}

HttpResponse withDate(HttpResponse response) {
  response.date = "Tue, 03 Mar 2026 10:00:00 GMT";
  return response;
}

TEST(EventDestinations, SnsDescribeIsASignedGetTopicAttributesThatKeepsTheDate) {
  ScriptedHttp http;
  http.setAnswer(withDate(answered(200,
                                   "<GetTopicAttributesResponse><GetTopicAttributesResult>"
                                   "<Attributes/></GetTopicAttributesResult>"
                                   "</GetTopicAttributesResponse>")));
  SnsTopic topic(http, emulator(), "arn:aws:sns:eu-west-1:1:events");
  const DescribeOutcome outcome = topic.describe();
  EXPECT_EQ(outcome.call_class, CallClass::kSuccess);
  EXPECT_EQ(outcome.error, "");
  EXPECT_EQ(outcome.date, "Tue, 03 Mar 2026 10:00:00 GMT");
  const HttpRequest sent = http.requests().at(0);
  EXPECT_EQ(sent.timeout_ms, 1234);
  ASSERT_TRUE(sent.aws_sigv4);
  EXPECT_EQ(sent.aws_sigv4->service, "sns");
  EXPECT_EQ(formFields(sent.body),
            (std::map<std::string, std::string>{{"Action", "GetTopicAttributes"},
                                                {"Version", "2010-03-31"},
                                                {"TopicArn", "arn:aws:sns:eu-west-1:1:events"}}));
}

TEST(EventDestinations, SqsDescribeAsksForTheQueueArn) {
  ScriptedHttp http;
  http.setAnswer(answered(200, R"({"Attributes":{"QueueArn":"arn:aws:sqs:eu-west-1:1:q"}})"));
  SqsQueue queue(http, emulator(), "http://127.0.0.1:4566/1/q");
  EXPECT_EQ(queue.describe().call_class, CallClass::kSuccess);
  const HttpRequest sent = http.requests().at(0);
  EXPECT_EQ(header(sent, "X-Amz-Target"), "AmazonSQS.GetQueueAttributes");
  ASSERT_TRUE(sent.aws_sigv4);
  EXPECT_EQ(sent.aws_sigv4->service, "sqs");
  EXPECT_EQ(json::parse(sent.body),
            json({{"QueueUrl", "http://127.0.0.1:4566/1/q"}, {"AttributeNames", {"QueueArn"}}}));
}

TEST(EventDestinations, DescribeAnswersAreClassifiedAsPublishesAre) {
  ScriptedHttp http;
  SnsTopic topic(http, emulator(), "arn:aws:sns:eu-west-1:1:events");
  SqsQueue queue(http, emulator(), "http://127.0.0.1:4566/1/q");

  http.queue(withDate(
      answered(404,
               "<ErrorResponse><Error><Code>NotFound</Code><Message>Topic does not exist</Message>"
               "</Error></ErrorResponse>")));
  const DescribeOutcome missing_topic = topic.describe();
  EXPECT_EQ(missing_topic.call_class, CallClass::kPermanent);
  EXPECT_EQ(missing_topic.http_status, 404);
  EXPECT_EQ(missing_topic.error, "sns: NotFound: Topic does not exist (HTTP 404)");
  EXPECT_EQ(missing_topic.date, "Tue, 03 Mar 2026 10:00:00 GMT");  // an error still dates

  http.queue(answered(400, R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"no"})"));
  EXPECT_EQ(queue.describe().call_class, CallClass::kPermanent);
  http.queue(answered(403, R"({"__type":"com.amazon.coral.service#SignatureDoesNotMatch"})"));
  const DescribeOutcome bad_signature = queue.describe();
  EXPECT_EQ(bad_signature.call_class, CallClass::kRetriable);
  EXPECT_NE(bad_signature.error.find("SignatureDoesNotMatch"), std::string::npos);

  http.queue(ScriptedHttp::refused());
  const DescribeOutcome refused = queue.describe();
  EXPECT_EQ(refused.http_status, 0);
  EXPECT_EQ(refused.error, "sqs: connection refused");
  http.queue(answered(200, "<html>captive portal</html>"));
  const DescribeOutcome malformed = topic.describe();
  EXPECT_EQ(malformed.call_class, CallClass::kRetriable);
  EXPECT_EQ(malformed.error, "malformed answer from sns");
}

TEST(EventDestinations, MessageBytesCountTheBodyAndTheAttribute) {
  EXPECT_EQ(messageBytes("12345", "ORDER_CREATED"),
            5u + std::string("eventType").size() + std::string("String").size() + 13u);
}

}  // namespace
}  // namespace outpost::clients
