#include "app/drain_cli.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "app/node_address.h"
#include "clients/http_client.h"
#include "common/json_parse.h"
#include "http/admin_routes.h"
#include "http/query.h"
#include "outpost/clock.h"

namespace outpost::app {
namespace {

using std::chrono::milliseconds;

// Each request waits this long at most, so that the counts can be shown as they fall.
constexpr milliseconds kPollTimeout{500};
// The node answers a drain request within its timeout; this covers the round trip.
constexpr milliseconds kAnswerSlack{5000};

int fail(const std::string& message, int status) {
  std::fprintf(stderr, "outpost drain: %s\n", message.c_str());
  return status;
}

struct Caller {
  explicit Caller(const Config& config) : config(config), address(nodeAddress(config)) {}

  const Config& config;
  NodeAddress address;
  clients::CurlHttpClient http;

  clients::HttpResponse post(const std::string& path, const std::string& body,
                             milliseconds timeout) {
    clients::HttpRequest request;
    request.method = "POST";
    request.url = address.base_url + path;
    request.body = body;
    request.timeout_ms = timeout.count();
    request.ca_file = address.ca_file;
    request.verify_host = address.verify_host;
    if (config.admin_token)
      request.headers.emplace_back("Authorization", "Bearer " + *config.admin_token);
    return http.send(request);
  }
};

// A one-line reason why an answer is not what was asked for; none when it is a 200.
std::optional<std::string> refusal(const NodeAddress& address,
                                   const clients::HttpResponse& response) {
  if (response.status == 0) return "no node answers at " + address.shown + ": " + response.error;
  if (response.status == 401) {
    return "the node at " + address.shown +
           " refused the admin token: set admin_token in the configuration (--config) as the "
           "node has it";
  }
  if (response.status == 200) return std::nullopt;
  auto problem = parseJson(response.body);
  std::string detail = "HTTP " + std::to_string(response.status);
  if (problem && problem->is_object() && problem->contains("detail") &&
      (*problem)["detail"].is_string()) {
    detail += ": " + (*problem)["detail"].get<std::string>();
  }
  return "the node at " + address.shown + " answered " + detail;
}

std::string countsText(const nlohmann::json& answer) {
  return std::to_string(answer.value("pendingEvents", std::int64_t{0})) + " events, " +
         std::to_string(answer.value("pendingDeliveries", std::int64_t{0})) + " deliveries pending";
}

Result<milliseconds> timeoutFrom(const std::map<std::string, std::string>& options) {
  auto option = options.find("--timeout-ms");
  if (option == options.end()) return http::kDefaultDrainTimeout;
  auto parsed = http::parseNonNegative(option->second);
  if (!parsed) {
    return Error::invalidArgument("--timeout-ms must be a whole number of milliseconds");
  }
  return milliseconds(*parsed);
}

int resume(Caller& caller) {
  auto answer = caller.post("/v1/admin/resume", "", kAnswerSlack);
  if (auto refused = refusal(caller.address, answer)) return fail(*refused, 1);
  std::printf("resumed: the node at %s takes orders again\n", caller.address.shown.c_str());
  return 0;
}

int drain(Caller& caller, milliseconds timeout) {
  const SystemClock clock;
  const bool terminal = isatty(STDOUT_FILENO) == 1;
  const auto started = clock.steadyNow();
  const auto deadline = started + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock.steadyNow());
    const milliseconds wait = std::clamp(left, milliseconds(0), kPollTimeout);
    auto response =
        caller.post("/v1/admin/drain", nlohmann::json({{"timeoutMs", wait.count()}}).dump(),
                    wait + kAnswerSlack);
    if (auto refused = refusal(caller.address, response)) {
      if (terminal) std::printf("\n");
      return fail(*refused, 1);
    }
    auto answer = parseJson(response.body);
    if (!answer || !answer->is_object()) {
      return fail("the node's answer is not the expected JSON: " + response.body, 1);
    }
    // On a terminal, one line rewritten as the counts fall; "\033[K" clears what a longer
    // line left behind.
    const char* line_start = terminal ? "\r" : "";
    const char* line_end = terminal ? "\033[K\n" : "\n";
    if (answer->value("drained", false)) {
      std::printf("%sdrained: %s%s", line_start, countsText(*answer).c_str(), line_end);
      return 0;
    }
    const bool stuck = answer->value("stuck", false);
    if (stuck || clock.steadyNow() >= deadline) {
      const double seconds = std::chrono::duration<double>(clock.steadyNow() - started).count();
      std::printf("%snot drained: %s after %.1fs%s", line_start, countsText(*answer).c_str(),
                  seconds, line_end);
      if (stuck) {
        std::printf(
            "what is left waits for an events destination or a delivery service that is not "
            "configured\n");
      }
      return 1;
    }
    if (terminal) {
      std::printf("\rdraining: %s\033[K", countsText(*answer).c_str());
      std::fflush(stdout);
    }
  }
}

}  // namespace

int runDrainCommand(const Config& config, const std::map<std::string, std::string>& options) {
  auto timeout = timeoutFrom(options);
  if (!timeout) return fail(timeout.error().message, 2);
  Caller caller(config);
  if (options.contains("--resume")) {
    if (options.contains("--timeout-ms")) return fail("--resume takes no --timeout-ms", 2);
    return resume(caller);
  }
  return drain(caller, *timeout);
}

}  // namespace outpost::app
