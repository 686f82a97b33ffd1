#include "support/skewed_aws_proxy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>

#include "support/eventually.h"

namespace outpost::testing {
namespace {

using std::chrono::system_clock;

constexpr std::chrono::minutes kAllowed{5};

std::string utcText(system_clock::time_point at, const char* format) {
  const std::time_t seconds = system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64] = {};
  std::strftime(text, sizeof text, format, &utc);
  return text;
}

std::string amzDate(system_clock::time_point at) { return utcText(at, "%Y%m%dT%H%M%SZ"); }

std::string httpDate(system_clock::time_point at) {
  return utcText(at, "%a, %d %b %Y %H:%M:%S GMT");
}

std::optional<system_clock::time_point> parseAmzDate(const std::string& text) {
  std::tm utc{};
  const char* end = strptime(text.c_str(), "%Y%m%dT%H%M%SZ", &utc);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return system_clock::from_time_t(timegm(&utc));
}

// AWS's words for a signature outside its window.
std::string refusalMessage(const std::string& signed_at, system_clock::time_point now) {
  const auto signed_time = *parseAmzDate(signed_at);
  if (signed_time < now) {
    return "Signature expired: " + signed_at + " is now earlier than " + amzDate(now - kAllowed) +
           " (" + amzDate(now) + " - 5 min.)";
  }
  return "Signature not yet current: " + signed_at + " is still later than " +
         amzDate(now + kAllowed) + " (" + amzDate(now) + " + 5 min.)";
}

}  // namespace

std::unique_ptr<SkewedAwsProxy> SkewedAwsProxy::start(int upstream_port,
                                                      std::chrono::milliseconds ahead) {
  std::unique_ptr<SkewedAwsProxy> proxy(new SkewedAwsProxy(upstream_port, ahead));
  proxy->port_ = proxy->server_.bind_to_any_port("127.0.0.1");
  if (proxy->port_ <= 0) {
    ADD_FAILURE() << "the skewed proxy cannot listen on 127.0.0.1";
    return nullptr;
  }
  proxy->thread_ = std::thread([raw = proxy.get()] { raw->server_.listen_after_bind(); });
  if (!eventually([raw = proxy.get()] { return raw->server_.is_running(); },
                  std::chrono::seconds(5))) {
    ADD_FAILURE() << "the skewed proxy did not start";
  }
  return proxy;
}

SkewedAwsProxy::SkewedAwsProxy(int upstream_port, std::chrono::milliseconds ahead)
    : upstream_port_(upstream_port), ahead_(ahead) {
  server_.Post(".*", [this](const httplib::Request& request, httplib::Response& response) {
    handle(request, response);
  });
}

SkewedAwsProxy::~SkewedAwsProxy() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

std::string SkewedAwsProxy::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

int SkewedAwsProxy::refusals() const {
  std::lock_guard lock(mutex_);
  return refusals_;
}

int SkewedAwsProxy::forwarded() const {
  std::lock_guard lock(mutex_);
  return forwarded_;
}

std::size_t SkewedAwsProxy::mostDateHeaders() const {
  std::lock_guard lock(mutex_);
  return most_date_headers_;
}

void SkewedAwsProxy::handle(const httplib::Request& request, httplib::Response& response) {
  const auto now = system_clock::now() + ahead_;
  response.set_header("Date", httpDate(now));
  const std::string signed_at = request.get_header_value("X-Amz-Date");
  const auto signed_time = parseAmzDate(signed_at);
  const bool sqs = request.has_header("X-Amz-Target");
  {
    std::lock_guard lock(mutex_);
    most_date_headers_ = std::max(most_date_headers_, request.get_header_value_count("X-Amz-Date"));
  }
  if (signed_time && (*signed_time < now - kAllowed || *signed_time > now + kAllowed)) {
    {
      std::lock_guard lock(mutex_);
      ++refusals_;
    }
    const std::string message = refusalMessage(signed_at, now);
    if (sqs) {
      response.status = 400;
      response.set_header("x-amzn-query-error", "InvalidSignatureException;Sender");
      response.set_content(
          nlohmann::json{{"__type", "com.amazon.coral.service#InvalidSignatureException"},
                         {"message", message}}
              .dump(),
          "application/x-amz-json-1.0");
    } else {
      response.status = 403;
      response.set_content(
          "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error>"
          "<Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>" +
              message + "</Message></Error><RequestId>r-1</RequestId></ErrorResponse>",
          "text/xml");
    }
    return;
  }
  httplib::Client upstream("127.0.0.1", upstream_port_);
  upstream.set_connection_timeout(std::chrono::seconds(2));
  upstream.set_read_timeout(std::chrono::seconds(10));
  httplib::Headers headers;
  if (sqs) headers.emplace("X-Amz-Target", request.get_header_value("X-Amz-Target"));
  auto answer =
      upstream.Post(request.path, headers, request.body, request.get_header_value("Content-Type"));
  if (!answer) {
    response.status = 502;
    return;
  }
  {
    std::lock_guard lock(mutex_);
    ++forwarded_;
  }
  response.status = answer->status;
  response.set_content(answer->body, answer->get_header_value("Content-Type"));
}

}  // namespace outpost::testing
