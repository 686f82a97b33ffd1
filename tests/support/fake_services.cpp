#include "support/fake_services.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "support/eventually.h"

namespace outpost::testing {
namespace {

using nlohmann::json;

constexpr auto kBindRetryLimit = std::chrono::seconds(2);
constexpr auto kStartLimit = std::chrono::seconds(5);

void answer(httplib::Response& response, int status, const json& body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

void problem(httplib::Response& response, int status, const std::string& detail) {
  answer(response, status, json{{"error", detail}});
}

// Shuts down this process's socket for the TCP connection 127.0.0.1:local_port <->
// 127.0.0.1:remote_port. Called from the request thread that owns the connection, so the
// socket cannot be closed (and its number reused) while this runs.
void dropConnection(int local_port, int remote_port) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    int fd = -1;
    const std::string name = entry.path().filename().string();
    if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc()) continue;
    struct stat info {};
    if (fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) continue;
    sockaddr_in local{};
    sockaddr_in peer{};
    socklen_t local_length = sizeof local;
    socklen_t peer_length = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) != 0 ||
        getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0 ||
        local.sin_family != AF_INET || peer.sin_family != AF_INET) {
      continue;
    }
    if (ntohs(local.sin_port) == local_port && ntohs(peer.sin_port) == remote_port) {
      shutdown(fd, SHUT_RDWR);
      return;
    }
  }
}

}  // namespace

const char* toString(Fault fault) {
  switch (fault) {
    case Fault::kNone:
      return "none";
    case Fault::kRefuse:
      return "refuse";
    case Fault::kHang:
      return "hang";
    case Fault::kServerError:
      return "server-error";
    case Fault::kMalformed:
      return "malformed";
    case Fault::kFlapping:
      return "flapping";
  }
  return "unknown";
}

// --- FakeService -------------------------------------------------------------------------

struct FakeService::Instance {
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  std::shared_ptr<std::atomic<bool>> finished = std::make_shared<std::atomic<bool>>(false);

  // Closes the listening socket at once; connections still open keep being served.
  void close() { server->stop(); }
  // Waits until every connection has ended (listen_after_bind joins its worker threads).
  void join() {
    if (thread.joinable()) thread.join();
  }
};

FakeService::FakeService(std::string name) : name_(std::move(name)) {}

FakeService::~FakeService() { stop(); }

std::string FakeService::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FakeService::start() {
  std::lock_guard life(lifecycle_mutex_);
  startServer(0);
}

bool FakeService::startServer(int port) {
  auto instance = std::make_unique<Instance>();
  auto& server = instance->server;
  server = std::make_unique<httplib::Server>();
  server->new_task_queue = [] { return new httplib::ThreadPool(32); };
  server->set_tcp_nodelay(true);
  server->set_keep_alive_timeout(1);  // bounds how long an idle client connection delays stop
  server->set_keep_alive_max_count(1000);
  auto listen_socket = std::make_shared<socket_t>(INVALID_SOCKET);
  server->set_socket_options([listen_socket](socket_t sock) {
    *listen_socket = sock;
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server->set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        return intercept(request, response) ? httplib::Server::HandlerResponse::Handled
                                            : httplib::Server::HandlerResponse::Unhandled;
      });
  addRoutes(*server);

  int bound = -1;
  if (port == 0) {
    bound = server->bind_to_any_port("127.0.0.1");
  } else if (eventually([&] { return server->bind_to_port("127.0.0.1", port); }, kBindRetryLimit)) {
    bound = port;
  }
  if (bound <= 0) {
    ADD_FAILURE() << "fake " << name_ << " could not bind 127.0.0.1:" << port;
    return false;
  }

  // httplib listens with a backlog of 5: a burst of concurrent connects overflows it and
  // the dropped SYNs are retried only after 1 s. Listening again raises the backlog.
  if (::listen(*listen_socket, SOMAXCONN) != 0) {
    ADD_FAILURE() << "fake " << name_ << ": could not raise the listen backlog";
  }

  httplib::Server* raw = server.get();
  instance->thread = std::thread([raw, finished = instance->finished] {
    raw->listen_after_bind();
    finished->store(true);
  });
  if (!eventually([raw] { return raw->is_running(); }, kStartLimit)) {
    ADD_FAILURE() << "fake " << name_ << " did not start listening on 127.0.0.1:" << bound;
    // stop() cannot end a listen_after_bind that has not started: leave it be.
    instance->thread.detach();
    (void)instance.release();
    return false;
  }
  if (port_ == 0) port_ = bound;  // a restart reuses it: never rewritten
  live_ = std::move(instance);
  return true;
}

void FakeService::reapDrained() {
  std::erase_if(draining_, [](const std::unique_ptr<Instance>& instance) {
    if (!instance->finished->load()) return false;
    instance->join();
    return true;
  });
}

void FakeService::setFault(Fault fault) {
  std::lock_guard life(lifecycle_mutex_);
  {
    std::lock_guard lock(mutex_);
    fault_ = fault;
    flap_count_ = 0;
  }
  released_.notify_all();
  if (stopped_) return;
  reapDrained();
  if (fault == Fault::kRefuse) {
    if (live_) {
      live_->close();
      draining_.push_back(std::move(live_));
    }
  } else if (!live_ && port_ != 0) {
    startServer(port_);
  }
}

Fault FakeService::fault() const {
  std::lock_guard lock(mutex_);
  return fault_;
}

int FakeService::requestCount(const std::string& path_prefix) const {
  std::lock_guard lock(mutex_);
  int count = 0;
  for (const auto& path : paths_) {
    if (path.compare(0, path_prefix.size(), path_prefix) == 0) ++count;
  }
  return count;
}

void FakeService::stop() {
  std::lock_guard life(lifecycle_mutex_);
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  released_.notify_all();
  if (live_) {
    live_->close();
    draining_.push_back(std::move(live_));
  }
  for (auto& instance : draining_) instance->join();
  draining_.clear();
}

int FakeService::successStatus(const httplib::Request&) const { return 200; }

bool FakeService::intercept(const httplib::Request& request, httplib::Response& response) {
  std::unique_lock lock(mutex_);
  bool counted = false;
  for (;;) {
    if (fault_ == Fault::kRefuse) {
      // A connection kept alive from before the fault (or a request hung until then): end
      // it without an answer, as a server that went away would.
      dropConnection(port_, request.remote_port);
      response.set_header("Connection", "close");
      problem(response, 503, "fake " + name_ + " is refusing");
      return true;
    }
    if (!counted) {
      paths_.push_back(request.path);
      counted = true;
    }
    if (stopping_) {
      response.set_header("Connection", "close");
      problem(response, 503, "fake " + name_ + " is stopping");
      return true;
    }
    switch (fault_) {
      case Fault::kNone:
      case Fault::kRefuse:
        return false;
      case Fault::kHang:
        released_.wait(lock);
        continue;  // answer under whatever holds now
      case Fault::kServerError:
        problem(response, 500, "fake " + name_ + ": injected server error");
        return true;
      case Fault::kMalformed:
        response.status = successStatus(request);
        response.set_content("<html><body>Sign in to continue</body></html>", "text/html");
        return true;
      case Fault::kFlapping:
        if (flap_count_++ % 2 == 0) {
          problem(response, 500, "fake " + name_ + ": flapping");
          return true;
        }
        return false;
    }
    return false;
  }
}

// --- FakeProductService ------------------------------------------------------------------

FakeProductService::FakeProductService() : FakeService("product-service") { start(); }

FakeProductService::~FakeProductService() { stop(); }

void FakeProductService::setStock(const std::string& product_id, bool available, int quantity) {
  std::lock_guard lock(mutex_);
  stock_[product_id] = Stock{available, quantity};
}

void FakeProductService::addRoutes(httplib::Server& server) {
  server.Post(
      "/availability", [this](const httplib::Request& request, httplib::Response& response) {
        const json body = json::parse(request.body, nullptr, false);
        if (!body.is_object() || !body.contains("productIds") || !body["productIds"].is_array()) {
          problem(response, 400, "expected {\"productIds\": [...]}");
          return;
        }
        json out = json::array();
        std::lock_guard lock(mutex_);
        for (const auto& id : body["productIds"]) {
          if (!id.is_string()) {
            problem(response, 400, "productIds must be strings");
            return;
          }
          Stock stock;
          if (auto it = stock_.find(id.get<std::string>()); it != stock_.end()) stock = it->second;
          out.push_back(
              {{"productId", id}, {"available", stock.available}, {"quantity", stock.quantity}});
        }
        answer(response, 200, out);
      });
}

// --- FakeDeliveryService -----------------------------------------------------------------

FakeDeliveryService::FakeDeliveryService() : FakeService("delivery-service") { start(); }

FakeDeliveryService::~FakeDeliveryService() { stop(); }

int FakeDeliveryService::deliveryCount() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(deliveries_.size());
}

std::map<std::string, int> FakeDeliveryService::deliveriesPerOrder() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, int> out;
  for (const auto& [id, delivery] : deliveries_) ++out[delivery.order_id];
  return out;
}

std::vector<std::string> FakeDeliveryService::deliveryIdsForOrder(
    const std::string& order_id) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& id : creation_order_) {
    if (deliveries_.at(id).order_id == order_id) out.push_back(id);
  }
  return out;
}

std::string FakeDeliveryService::status(const std::string& delivery_id) const {
  std::lock_guard lock(mutex_);
  auto it = deliveries_.find(delivery_id);
  return it == deliveries_.end() ? std::string() : it->second.status;
}

void FakeDeliveryService::setStatus(const std::string& delivery_id, const std::string& status) {
  std::lock_guard lock(mutex_);
  auto it = deliveries_.find(delivery_id);
  if (it == deliveries_.end()) {
    ADD_FAILURE() << "fake delivery-service: setStatus on unknown delivery " << delivery_id;
    return;
  }
  it->second.status = status;
}

void FakeDeliveryService::setRejectAll(bool reject) {
  std::lock_guard lock(mutex_);
  reject_all_ = reject;
}

void FakeDeliveryService::failStatusReads(const std::string& delivery_id) {
  std::lock_guard lock(mutex_);
  failing_reads_.insert(delivery_id);
}

void FakeDeliveryService::forgetNextCancel() {
  std::lock_guard lock(mutex_);
  forget_next_cancel_ = true;
}

int FakeDeliveryService::cancelCount(const std::string& delivery_id) const {
  std::lock_guard lock(mutex_);
  auto it = cancels_.find(delivery_id);
  return it == cancels_.end() ? 0 : it->second;
}

int FakeDeliveryService::successStatus(const httplib::Request& request) const {
  return request.method == "POST" && request.path == "/deliveries" ? 201 : 200;
}

void FakeDeliveryService::addRoutes(httplib::Server& server) {
  server.Post("/deliveries", [this](const httplib::Request& request, httplib::Response& response) {
    const std::string key = request.get_header_value("Idempotency-Key");
    if (key.empty()) {
      problem(response, 400, "missing Idempotency-Key");
      return;
    }
    const json body = json::parse(request.body, nullptr, false);
    if (!body.is_object() || !body.contains("orderId") || !body["orderId"].is_string() ||
        body["orderId"].get<std::string>().empty() || !body.contains("items") ||
        !body["items"].is_array() || !body.contains("shippingAddress") ||
        !(body["shippingAddress"].is_object() || body["shippingAddress"].is_null())) {
      // An order without an address (a pickup) sends "shippingAddress": null.
      problem(response, 400, "expected {\"orderId\", \"items\": [...], \"shippingAddress\"}");
      return;
    }
    const std::string order_id = body["orderId"].get<std::string>();

    std::lock_guard lock(mutex_);
    if (auto it = by_key_.find(key); it != by_key_.end()) {
      const Delivery& existing = deliveries_.at(it->second);
      if (existing.order_id != order_id) {
        problem(response, 422, "Idempotency-Key " + key + " was used for another order");
        return;
      }
      response.set_header("Idempotent-Replayed", "true");
      answer(response, 201, json{{"id", existing.id}, {"status", existing.status}});
      return;
    }
    if (reject_all_) {
      problem(response, 422, "delivery rejected");
      return;
    }
    char id[32];
    std::snprintf(id, sizeof id, "dlv-%06d", next_id_++);
    Delivery delivery{id, order_id, "CREATED"};
    deliveries_[delivery.id] = delivery;
    by_key_[key] = delivery.id;
    creation_order_.push_back(delivery.id);
    answer(response, 201, json{{"id", delivery.id}, {"status", delivery.status}});
  });

  server.Get(R"(/deliveries/([^/]+))", [this](const httplib::Request& request,
                                              httplib::Response& response) {
    std::lock_guard lock(mutex_);
    if (failing_reads_.contains(request.matches[1].str())) {
      problem(response, 500, "this delivery's record is broken");
      return;
    }
    auto it = deliveries_.find(request.matches[1].str());
    if (it == deliveries_.end()) {
      problem(response, 404, "no such delivery");
      return;
    }
    const Delivery& d = it->second;
    answer(response, 200, json{{"id", d.id}, {"status", d.status}, {"orderId", d.order_id}});
  });

  server.Post(R"(/deliveries/([^/]+)/cancel)", [this](const httplib::Request& request,
                                                      httplib::Response& response) {
    std::lock_guard lock(mutex_);
    auto it = deliveries_.find(request.matches[1].str());
    if (it == deliveries_.end()) {
      problem(response, 404, "no such delivery");
      return;
    }
    Delivery& d = it->second;
    if (d.status == "PICKED_UP" || d.status == "IN_TRANSIT" || d.status == "DELIVERED") {
      problem(response, 409, "delivery " + d.id + " is " + d.status);
      return;
    }
    if (!std::exchange(forget_next_cancel_, false)) d.status = "CANCELLED";
    ++cancels_[d.id];
    answer(response, 200, json{{"id", d.id}, {"status", "CANCELLED"}});
  });
}

FakeWebhook::FakeWebhook() : FakeService("alert-webhook") { start(); }

FakeWebhook::~FakeWebhook() { stop(); }

void FakeWebhook::failNext(int calls) {
  std::lock_guard lock(mutex_);
  fail_next_ = calls;
}

std::vector<std::string> FakeWebhook::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

void FakeWebhook::addRoutes(httplib::Server& server) {
  server.Post("/hook", [this](const httplib::Request& request, httplib::Response& response) {
    std::lock_guard lock(mutex_);
    if (fail_next_ > 0) {
      --fail_next_;
      response.status = 500;
      return;
    }
    received_.push_back(request.body);
    response.status = 204;
  });
}

}  // namespace outpost::testing
