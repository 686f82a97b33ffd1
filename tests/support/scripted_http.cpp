#include "support/scripted_http.h"

#include <algorithm>

namespace outpost::testing {

std::string pathOf(const std::string& url) {
  const auto scheme = url.find("://");
  const auto path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return path == std::string::npos ? "/" : url.substr(path);
}

clients::HttpResponse ScriptedHttp::send(const clients::HttpRequest& request) {
  std::unique_lock lock(mutex_);
  const std::string path = pathOf(request.url);
  requests_.push_back(request);
  calls_.push_back(request.method + " " + path);
  switch (fault_) {
    case Fault::kRefuse:
      return refused();
    case Fault::kTimeout:
      return timedOut();
    case Fault::kServerError:
      return answerText(500, "internal error");
    case Fault::kMalformed:
      return answerText(200, "<html>not json</html>");
    case Fault::kNone:
      break;
  }
  if (!queued_.empty()) {
    clients::HttpResponse next = std::move(queued_.front());
    queued_.pop_front();
    return next;
  }
  const Respond respond = respond_;
  lock.unlock();
  return respond ? respond(request.method, path) : answer(200, nlohmann::json::object());
}

void ScriptedHttp::setFault(Fault fault) {
  std::lock_guard lock(mutex_);
  fault_ = fault;
}

void ScriptedHttp::queue(clients::HttpResponse answer) {
  std::lock_guard lock(mutex_);
  queued_.push_back(std::move(answer));
}

void ScriptedHttp::setAnswer(clients::HttpResponse answer) {
  setRespond([answer](const std::string&, const std::string&) { return answer; });
}

void ScriptedHttp::setRespond(Respond respond) {
  std::lock_guard lock(mutex_);
  respond_ = std::move(respond);
}

std::vector<clients::HttpRequest> ScriptedHttp::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<std::string> ScriptedHttp::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

int ScriptedHttp::count(const std::string& call) const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(std::count(calls_.begin(), calls_.end(), call));
}

clients::HttpResponse ScriptedHttp::answer(int status, const nlohmann::json& body) {
  return answerText(status, body.dump());
}

clients::HttpResponse ScriptedHttp::answerText(int status, std::string body) {
  return {clients::classifyStatus(status), status, std::move(body),
          status / 100 == 2 ? "" : "HTTP " + std::to_string(status), false};
}

clients::HttpResponse ScriptedHttp::refused() {
  return {clients::CallClass::kRetriable, 0, "", "connection refused", false};
}

clients::HttpResponse ScriptedHttp::timedOut() {
  return {clients::CallClass::kRetriable, 0, "", "timed out", true};
}

ScriptedHttp::Respond ScriptedHttp::knowsDelivery(const std::string& id) {
  return [id](const std::string& method, const std::string& path) {
    if (method == "POST" && path == "/deliveries") {
      return answer(201, nlohmann::json{{"id", id}, {"status", "CREATED"}});
    }
    return answer(200, nlohmann::json{{"id", id}, {"status", "CANCELLED"}});
  };
}

}  // namespace outpost::testing
