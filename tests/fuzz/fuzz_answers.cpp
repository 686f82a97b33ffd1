// The answer targets (fuzz_targets.h): what SNS, SQS, the product service and the delivery
// service answer, through the clients' public calls over a scripted HttpClient.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clients/aws_xml.h"
#include "clients/delivery_client.h"
#include "clients/event_destinations.h"
#include "clients/product_client.h"
#include "common/json_parse.h"
#include "common/text.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_targets.h"
#include "support/scripted_http.h"

namespace outpost::fuzz {
namespace {

using clients::CallClass;
using testing::ScriptedHttp;

struct ScriptedAnswer {
  clients::HttpResponse response;
  std::uint8_t choice = 0;  // which call, how many messages or products
};

// The status (two bytes, big-endian, modulo 1000; 0: no answer at all), the choice, the body.
std::optional<ScriptedAnswer> answerFrom(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return std::nullopt;
  const int status = ((data[0] << 8) | data[1]) % 1000;
  std::string body(reinterpret_cast<const char*>(data) + 3, size - 3);
  return ScriptedAnswer{
      status == 0 ? ScriptedHttp::refused() : ScriptedHttp::answerText(status, std::move(body)),
      data[2]};
}

bool is2xx(const clients::HttpResponse& response) {
  return response.status >= 200 && response.status <= 299;
}

// ---- SNS and SQS ----

std::vector<clients::EventMessage> messages(std::size_t count) {
  std::vector<clients::EventMessage> out;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string id = "e-" + std::to_string(i);
    out.push_back({R"({"eventId":")" + id + R"("})", "ORDER_CREATED", "ORD-" + id, id});
  }
  return out;
}

clients::AwsTarget awsTarget() {
  clients::AwsTarget target;
  target.region = "us-east-1";
  target.endpoint_url = "http://127.0.0.1:4566";
  return target;
}

void checkPublished(const clients::PublishOutcome& outcome, std::size_t count,
                    const clients::HttpResponse& response) {
  check(outcome.entries.size() == count, "one outcome per message");
  check(isValidUtf8(outcome.error), "the request's error is UTF-8");
  for (const auto& entry : outcome.entries) {
    check((entry.call_class == CallClass::kSuccess) == entry.error.empty(),
          "an entry succeeds exactly when it has no error");
    check(isValidUtf8(entry.error), "an entry's error is UTF-8 (it is the event's lastError)");
    check(entry.call_class != CallClass::kSuccess || is2xx(response),
          "a message is sent only on a 2xx answer");
  }
}

std::string xmlEscape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

// An empty content (<Name/>) has no place of its own.
bool within(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// The XML reader on its own: what it finds lies in the document, in order; an element's
// text is valid UTF-8, and the text of an element holding escaped text is that text.
void checkXmlReader(std::string_view xml) {
  for (const std::string_view name : {"PublishBatchResult", "Successful", "Failed", "member", "Id",
                                      "Code", "Message", "MessageId", "SenderFault"}) {
    const auto first = clients::xmlElement(xml, name);
    const auto all = clients::xmlElements(xml, name);
    check(first.has_value() == !all.empty(), "xmlElement finds the first of xmlElements");
    if (first) check(*first == all.front(), "xmlElement finds the first of xmlElements");
    check(isValidUtf8(clients::xmlText(xml, name)), "an element's text is valid UTF-8");
    const char* previous_end = xml.data();
    for (const auto content : all) {
      check(within(content, xml), "an element's content lies in the document");
      if (content.empty()) continue;
      check(content.data() >= previous_end, "elements come in order, apart");
      previous_end = content.data() + content.size();
    }
  }
  const std::string text = toValidUtf8(xml);
  check(clients::xmlText("<Message>" + xmlEscape(text) + "</Message>", "Message") == text,
        "escaped text reads back");
}

// ---- The product and delivery services ----

void checkNotDone(CallClass call_class, const std::string& error,
                  const clients::HttpResponse& response) {
  check(!error.empty(), "what is not done says why");
  check(!is2xx(response) || call_class == CallClass::kRetriable,
        "a 2xx that is not done is a malformed answer, retriable");
  check(is2xx(response) || call_class == clients::classifyStatus(response.status),
        "any other answer is classified by its status");
}

}  // namespace

void snsAnswerInput(const std::uint8_t* data, std::size_t size) {
  const auto answer = answerFrom(data, size);
  if (!answer) return;
  checkXmlReader(answer->response.body);
  ScriptedHttp http;
  http.setAnswer(answer->response);
  const std::size_t count = 1 + answer->choice % clients::kMaxBatchEntries;
  clients::SnsTopic topic(http, awsTarget(), "arn:aws:sns:us-east-1:123456789012:orders");
  checkPublished(topic.publish(messages(count)), count, answer->response);
}

void sqsAnswerInput(const std::uint8_t* data, std::size_t size) {
  const auto answer = answerFrom(data, size);
  if (!answer) return;
  ScriptedHttp http;
  http.setAnswer(answer->response);
  const std::size_t count = 1 + answer->choice % clients::kMaxBatchEntries;
  clients::SqsQueue queue(http, awsTarget(), "http://127.0.0.1:4566/123456789012/orders");
  const auto outcome = queue.publish(messages(count));
  checkPublished(outcome, count, answer->response);
  if (count == 1 && outcome.entries[0].call_class == CallClass::kSuccess) {
    const auto body = parseJsonOrDiscarded(answer->response.body);
    check(body.is_object() && body.contains("MessageId"), "a message is sent with a MessageId");
  }
}

void productAnswerInput(const std::uint8_t* data, std::size_t size) {
  const auto answer = answerFrom(data, size);
  if (!answer) return;
  ScriptedHttp http;
  http.setAnswer(answer->response);
  const std::vector<std::string> all = {"sku-1", "sku-2", "sku-3"};
  const std::vector<std::string> asked(all.begin(), all.begin() + answer->choice % 4);
  clients::ProductClient client(http, "http://products.test", 2000);
  const auto availability = client.check(asked);
  if (availability.call_class != CallClass::kSuccess) {
    checkNotDone(availability.call_class, availability.error, answer->response);
    check(availability.products.empty(), "a failed check holds no product");
    return;
  }
  check(is2xx(answer->response) && availability.error.empty(), "a success is a 2xx answer");
  check(parseJsonOrDiscarded(answer->response.body).is_array(), "a success is a list");
  for (const auto& id : asked) check(availability.products.count(id) == 1, "every product asked");
}

void deliveryAnswerInput(const std::uint8_t* data, std::size_t size) {
  const auto answer = answerFrom(data, size);
  if (!answer) return;
  ScriptedHttp http;
  http.setAnswer(answer->response);
  clients::DeliveryClient client(http, "http://delivery.test", 3000);
  const std::string id = "DLV-1";
  const int call = answer->choice % 3;
  clients::DeliveryAnswer delivery;
  if (call == 0) {
    clients::DeliveryRequest request;
    request.order_id = "ORD-01M916T5WX8CJMZ3RGHPZ4CRCM";
    request.items = nlohmann::json::array({{{"productId", "sku-1"}, {"quantity", 2}}});
    delivery = client.initiate(request);
  } else if (call == 1) {
    delivery = client.status(id);
  } else {
    delivery = client.cancel(id);
  }
  check(delivery.no_such_delivery == (answer->response.status == 404), "404 is no such delivery");
  if (delivery.call_class != CallClass::kSuccess) {
    checkNotDone(delivery.call_class, delivery.error, answer->response);
    return;
  }
  check(is2xx(answer->response) && delivery.error.empty(), "a success is a 2xx answer");
  check(!delivery.delivery_id.empty(), "a success names the delivery");
  if (call == 1) check(!delivery.status.empty(), "a status answer has a status");
  if (call == 2) {
    check(delivery.delivery_id == id && delivery.status == "CANCELLED",
          "a cancel is done only for this delivery, CANCELLED");
  }
}

}  // namespace outpost::fuzz
