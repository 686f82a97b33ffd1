// ScriptedHttp: the one scripted HttpClient of the unit tests, for any service a unit
// talks to (delivery, product, SNS/SQS, a webhook). Each request gets, in this order of
// precedence: the fault switched on, if any; else the next queued answer; else what
// `respond` says for its method and path (200 {} unless set). Every request is logged.
// Thread-safe, so a test can script it while the code under test calls from a thread.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "clients/http_client.h"

namespace outpost::testing {

class ScriptedHttp final : public clients::HttpClient {
 public:
  enum class Fault { kNone, kRefuse, kTimeout, kServerError, kMalformed };
  // `path` is the URL after its host, query included ("/deliveries/d-1/cancel").
  using Respond =
      std::function<clients::HttpResponse(const std::string& method, const std::string& path)>;

  clients::HttpResponse send(const clients::HttpRequest& request) override;

  void setFault(Fault fault);
  void queue(clients::HttpResponse answer);
  void setRespond(Respond respond);
  // The same answer to every request that finds no queued one.
  void setAnswer(clients::HttpResponse answer);

  // The call log.
  std::vector<clients::HttpRequest> requests() const;
  // The calls as "METHOD /path", in order.
  std::vector<std::string> calls() const;
  // How many calls were "METHOD /path".
  int count(const std::string& call) const;

  static clients::HttpResponse answer(int status, const nlohmann::json& body);
  static clients::HttpResponse answerText(int status, std::string body);
  static clients::HttpResponse refused();
  static clients::HttpResponse timedOut();
  // A delivery service that holds delivery `id` for the order: POST /deliveries (a
  // look-up by the order's key) answers with it, and any other call (its cancel)
  // succeeds.
  static Respond knowsDelivery(const std::string& id);

 private:
  mutable std::mutex mutex_;
  Fault fault_ = Fault::kNone;
  std::deque<clients::HttpResponse> queued_;
  Respond respond_;
  std::vector<clients::HttpRequest> requests_;
  std::vector<std::string> calls_;
};

// The path of `url` after its scheme and host.
std::string pathOf(const std::string& url);

}  // namespace outpost::testing
