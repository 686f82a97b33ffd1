#include "clients/event_destinations.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "clients/aws_sigv4.h"
#include "clients/aws_xml.h"
#include "common/json_parse.h"

namespace outpost::clients {
namespace {

using nlohmann::json;

constexpr std::string_view kEventTypeAttribute = "eventType";

// botocore's throttling and transient error codes, the KMS throttling codes SNS and SQS
// pass on for encrypted topics and queues, and the codes that blame the node's
// credentials or clock rather than the event.
constexpr std::array<std::string_view, 31> kRetriableCodes = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "KMSThrottling",
    "KmsThrottled",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "RequestTimeTooSkewed",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
};

bool containsIgnoringCase(std::string_view text, std::string_view part) {
  const auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  return std::search(text.begin(), text.end(), part.begin(), part.end(),
                     [&](char a, char b) { return lower(a) == lower(b); }) != text.end();
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string endpointFor(const AwsTarget& target, const std::string& service) {
  if (!target.endpoint_url) return "https://" + service + "." + target.region + ".amazonaws.com/";
  std::string url = *target.endpoint_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/";
}

std::string formEscape(std::string_view text) {
  char* escaped = curl_easy_escape(nullptr, text.data(), static_cast<int>(text.size()));
  if (escaped == nullptr) return "";
  std::string out(escaped);
  curl_free(escaped);
  return out;
}

class FormBody {
 public:
  void add(std::string_view name, std::string_view value) {
    if (!body_.empty()) body_ += '&';
    body_ += formEscape(name);
    body_ += '=';
    body_ += formEscape(value);
  }
  std::string take() { return std::move(body_); }

 private:
  std::string body_;
};

// Every message's outcome is the request's own.
PublishOutcome wholeRequest(CallClass call_class, std::string error, std::size_t messages,
                            bool timed_out = false) {
  PublishOutcome outcome;
  outcome.request = call_class;
  outcome.timed_out = timed_out;
  outcome.error = error;
  outcome.entries.assign(messages, EntryOutcome{call_class, std::move(error)});
  return outcome;
}

std::string describeError(const char* service, std::string_view code, std::string_view message,
                          int http_status) {
  std::string text = std::string(service) + ": " + (code.empty() ? "error" : std::string(code));
  if (!message.empty()) text += ": " + std::string(message);
  if (http_status != 0) text += " (HTTP " + std::to_string(http_status) + ")";
  return text;
}

// An answer that is not a success: classified from its status and AWS error code.
PublishOutcome rejectedRequest(const char* service, const HttpResponse& response,
                               std::string_view code, std::string_view message,
                               std::size_t messages) {
  const CallClass call_class = response.call_class == CallClass::kRetriable
                                   ? CallClass::kRetriable
                                   : classifyAwsError(response.status, code);
  std::string error = response.status == 0 ? std::string(service) + ": " + response.error
                                           : describeError(service, code, message, response.status);
  PublishOutcome outcome = wholeRequest(call_class, std::move(error), messages, response.timed_out);
  outcome.cancelled = response.cancelled;
  return outcome;
}

DescribeOutcome describeOutcome(const char* service, const HttpResponse& response,
                                std::string_view code, std::string_view message, bool well_formed) {
  DescribeOutcome outcome{response.call_class, response.status, response.timed_out, "",
                          response.date};
  if (response.call_class == CallClass::kSuccess && well_formed) return outcome;
  if (response.call_class == CallClass::kSuccess) {
    outcome.call_class = CallClass::kRetriable;
    outcome.error = std::string("malformed answer from ") + service;
    return outcome;
  }
  const PublishOutcome rejected = rejectedRequest(service, response, code, message, 0);
  outcome.call_class = rejected.request;
  outcome.error = rejected.error;
  return outcome;
}

PublishOutcome malformedAnswer(const char* service, std::size_t messages) {
  return wholeRequest(CallClass::kRetriable,
                      std::string("malformed answer from ") + service +
                          ": no result for the "
                          "messages sent",
                      messages);
}

CallClass failedEntryClass(bool sender_fault, std::string_view code) {
  return sender_fault ? classifyAwsError(400, code) : CallClass::kRetriable;
}

// Fills in the batch's per-entry outcomes from (entry id -> outcome); entries the answer
// does not mention are retriable. The entry id is the message's index.
PublishOutcome batchOutcome(const char* service,
                            const std::unordered_map<std::string, EntryOutcome>& by_id,
                            std::size_t messages) {
  PublishOutcome outcome;
  outcome.request = CallClass::kSuccess;
  for (std::size_t i = 0; i < messages; ++i) {
    auto it = by_id.find(std::to_string(i));
    outcome.entries.push_back(
        it != by_id.end() ? it->second
                          : EntryOutcome{CallClass::kRetriable,
                                         std::string("malformed answer from ") + service +
                                             ": the batch result does not mention this message"});
  }
  return outcome;
}

// ---- SNS: query protocol ----

void addSnsMessage(FormBody& form, const std::string& prefix, const EventMessage& message,
                   bool fifo) {
  form.add(prefix + "Message", message.body);
  form.add(prefix + "MessageAttributes.entry.1.Name", kEventTypeAttribute);
  form.add(prefix + "MessageAttributes.entry.1.Value.DataType", "String");
  form.add(prefix + "MessageAttributes.entry.1.Value.StringValue", message.event_type);
  if (fifo) {
    form.add(prefix + "MessageGroupId", message.group_id);
    form.add(prefix + "MessageDeduplicationId", message.deduplication_id);
  }
}

std::string snsBody(const std::string& topic_arn, const std::vector<EventMessage>& messages,
                    bool fifo) {
  FormBody form;
  form.add("Action", messages.size() == 1 ? "Publish" : "PublishBatch");
  form.add("Version", "2010-03-31");
  form.add("TopicArn", topic_arn);
  if (messages.size() == 1) {
    addSnsMessage(form, "", messages[0], fifo);
    return form.take();
  }
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const std::string prefix = "PublishBatchRequestEntries.member." + std::to_string(i + 1) + ".";
    form.add(prefix + "Id", std::to_string(i));
    addSnsMessage(form, prefix, messages[i], fifo);
  }
  return form.take();
}

PublishOutcome snsBatchOutcome(std::string_view xml, std::size_t messages) {
  const auto result = xmlElement(xml, "PublishBatchResult");
  if (!result) return malformedAnswer("sns", messages);
  std::unordered_map<std::string, EntryOutcome> by_id;
  if (const auto successful = xmlElement(*result, "Successful")) {
    for (const auto member : xmlElements(*successful, "member")) {
      by_id[xmlText(member, "Id")] = EntryOutcome{CallClass::kSuccess, ""};
    }
  }
  if (const auto failed = xmlElement(*result, "Failed")) {
    for (const auto member : xmlElements(*failed, "member")) {
      const std::string code = xmlText(member, "Code");
      by_id[xmlText(member, "Id")] =
          EntryOutcome{failedEntryClass(xmlText(member, "SenderFault") == "true", code),
                       describeError("sns", code, xmlText(member, "Message"), 0)};
    }
  }
  return batchOutcome("sns", by_id, messages);
}

// ---- SQS: JSON protocol ----

json sqsEntry(const EventMessage& message, bool fifo) {
  json entry = {
      {"MessageBody", message.body},
      {"MessageAttributes",
       {{kEventTypeAttribute, {{"DataType", "String"}, {"StringValue", message.event_type}}}}}};
  if (fifo) {
    entry["MessageGroupId"] = message.group_id;
    entry["MessageDeduplicationId"] = message.deduplication_id;
  }
  return entry;
}

std::string stringField(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// "com.amazonaws.sqs#QueueDoesNotExist" -> "QueueDoesNotExist".
std::string sqsErrorCode(const json& error) {
  std::string type = stringField(error, "__type");
  const auto hash = type.rfind('#');
  return hash == std::string::npos ? type : type.substr(hash + 1);
}

// The code and message of an SQS error answer (empty when the body is not a JSON object).
std::pair<std::string, std::string> sqsError(const json& answer) {
  if (!answer.is_object()) return {"", ""};
  return {sqsErrorCode(answer),
          stringField(answer, answer.contains("message") ? "message" : "Message")};
}

PublishOutcome sqsBatchOutcome(const json& answer, std::size_t messages) {
  if (!answer.is_object() || (!answer.contains("Successful") && !answer.contains("Failed"))) {
    return malformedAnswer("sqs", messages);
  }
  std::unordered_map<std::string, EntryOutcome> by_id;
  for (const auto& entry : answer.value("Successful", json::array())) {
    if (entry.is_object()) by_id[stringField(entry, "Id")] = {CallClass::kSuccess, ""};
  }
  for (const auto& entry : answer.value("Failed", json::array())) {
    if (!entry.is_object()) continue;
    const std::string code = stringField(entry, "Code");
    // A boolean; anything else (json::value would throw) is no word that the node is at fault.
    const auto fault = entry.find("SenderFault");
    const bool sender_fault = fault != entry.end() && fault->is_boolean() && fault->get<bool>();
    by_id[stringField(entry, "Id")] = {
        failedEntryClass(sender_fault, code),
        describeError("sqs", code, stringField(entry, "Message"), 0)};
  }
  return batchOutcome("sqs", by_id, messages);
}

}  // namespace

std::size_t messageBytes(std::string_view body, std::string_view event_type) {
  return body.size() + kEventTypeAttribute.size() + std::string_view("String").size() +
         event_type.size();
}

CallClass classifyAwsError(int http_status, std::string_view error_code) {
  for (const auto code : kRetriableCodes) {
    if (error_code == code) return CallClass::kRetriable;
  }
  return classifyStatus(http_status);
}

bool isClockError(std::string_view error_code, std::string_view message) {
  if (error_code == "RequestTimeTooSkewed" || error_code == "RequestExpired") return true;
  if (error_code != "InvalidSignatureException" && error_code != "SignatureDoesNotMatch") {
    return false;
  }
  return containsIgnoringCase(message, "signature expired") ||
         containsIgnoringCase(message, "signature not yet current");
}

AwsDestination::AwsDestination(HttpClient& http, AwsTarget target, std::string address)
    : http_(http),
      target_(std::move(target)),
      address_(std::move(address)),
      fifo_(endsWith(address_, ".fifo")) {}

HttpRequest AwsDestination::newRequest(const std::string& service) const {
  HttpRequest request;
  request.method = "POST";
  request.url = endpointFor(target_, service);
  request.timeout_ms = target_.timeout_ms;
  request.cancelled = target_.cancelled;
  if (target_.credentials) {
    request.aws_sigv4 =
        AwsSigning{target_.region, service, target_.credentials->access_key_id,
                   target_.credentials->secret_access_key, target_.credentials->session_token};
  }
  return request;
}

HttpResponse AwsDestination::exchange(HttpRequest request) {
  ServiceClock* clock = target_.service_clock;
  const auto signAtServiceTime = [&] {
    if (clock != nullptr && request.aws_sigv4 && clock->offsetMillis() != 0) {
      request.aws_sigv4->signing_time = amzDate(clock->serviceMillis());
    }
  };
  signAtServiceTime();
  HttpResponse response = http_.send(request);
  if (clock == nullptr || !request.aws_sigv4 || response.status < 400 || response.status > 499) {
    return response;
  }
  const auto [code, message] = errorOf(response);
  if (!isClockError(code, message) || !clock->correctFrom(response.date)) return response;
  signAtServiceTime();
  return http_.send(request);
}

PublishOutcome AwsDestination::publish(const std::vector<EventMessage>& messages) {
  PublishOutcome outcome = send(messages);
  if (messages.size() == 1 || outcome.request != CallClass::kPermanent) return outcome;
  PublishOutcome each;
  each.request = CallClass::kSuccess;
  for (const auto& message : messages) {
    PublishOutcome single = send({message});
    each.entries.push_back(single.entries.at(0));
    if (single.request == CallClass::kRetriable) {
      each.request = CallClass::kRetriable;
      each.timed_out = each.timed_out || single.timed_out;
      each.cancelled = each.cancelled || single.cancelled;
      each.error = single.error;
    }
  }
  return each;
}

PublishOutcome SnsTopic::send(const std::vector<EventMessage>& messages) {
  HttpRequest request = newRequest("sns");
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  request.body = snsBody(address_, messages, fifo_);
  const HttpResponse response = exchange(std::move(request));
  if (response.call_class != CallClass::kSuccess) {
    const auto [code, message] = errorOf(response);
    return rejectedRequest("sns", response, code, message, messages.size());
  }
  if (messages.size() > 1) return snsBatchOutcome(response.body, messages.size());
  if (xmlText(response.body, "MessageId").empty()) return malformedAnswer("sns", 1);
  return wholeRequest(CallClass::kSuccess, "", 1);
}

std::pair<std::string, std::string> SnsTopic::errorOf(const HttpResponse& response) const {
  return {xmlText(response.body, "Code"), xmlText(response.body, "Message")};
}

DescribeOutcome SnsTopic::describe() {
  HttpRequest request = newRequest("sns");
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  FormBody form;
  form.add("Action", "GetTopicAttributes");
  form.add("Version", "2010-03-31");
  form.add("TopicArn", address_);
  request.body = form.take();
  const HttpResponse response = exchange(std::move(request));
  const auto [code, message] = errorOf(response);
  return describeOutcome("sns", response, code, message,
                         xmlElement(response.body, "GetTopicAttributesResult").has_value());
}

std::pair<std::string, std::string> SqsQueue::errorOf(const HttpResponse& response) const {
  return sqsError(parseJsonOrDiscarded(response.body));
}

DescribeOutcome SqsQueue::describe() {
  HttpRequest request = newRequest("sqs");
  request.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                     {"X-Amz-Target", "AmazonSQS.GetQueueAttributes"}};
  request.body = json({{"QueueUrl", address_}, {"AttributeNames", {"QueueArn"}}})
                     .dump(-1, ' ', false, json::error_handler_t::replace);
  const HttpResponse response = exchange(std::move(request));
  const json answer = parseJsonOrDiscarded(response.body);
  const auto [code, message] = sqsError(answer);
  return describeOutcome("sqs", response, code, message,
                         answer.is_object() && answer.contains("Attributes"));
}

PublishOutcome SqsQueue::send(const std::vector<EventMessage>& messages) {
  const bool single = messages.size() == 1;
  HttpRequest request = newRequest("sqs");
  request.headers = {
      {"Content-Type", "application/x-amz-json-1.0"},
      {"X-Amz-Target", single ? "AmazonSQS.SendMessage" : "AmazonSQS.SendMessageBatch"}};
  json body;
  if (single) {
    body = sqsEntry(messages[0], fifo_);
  } else {
    body["Entries"] = json::array();
    for (std::size_t i = 0; i < messages.size(); ++i) {
      json entry = sqsEntry(messages[i], fifo_);
      entry["Id"] = std::to_string(i);
      body["Entries"].push_back(std::move(entry));
    }
  }
  body["QueueUrl"] = address_;
  // Envelopes are valid UTF-8 (we wrote them); replacing never throws whatever the bytes.
  request.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  const HttpResponse response = exchange(std::move(request));
  const json answer = parseJsonOrDiscarded(response.body);
  if (response.call_class != CallClass::kSuccess) {
    const auto [code, message] = sqsError(answer);
    return rejectedRequest("sqs", response, code, message, messages.size());
  }
  if (!single) return sqsBatchOutcome(answer, messages.size());
  if (!answer.is_object() || stringField(answer, "MessageId").empty()) {
    return malformedAnswer("sqs", 1);
  }
  return wholeRequest(CallClass::kSuccess, "", 1);
}

}  // namespace outpost::clients
