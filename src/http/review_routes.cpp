// /v1/reviews: the manual review queue for staff (admin_token).
#include <nlohmann/json.hpp>

#include "http/problem.h"
#include "http/query.h"
#include "http/server.h"
#include "orders/order_json.h"

namespace outpost::http {
namespace {

using nlohmann::json;

bool isReviewCursor(const std::string& text) { return parseNonNegative(text).has_value(); }

Result<store::ReviewFilter> parseReviewFilter(const httplib::Request& request) {
  static constexpr PageQueryRules kRules = {nullptr, "", isReviewCursor};
  auto query = parsePageQuery(request, kRules);
  if (!query) return query.error();
  std::optional<std::int64_t> after;
  if (query->after) after = parseNonNegative(*query->after);
  return store::ReviewFilter{query->limit, after};
}

}  // namespace

void HttpServer::routeReviews() {
  server_.Get("/v1/reviews", [this](const httplib::Request& request, httplib::Response& response) {
    auto filter = parseReviewFilter(request);
    if (!filter) return writeError(response, filter.error());
    auto page = deps_.reviews.list(*filter);
    if (!page) return writeError(response, page.error());
    json items = json::array();
    for (const auto& item : page->items) items.push_back(review::reviewJson(item));
    const json out = {{"items", std::move(items)},
                      {"next", page->next ? json(std::to_string(*page->next)) : json(nullptr)}};
    writeJson(response, 200, out.dump());
  });
  server_.Post(R"(/v1/reviews/([^/]+)/resolve)",
               [this](const httplib::Request& request, httplib::Response& response) {
                 auto body = readJsonBody(request);
                 if (!body) return writeError(response, body.error());
                 auto resolution = review::parseResolution(*body);
                 if (!resolution) return writeError(response, resolution.error());
                 auto resolved = deps_.reviews.resolve(request.matches[1], *resolution);
                 if (!resolved) return writeError(response, resolved.error());
                 writeJson(response, resolved->accepted ? 202 : 200,
                           orders::orderJson(resolved->order, true).dump());
               });
  rejectOtherMethods("/v1/reviews", "GET");
  rejectOtherMethods(R"(/v1/reviews/([^/]+)/resolve)", "POST");
}

}  // namespace outpost::http
