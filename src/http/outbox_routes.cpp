// /v1/outbox: staff look at events and re-queue dead letters (admin_token).
#include <nlohmann/json.hpp>

#include "http/problem.h"
#include "http/query.h"
#include "http/server.h"

namespace outpost::http {
namespace {

using nlohmann::json;

Result<outbox::EventFilter> parseEventFilter(const httplib::Request& request) {
  outbox::EventFilter filter;
  filter.limit = kDefaultPageSize;
  std::vector<FieldError> errors;
  for (const auto& [name, value] : request.params) {
    if (name == "status") {
      if (outbox::isEventStatus(value)) {
        filter.status = value;
      } else {
        errors.push_back({"status", "must be one of PENDING, SENT, FAILED"});
      }
    } else if (name == "limit") {
      auto limit = parseLimit(value);
      if (limit) {
        filter.limit = *limit;
      } else {
        errors.push_back(limit.error().fields.front());
      }
    } else if (name == "after") {
      filter.after = parseNonNegative(value);
      if (!filter.after)
        errors.push_back({"after", "must be the 'next' cursor of a previous page"});
    } else {
      errors.push_back({name, "unknown query parameter"});
    }
  }
  if (!errors.empty()) return Error(ErrorKind::kInvalidArgument, "invalid query", errors);
  return filter;
}

}  // namespace

void HttpServer::routeOutbox() {
  server_.Get("/v1/outbox", [this](const httplib::Request& request, httplib::Response& response) {
    auto filter = parseEventFilter(request);
    if (!filter) return writeError(response, filter.error());
    auto page = deps_.outbox.list(*filter);
    if (!page) return writeError(response, page.error());
    json items = json::array();
    for (const auto& event : page->items) items.push_back(outbox::eventJson(event));
    const json out = {{"items", std::move(items)},
                      {"next", page->next ? json(std::to_string(*page->next)) : json(nullptr)}};
    writeJson(response, 200, out.dump());
  });
  server_.Post(R"(/v1/outbox/([^/]+)/retry)", [this](const httplib::Request& request,
                                                     httplib::Response& response) {
    auto retried = deps_.outbox.retry(request.matches[1]);
    if (!retried) return writeError(response, retried.error());
    writeJson(response, 200,
              json({{"id", std::string(request.matches[1])}, {"status", "PENDING"}}).dump());
  });
  rejectOtherMethods("/v1/outbox", "GET");
  rejectOtherMethods(R"(/v1/outbox/([^/]+)/retry)", "POST");
}

}  // namespace outpost::http
