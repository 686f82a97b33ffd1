// /v1/outbox: staff look at events and re-queue dead letters, one or all (admin_token).
#include <nlohmann/json.hpp>

#include "http/problem.h"
#include "http/query.h"
#include "http/server.h"

namespace outpost::http {
namespace {

using nlohmann::json;

bool isEventCursor(const std::string& text) { return parseNonNegative(text).has_value(); }

Result<outbox::EventFilter> parseEventFilter(const httplib::Request& request) {
  static constexpr PageQueryRules kRules = {outbox::isEventStatus, "PENDING, SENT, FAILED",
                                            isEventCursor};
  auto query = parsePageQuery(request, kRules);
  if (!query) return query.error();
  std::optional<std::int64_t> after;
  if (query->after) after = parseNonNegative(*query->after);
  return outbox::EventFilter{query->status, query->limit, after};
}

// POST /v1/outbox/retry-failed: an empty body re-drives every FAILED event.
Result<outbox::FailedEventFilter> readFailedEventFilter(const httplib::Request& request) {
  if (request.body.empty()) return outbox::FailedEventFilter{};
  auto body = readJsonBody(request);
  if (!body) return body.error();
  return outbox::parseFailedEventFilter(*body);
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
  // Before the {id} routes, so that no pattern added there can take it for an event id.
  server_.Post("/v1/outbox/retry-failed",
               [this](const httplib::Request& request, httplib::Response& response) {
                 auto filter = readFailedEventFilter(request);
                 if (!filter) return writeError(response, filter.error());
                 auto requeued = deps_.outbox.retryAllFailed(*filter);
                 if (!requeued) return writeError(response, requeued.error());
                 writeJson(response, 200, json({{"requeued", *requeued}}).dump());
               });
  server_.Post(R"(/v1/outbox/([^/]+)/retry)", [this](const httplib::Request& request,
                                                     httplib::Response& response) {
    auto retried = deps_.outbox.retry(request.matches[1]);
    if (!retried) return writeError(response, retried.error());
    writeJson(response, 200,
              json({{"id", std::string(request.matches[1])}, {"status", "PENDING"}}).dump());
  });
  rejectOtherMethods("/v1/outbox", "GET");
  rejectOtherMethods("/v1/outbox/retry-failed", "POST");
  rejectOtherMethods(R"(/v1/outbox/([^/]+)/retry)", "POST");
}

}  // namespace outpost::http
