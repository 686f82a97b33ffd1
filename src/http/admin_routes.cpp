#include "http/admin_routes.h"

#include <nlohmann/json.hpp>

#include "http/problem.h"
#include "http/query.h"
#include "http/server.h"

namespace outpost::http {
namespace {

using nlohmann::json;

json drainJson(const jobs::DrainReport& report) {
  return {{"drained", report.drained},
          {"pendingEvents", report.pending.events},
          {"pendingDeliveries", report.pending.deliveries},
          {"stuck", report.stuck}};
}

}  // namespace

Result<std::chrono::milliseconds> readDrainTimeout(const httplib::Request& request) {
  if (request.body.empty()) return kDefaultDrainTimeout;
  auto body = readJsonBody(request);
  if (!body) return body.error();
  if (!body->is_object()) return Error::invalidArgument("the body must be a JSON object");
  for (const auto& [key, value] : body->items()) {
    if (key != "timeoutMs") return Error::invalidFields({{key, "unknown field"}});
  }
  auto timeout = body->find("timeoutMs");
  if (timeout == body->end()) return kDefaultDrainTimeout;
  // nlohmann reads every integer without a minus sign as unsigned.
  if (!timeout->is_number_unsigned() ||
      timeout->get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxDrainTimeout.count())) {
    return Error::invalidFields({{"timeoutMs", "must be an integer from 0 to " +
                                                   std::to_string(kMaxDrainTimeout.count())}});
  }
  return std::chrono::milliseconds(timeout->get<std::int64_t>());
}

void HttpServer::routeAdmin() {
  server_.Post("/v1/admin/drain",
               [this](const httplib::Request& request, httplib::Response& response) {
                 auto timeout = readDrainTimeout(request);
                 if (!timeout) return writeError(response, timeout.error());
                 if (!deps_.drain.draining()) deps_.node.log.info("draining: orders are refused");
                 auto report = deps_.drain.drain(*timeout);
                 if (!report) return writeError(response, report.error());
                 writeJson(response, 200, drainJson(*report).dump());
               });
  server_.Post("/v1/admin/resume", [this](const httplib::Request&, httplib::Response& response) {
    if (deps_.drain.draining()) deps_.node.log.info("drain ended: taking orders again");
    deps_.drain.resume();
    writeJson(response, 200, json({{"draining", false}}).dump());
  });
  rejectOtherMethods("/v1/admin/drain", "POST");
  rejectOtherMethods("/v1/admin/resume", "POST");
}

}  // namespace outpost::http
