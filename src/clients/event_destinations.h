// Where the outbox relay sends events: an AWS SNS topic (query protocol, XML answers) and
// an AWS SQS queue (JSON protocol, X-Amz-Target: AmazonSQS.*), over the shared HttpClient,
// signed with SigV4 when credentials are configured (SPEC §6).
//
// One message goes with Publish / SendMessage, two to ten with PublishBatch /
// SendMessageBatch; the outcome is reported per message either way. A batch rejected as a
// whole (a permanent error for the request) is sent again message by message, so that one
// bad message cannot count against its neighbours.
//
// AWS errors are classified here, once (classifyAwsError): the HTTP class from
// classifyStatus, except that a 4xx whose error code means throttling, a transient
// condition, or a problem with the node's own credentials or clock (expired token, bad
// signature, skewed time) is retriable: the event is not at fault, and the breaker and
// backoff handle it like an outage. A clock error (isClockError) is first answered by
// signing again at the service's time (ServiceClock) and sending once more, at once; only
// the second answer counts. A failed batch entry is permanent when the sender is
// at fault (SenderFault) and the code is not one of those, retriable otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clients/http_client.h"
#include "clients/service_clock.h"
#include "outpost/config.h"

namespace outpost::clients {

// AWS limits: at most 10 entries a batch; a message, and a whole batch, at most 256 KiB.
inline constexpr std::size_t kMaxBatchEntries = 10;
inline constexpr std::size_t kMaxMessageBytes = 262144;
inline constexpr std::size_t kMaxBatchBytes = 262144;

struct EventMessage {
  std::string body;              // the event envelope, JSON
  std::string event_type;        // sent as the String message attribute "eventType"
  std::string group_id;          // MessageGroupId on FIFO destinations: the aggregate id
  std::string deduplication_id;  // MessageDeduplicationId on FIFO destinations: the event id
};

// What a message counts against the 256 KiB limits: its body and its attribute's name,
// data type and value.
std::size_t messageBytes(std::string_view body, std::string_view event_type);

struct EntryOutcome {
  CallClass call_class = CallClass::kRetriable;
  std::string error;  // empty on success
};

struct PublishOutcome {
  // kRetriable: the destination was not reached or had an outage (a failure for the
  // breaker); otherwise it answered, and `entries` says what became of each message.
  CallClass request = CallClass::kRetriable;
  bool timed_out = false;
  bool cancelled = false;  // AwsTarget::cancelled stopped it: no verdict on the destination
  std::string error;       // the whole request's error, if any
  std::vector<EntryOutcome> entries;  // one per message, in order
};

CallClass classifyAwsError(int http_status, std::string_view error_code);

// An answer that blames the node's clock: RequestTimeTooSkewed, RequestExpired, or
// InvalidSignatureException / SignatureDoesNotMatch whose message says the signature has
// expired or is not yet current (a plain SignatureDoesNotMatch is a wrong secret).
bool isClockError(std::string_view error_code, std::string_view message);

// The answer to a describe call (SNS GetTopicAttributes, SQS GetQueueAttributes), which
// changes nothing and, signed as a publish is, proves that the destination exists and
// that the credentials and clock are accepted. Classified as a publish is.
struct DescribeOutcome {
  CallClass call_class = CallClass::kRetriable;
  int http_status = 0;  // 0: no answer
  bool timed_out = false;
  std::string error;  // empty on success
  std::string date;   // the answer's Date header ("" when none): the service's clock
};

// Where to send and how to sign: events.region, events.endpoint_url, credentials.
struct AwsTarget {
  std::string region;
  std::optional<std::string> endpoint_url;    // none: https://{service}.{region}.amazonaws.com
  std::optional<AwsCredentials> credentials;  // none: unsigned (emulators)
  std::int64_t timeout_ms = 5000;
  std::function<bool()> cancelled = nullptr;  // true aborts a call under way (the node is stopping)
  ServiceClock* service_clock = nullptr;      // none: signed at the local clock, never corrected
};

enum class DestinationKind { kSnsTopic = 1, kSqsQueue = 2 };  // values are bit flags

class EventDestination {
 public:
  virtual ~EventDestination() = default;
  virtual DestinationKind kind() const = 0;
  virtual const std::string& address() const = 0;  // topic ARN or queue URL, for logs
  // Sends 1..kMaxBatchEntries messages within the size limits. Never throws.
  virtual PublishOutcome publish(const std::vector<EventMessage>& messages) = 0;
};

// What SNS and SQS destinations share: the client, where and how to sign, the address
// (a name ending in ".fifo" makes a FIFO destination).
class AwsDestination : public EventDestination {
 public:
  AwsDestination(HttpClient& http, AwsTarget target, std::string address);
  const std::string& address() const override { return address_; }
  PublishOutcome publish(const std::vector<EventMessage>& messages) final;
  // One describe call of the destination; never throws.
  virtual DescribeOutcome describe() = 0;

 protected:
  // One request: the single-message API for one message, the batch API for more.
  virtual PublishOutcome send(const std::vector<EventMessage>& messages) = 0;
  HttpRequest newRequest(const std::string& service) const;
  // Sends `request`, signed at the service's time; a clock error is corrected and the
  // request sent again once, at once.
  HttpResponse exchange(HttpRequest request);
  // The AWS error code and message of an answer that is not a success.
  virtual std::pair<std::string, std::string> errorOf(const HttpResponse& response) const = 0;

  HttpClient& http_;
  AwsTarget target_;
  std::string address_;
  bool fifo_;
};

class SnsTopic final : public AwsDestination {
 public:
  SnsTopic(HttpClient& http, AwsTarget target, std::string topic_arn)
      : AwsDestination(http, std::move(target), std::move(topic_arn)) {}
  DestinationKind kind() const override { return DestinationKind::kSnsTopic; }
  DescribeOutcome describe() override;  // GetTopicAttributes

 private:
  std::pair<std::string, std::string> errorOf(const HttpResponse& response) const override;
  PublishOutcome send(const std::vector<EventMessage>& messages) override;
};

class SqsQueue final : public AwsDestination {
 public:
  SqsQueue(HttpClient& http, AwsTarget target, std::string queue_url)
      : AwsDestination(http, std::move(target), std::move(queue_url)) {}
  DestinationKind kind() const override { return DestinationKind::kSqsQueue; }
  DescribeOutcome describe() override;  // GetQueueAttributes (QueueArn)

 private:
  std::pair<std::string, std::string> errorOf(const HttpResponse& response) const override;
  PublishOutcome send(const std::vector<EventMessage>& messages) override;
};

}  // namespace outpost::clients
