// SkewedAwsProxy: stands in front of fauxqs (which checks no signature) as AWS would with
// a clock `ahead` of this box's (SPEC §11). A request whose X-Amz-Date is more than 5 min
// from the proxy's time is refused as AWS refuses it, with a Date header of that time:
// SQS (an X-Amz-Target header, JSON protocol) 400 InvalidSignatureException, SNS (query
// protocol) 403 XML SignatureDoesNotMatch, each saying "Signature expired" or "Signature
// not yet current". Any other request is forwarded to fauxqs and its answer returned, with
// the proxy's Date. Runs an httplib::Server on 127.0.0.1:<free port>; thread-safe.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace outpost::testing {

class SkewedAwsProxy {
 public:
  // Fails the test (ADD_FAILURE) and returns nullptr if it cannot listen.
  static std::unique_ptr<SkewedAwsProxy> start(int upstream_port, std::chrono::milliseconds ahead);
  ~SkewedAwsProxy();
  SkewedAwsProxy(const SkewedAwsProxy&) = delete;
  SkewedAwsProxy& operator=(const SkewedAwsProxy&) = delete;

  std::string url() const;  // "http://127.0.0.1:PORT"
  int refusals() const;     // requests refused for their time, SNS and SQS
  int forwarded() const;
  // The most X-Amz-Date headers one request carried (AWS reads two as one joined value).
  std::size_t mostDateHeaders() const;

 private:
  SkewedAwsProxy(int upstream_port, std::chrono::milliseconds ahead);
  void handle(const httplib::Request& request, httplib::Response& response);

  int upstream_port_;
  std::chrono::milliseconds ahead_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  int refusals_ = 0;
  int forwarded_ = 0;
  std::size_t most_date_headers_ = 0;
};

}  // namespace outpost::testing
