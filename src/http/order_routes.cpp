// /v1/orders: take an order, read one, list them, cancel one.
#include <nlohmann/json.hpp>

#include "common/text.h"
#include "http/headers.h"
#include "http/order_gates.h"
#include "http/problem.h"
#include "http/query.h"
#include "http/server.h"
#include "orders/order_json.h"
#include "orders/ulid.h"

namespace outpost::http {
namespace {

using nlohmann::json;

bool isOrderId(const std::string& id) {
  return id.size() == 30 && id.starts_with(orders::kOrderIdPrefix) && orders::isUlid(id.substr(4));
}

// POST /v1/orders/{id}/cancel: an empty body, or {"reason": string}.
Result<std::string> readCancelReason(const httplib::Request& request) {
  constexpr const char* kDefaultReason = "cancelled by the client";
  if (request.body.empty()) return std::string(kDefaultReason);
  auto body = readJsonBody(request);
  if (!body) return body.error();
  const std::string detail = "must be a string of 1 to 256 characters";
  if (!body->is_object()) return Error::invalidArgument("the body must be a JSON object");
  for (const auto& [key, value] : body->items()) {
    if (key != "reason") {
      return Error::invalidFields({{key, "unknown field"}});
    }
  }
  auto reason = body->find("reason");
  if (reason == body->end() || reason->is_null()) return std::string(kDefaultReason);
  if (!reason->is_string() || reason->get_ref<const std::string&>().empty() ||
      utf8Length(reason->get_ref<const std::string&>()) > 256) {
    return Error::invalidFields({{"reason", detail}});
  }
  return reason->get<std::string>();
}

Result<orders::OrderFilter> parseOrderFilter(const httplib::Request& request) {
  static constexpr PageQueryRules kRules = {
      orders::isKnownOrderStatus,
      "PENDING_SHIPMENT, SHIPPED, DELIVERED, DELIVERY_FAILED, CANCELLED", isOrderId};
  auto query = parsePageQuery(request, kRules);
  if (!query) return query.error();
  return orders::OrderFilter{query->status, query->limit, query->after};
}

}  // namespace

void HttpServer::routeOrders() {
  server_.Post("/v1/orders", [this](const httplib::Request& request, httplib::Response& response) {
    if (deps_.drain.draining()) {
      return writeProblemOfType(response, 503, kDrainingProblemType,
                                "this node is draining before it is switched off; try again "
                                "later");
    }
    if (refuseOrderBelowDiskFloor(deps_.disk_floor, response)) return;
    auto key = readIdempotencyKey(request);
    if (!key) return writeError(response, key.error());
    auto body = readJsonBody(request);
    if (!body) return writeError(response, body.error());
    auto order = orders::parseNewOrder(*body);
    if (!order) return writeError(response, order.error());
    std::optional<orders::IdempotentRequest> idempotency;
    // dump() writes object keys sorted: the same order in any key order or spacing matches.
    if (*key) idempotency = orders::IdempotentRequest{**key, sha256Hex(body->dump())};
    auto created = deps_.orders.create(*order, idempotency);
    if (!created) return writeError(response, created.error());
    if (created->replayed) response.set_header("Idempotent-Replayed", "true");
    if (created->status == 201) response.set_header("Location", "/v1/orders/" + created->order_id);
    if (created->status == 201 && !created->replayed) deps_.node.metrics.orderCreated();
    writeJson(response, created->status, created->body);
  });
  server_.Get("/v1/orders", [this](const httplib::Request& request, httplib::Response& response) {
    auto filter = parseOrderFilter(request);
    if (!filter) return writeError(response, filter.error());
    auto page = deps_.orders.list(*filter);
    if (!page) return writeError(response, page.error());
    json items = json::array();
    for (const auto& order : page->items) items.push_back(orders::orderJson(order, false));
    json out = {{"items", std::move(items)},
                {"next", page->next ? json(*page->next) : json(nullptr)}};
    writeJson(response, 200, out.dump());
  });
  server_.Get(R"(/v1/orders/([^/]+))",
              [this](const httplib::Request& request, httplib::Response& response) {
                const std::string id = request.matches[1];
                if (!isOrderId(id))
                  return writeError(response, Error::notFound("no order with id " + id));
                auto order = deps_.orders.get(id);
                if (!order) return writeError(response, order.error());
                writeJson(response, 200, orders::orderJson(*order, true).dump());
              });
  server_.Post(R"(/v1/orders/([^/]+)/cancel)", [this](const httplib::Request& request,
                                                      httplib::Response& response) {
    const std::string id = request.matches[1];
    if (!isOrderId(id)) return writeError(response, Error::notFound("no order with id " + id));
    auto reason = readCancelReason(request);
    if (!reason) return writeError(response, reason.error());
    auto cancelled = deps_.compensator.cancel(id, *reason);
    if (!cancelled) return writeError(response, cancelled.error());
    const bool nothing_new = cancelled->outcome == saga::CancelRequest::kAlreadyCancelled;
    writeJson(response, nothing_new ? 200 : 202, orders::orderJson(cancelled->order, true).dump());
  });
  rejectOtherMethods("/v1/orders", "GET, POST");
  rejectOtherMethods(R"(/v1/orders/([^/]+)/cancel)", "POST");
  rejectOtherMethods(R"(/v1/orders/([^/]+))", "GET");
}

}  // namespace outpost::http
