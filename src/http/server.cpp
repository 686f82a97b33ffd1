#include "http/server.h"

#include <sys/socket.h>

#include <chrono>
#include <optional>

#include "common/text.h"
#include "http/headers.h"
#include "http/problem.h"
#include "http/worker_pool.h"

namespace outpost::http {
namespace {

// Each connection holds a worker while it is open (a slow one for at most the request
// deadline), so the pool grows with the connections: a till's order never queues behind
// clients that drip their requests (SPEC §8). The cap stays under the 1024 descriptors a
// process gets by default.
constexpr WorkerPoolOptions kWorkers{
    .kept_threads = 16, .max_threads = 900, .idle_timeout = std::chrono::seconds(30)};
constexpr int kListenBacklog = 1024;
// SPEC §8: a request's headers and body must all arrive within 5 s of its first byte.
constexpr std::chrono::seconds kRequestDeadline{5};
constexpr std::chrono::seconds kKeepAliveIdle{2};
constexpr std::chrono::seconds kWriteTimeout{3};
constexpr std::size_t kKeepAliveMaxRequests = 100000;

bool startsWith(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// When this worker thread began on the request it is answering; none when the request
// failed before routing (a malformed request line), which then counts with 0 s.
thread_local std::optional<Clock::SteadyTime> request_started;

std::string methodLabel(const std::string& method) {
  for (const char* known : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}) {
    if (method == known) return method;
  }
  return "other";
}

// The route's pattern, read back from the match: each captured path segment (an order,
// event or review id) becomes {id}, so the label stays one per route however many ids
// there are. A path no route matched is "unmatched".
std::string routeLabel(const httplib::Request& request) {
  const auto& match = request.matches;
  if (match.empty() || match.position(0) != 0 ||
      static_cast<std::size_t>(match.length(0)) != request.path.size()) {
    return observability::kUnmatchedRoute;
  }
  std::string label;
  std::size_t copied = 0;
  for (std::size_t group = 1; group < match.size(); ++group) {
    const auto start = static_cast<std::size_t>(match.position(group));
    label.append(request.path, copied, start - copied);
    label += "{id}";
    copied = start + static_cast<std::size_t>(match.length(group));
  }
  label.append(request.path, copied);
  return label;
}

}  // namespace

HttpServer::HttpServer(HttpDependencies deps) : deps_(deps), server_(connectionOptions()) {
  configureLimits();
  configureErrorHandling();
  configureRequestMetrics();
  routeHealth();
  routeOrders();
  routeOutbox();
  routeReviews();
  routeAdmin();
}

ConnectionOptions HttpServer::connectionOptions() {
  ConnectionOptions options;
  options.tls = deps_.tls;
  options.request_deadline = kRequestDeadline;
  options.keep_alive_idle = kKeepAliveIdle;
  options.write_timeout = kWriteTimeout;
  // The default of 5 requests per connection makes busy tills reconnect all the time.
  options.max_requests_per_connection = kKeepAliveMaxRequests;
  options.on_refused = [this](const std::string& method, int status, double seconds) {
    deps_.node.metrics.httpRequest(methodLabel(method), observability::kUnmatchedRoute, status,
                                   seconds);
  };
  options.on_failure = [this](const std::string& what) {
    deps_.node.log.error("connection failed", {{"error", what}});
  };
  return options;
}

void HttpServer::configureLimits() {
  server_.new_task_queue = [] { return new WorkerPool(kWorkers); };
  // Off by default in cpp-httplib: Nagle plus delayed ACK adds ~40 ms to every answer.
  server_.set_tcp_nodelay(true);
  // GuardedServer reads the requests and applies every limit itself (connectionOptions());
  // cpp-httplib still sets each accepted socket's SO_RCVTIMEO and SO_SNDTIMEO from these
  // (no read or send waits on them: each waits in poll first), and writes the Keep-Alive
  // header of each answer from the last two.
  server_.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(kRequestDeadline));
  server_.set_write_timeout(kWriteTimeout);
  server_.set_keep_alive_timeout(kKeepAliveIdle.count());
  server_.set_keep_alive_max_count(kKeepAliveMaxRequests);
  server_.set_socket_options([this](int fd) {
    // SO_REUSEADDR, not cpp-httplib's SO_REUSEPORT: a second node on the same port must
    // fail to start instead of silently sharing the traffic.
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd_ = fd;
  });
}

void HttpServer::configureErrorHandling() {
  using HandlerResponse = httplib::Server::HandlerResponse;
  server_.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& response) -> HandlerResponse {
        if (!response.body.empty()) return HandlerResponse::Unhandled;
        const std::string detail =
            response.status == 404 ? "no such resource" : problemTitle(response.status);
        writeProblem(response, response.status, detail);
        return HandlerResponse::Handled;
      }));
  server_.set_exception_handler(
      [this](const httplib::Request& request, httplib::Response& response, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        deps_.node.log.error("request failed", {{"path", request.path}, {"error", what}});
        writeProblem(response, 500, "unexpected error; see the node's log");
      });
  server_.set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        request_started = deps_.node.clock.steadyNow();
        return authorize(request, response) ? httplib::Server::HandlerResponse::Unhandled
                                            : httplib::Server::HandlerResponse::Handled;
      });
}

void HttpServer::configureRequestMetrics() {
  // cpp-httplib calls the logger on the worker thread that read the request, once its
  // answer is written.
  server_.set_logger([this](const httplib::Request& request, const httplib::Response& response) {
    double seconds = 0;
    if (request_started) {
      seconds =
          std::chrono::duration<double>(deps_.node.clock.steadyNow() - *request_started).count();
      request_started.reset();
    }
    deps_.node.metrics.httpRequest(methodLabel(request.method), routeLabel(request),
                                   response.status, seconds);
  });
}

bool HttpServer::authorize(const httplib::Request& request, httplib::Response& response) const {
  const auto& config = deps_.config;
  const std::optional<std::string>* required = nullptr;
  if (startsWith(request.path, "/v1/orders")) required = &config.api_token;
  if (startsWith(request.path, "/v1/reviews") || startsWith(request.path, "/v1/outbox") ||
      startsWith(request.path, "/v1/admin")) {
    required = &config.admin_token;
  }
  // The shop's traffic is no one else's business; /livez, /readyz and /health stay open.
  if (request.path == "/metrics") required = &config.metrics_token;
  if (required == nullptr || !required->has_value()) return true;
  if (constantTimeEquals(bearerToken(request), **required)) return true;
  response.set_header("WWW-Authenticate", "Bearer");
  writeProblem(response, 401, "a valid 'Authorization: Bearer <token>' header is required");
  return false;
}

void HttpServer::rejectOtherMethods(const std::string& pattern, const std::string& allowed) {
  auto reject = [allowed](const httplib::Request& request, httplib::Response& response) {
    response.set_header("Allow", allowed);
    writeProblem(response, 405, request.method + " is not allowed here; use " + allowed);
  };
  if (allowed.find("GET") == std::string::npos) server_.Get(pattern, reject);
  if (allowed.find("POST") == std::string::npos) server_.Post(pattern, reject);
  server_.Put(pattern, reject);
  server_.Patch(pattern, reject);
  server_.Delete(pattern, reject);
}

Result<int> HttpServer::bind() {
  const auto& config = deps_.config;
  if (!server_.bind_to_port(config.listen_host, config.listen_port)) {
    return Error::unavailable("cannot listen on " + config.listen +
                              " (address in use, or not an address of this machine)");
  }
  // cpp-httplib listens with a backlog of 5, so a burst of connects stalls for a second;
  // listening again on the bound socket raises it.
  if (listen_fd_ >= 0) ::listen(listen_fd_, kListenBacklog);
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  int port = config.listen_port;
  if (listen_fd_ >= 0 &&
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = address.ss_family == AF_INET6
               ? ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port)
               : ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  }
  return port;
}

void HttpServer::serve() {
  {
    std::lock_guard lock(stop_mutex_);
    if (stop_requested_) return;
  }
  server_.listen_after_bind();
  std::lock_guard lock(stop_mutex_);
  serve_finished_ = true;
}

void HttpServer::stop() {
  std::lock_guard lock(stop_mutex_);
  if (stop_requested_) return;
  stop_requested_ = true;
  if (serve_finished_ || listen_fd_ < 0) return;
  // A shut-down listening socket ends cpp-httplib's accept loop whenever it runs, even
  // if it has not started yet (its own stop() would then be lost), and the loop closes
  // the socket itself. Connections close once their current answer is written.
  server_.closeConnections();
  ::shutdown(listen_fd_, SHUT_RDWR);
}

}  // namespace outpost::http
