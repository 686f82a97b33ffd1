// HttpClient: the one way outpost makes outbound HTTP calls (product service, delivery
// service, SNS/SQS). It sends one request and classifies the outcome; it never retries,
// never follows redirects and never throws for a failed call. Retries, backoff and
// circuit breaking belong to the callers.
//
// Classification lives in one place (classifyStatus):
//   success   = 2xx;
//   retriable = no HTTP answer (connection refused, DNS failure, reset, timeout, empty
//               reply, body over the size cap), 5xx, 429, 408, and 1xx/3xx (redirects
//               are never followed: a captive portal or proxy in front is no answer);
//   permanent = any other 4xx.
//
// A 2xx whose body the caller cannot parse is a malformed answer: the CALLER must treat it
// as kRetriable (SPEC §6 "malformed answer"), e.g.
//   if (r.call_class == CallClass::kSuccess && !parsed) r.call_class = CallClass::kRetriable;
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace outpost::clients {

enum class CallClass { kSuccess, kRetriable, kPermanent };

const char* toString(CallClass call_class);

// Credentials and scope for AWS Signature Version 4. libcurl 7.88 does not send the
// session token itself: send() adds X-Amz-Security-Token when one is set. Never logged.
struct AwsSigning {
  std::string region;
  std::string service;  // "sns", "sqs"
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
  // "20261207T120000Z": sign as at this time (the node's clock corrected to the service's,
  // SPEC §11), by outpost's own signer (clients/aws_sigv4.h); empty: libcurl signs at the
  // local clock.
  std::string signing_time{};
};

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE, HEAD
  std::string url;             // http:// or https:// only
  // Sent as given. With a non-empty body and no Content-Type header, application/json is
  // sent (never curl's form-urlencoded default).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::int64_t timeout_ms = 3000;  // the whole call, connect included; at least 1
  std::int64_t connect_timeout_ms = 1000;
  // HTTPS: when set, this PEM file is the one authority trusted (a node's own
  // certificate), instead of the system's. verify_host false skips the check of the
  // certificate's names, for a call to such a node on loopback.
  std::optional<std::string> ca_file;
  bool verify_host = true;
  // AWS Signature Version 4, by libcurl (CURLOPT_AWS_SIGV4), when set.
  std::optional<AwsSigning> aws_sigv4;
  // When set, asked about once a second and whenever data moves: true aborts the call
  // (HttpResponse::cancelled), so that shutdown need not wait out a hung peer.
  std::function<bool()> cancelled = nullptr;
};

struct HttpResponse {
  CallClass call_class = CallClass::kRetriable;
  // The HTTP status when an answer arrived; 0 when none did. call_class is what counts:
  // an answer whose body exceeded the cap keeps its status but is kRetriable.
  int status = 0;
  std::string body;
  // Empty on success; otherwise for humans and logs, never for branching:
  // "connection refused", "timed out after 3000 ms", "HTTP 503", ...
  std::string error;
  bool timed_out = false;
  bool cancelled = false;  // HttpRequest::cancelled said so; kRetriable, no fault of the peer
  // The answer's Date header as sent ("Tue, 03 Mar 2026 10:00:00 GMT"), "" when none: the
  // peer's clock, for the clock check (parseHttpDate).
  std::string date{};
};

// An HTTP Date header in milliseconds since the epoch (curl_getdate: IMF-fixdate and the
// obsolete forms); nullopt when it cannot be read.
std::optional<std::int64_t> parseHttpDate(const std::string& date);

// The class of an HTTP status (see the top of this file). 0 (no HTTP answer) and
// statuses outside 100..599 are kRetriable; 1xx finals are kPermanent.
CallClass classifyStatus(int status);

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Thread-safe in every implementation. Never throws for a failed call.
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

struct CurlHttpClientOptions {
  std::size_t max_body_bytes = 1024 * 1024;  // a bigger answer is malformed: kRetriable
  std::size_t max_idle_handles = 16;         // kept for reuse; more are closed on return
  std::string user_agent = "outpost";
};

// libcurl behind HttpClient. Keeps a mutex-guarded pool of easy handles, reused last-in
// first-out, so that one thread calling in sequence gets the same handle and its
// keep-alive connections. CURLOPT_NOSIGNAL is set (safe with threads); redirects are not
// followed. curl_global_init runs once per process.
class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(CurlHttpClientOptions options = {});
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  HttpResponse send(const HttpRequest& request) override;

 private:
  void* acquire();  // a CURL*, from the pool or new; nullptr if curl cannot make one
  void release(void* handle);

  CurlHttpClientOptions options_;
  std::mutex mutex_;
  std::vector<void*> idle_;  // CURL* handles, most recently used last
};

}  // namespace outpost::clients
