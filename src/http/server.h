// HttpServer: the node's HTTP API on cpp-httplib, with every limit set in one place
// (configureLimits). Handlers parse, call one service and map the result.
// bind() and serve() are called once, from one thread; stop() from any thread.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "http/guarded_server.h"
#include "http/tls.h"
#include "jobs/drain.h"
#include "node/context.h"
#include "observability/logger.h"
#include "observability/metrics.h"
#include "observability/reliability.h"
#include "orders/order_service.h"
#include "outbox/outbox_admin.h"
#include "outpost/clock.h"
#include "outpost/config.h"
#include "outpost/result.h"
#include "review/review_service.h"
#include "saga/compensator.h"
#include "store/disk_floor.h"
#include "store/store.h"

namespace outpost::http {

struct HttpDependencies {
  // The metrics serve GET /metrics and count every answer; the clock times each request.
  const node::Context& node;
  const Config& config;
  orders::OrderService& orders;
  outbox::OutboxAdmin& outbox;
  saga::Compensator& compensator;
  review::ReviewService& reviews;
  // GET /health's figures, gathered at each request.
  std::function<observability::ReliabilityFigures()> reliability;
  // `outpost drain`: while draining, POST /v1/orders is refused.
  jobs::Drain& drain;
  // When set, the API is HTTPS only.
  std::shared_ptr<const TlsContext> tls;
  // storage.min_free_bytes: below it, POST /v1/orders is refused.
  store::DiskFloor& disk_floor;
};

class HttpServer {
 public:
  explicit HttpServer(HttpDependencies deps);

  // Binds the listening socket; returns the port (useful when the config asked for 0).
  Result<int> bind();
  // Serves until stop(); in-flight requests finish before it returns.
  void serve();
  void stop();

 private:
  ConnectionOptions connectionOptions();
  void configureLimits();
  void configureErrorHandling();
  void configureRequestMetrics();
  void routeOrders();
  void routeHealth();
  void routeOutbox();
  void routeReviews();
  void routeAdmin();
  void rejectOtherMethods(const std::string& pattern, const std::string& allowed);
  bool authorize(const httplib::Request& request, httplib::Response& response) const;

  HttpDependencies deps_;
  GuardedServer server_;
  int listen_fd_ = -1;
  std::mutex stop_mutex_;
  bool stop_requested_ = false;
  bool serve_finished_ = false;
};

}  // namespace outpost::http
