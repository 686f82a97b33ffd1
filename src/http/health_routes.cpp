// /livez and /readyz: is the process up; can it take orders. /health: what is wrong.
// /metrics: the same and more, for Prometheus.
#include "http/problem.h"
#include "http/query.h"
#include "http/server.h"
#include "store/migrations.h"

namespace outpost::http {
namespace {

constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace

void HttpServer::routeHealth() {
  server_.Get("/livez", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(R"({"status":"ok"})", kJsonContentType);
  });
  server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& response) {
    auto& store = deps_.node.store;
    if (store.schemaVersion() < store::latestSchemaVersion(store::embeddedMigrations())) {
      return writeProblem(response, 503, "database migrations are not applied");
    }
    // An empty write transaction takes the write lock: it proves the file is writable
    // without writing anything to it.
    auto writable = store.write([](store::Connection&) { return okStatus(); });
    if (!writable) return writeError(response, writable.error());
    response.set_content(R"({"status":"ready"})", kJsonContentType);
  });
  server_.Get("/health", [this](const httplib::Request&, httplib::Response& response) {
    const auto figures = deps_.reliability();
    const bool unavailable = observability::overallStatus(figures) == observability::kUnavailable;
    auto health = observability::healthJson(figures);
    health["draining"] = deps_.drain.draining();  // the node's own state, not the file's
    writeJson(response, unavailable ? 503 : 200, health.dump());
  });
  server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(deps_.node.metrics.render(deps_.reliability()), kPrometheusContentType);
  });
  rejectOtherMethods("/health", "GET");
  rejectOtherMethods("/metrics", "GET");
  rejectOtherMethods("/livez", "GET");
  rejectOtherMethods("/readyz", "GET");
}

}  // namespace outpost::http
