// Fake product and delivery services (SPEC §6) with switchable faults, for tests. Each
// runs an httplib::Server on 127.0.0.1:<free port> on its own thread; everything here is
// thread-safe. A fake that cannot start (or restart on its port) fails the test with
// ADD_FAILURE.
//
// Faults apply to every route of the service:
//   kNone        normal answers
//   kRefuse      the listening socket is closed: new connections are refused. A request
//                on a connection kept alive from before is dropped unanswered (curl then
//                retries on a fresh connection, which is refused). Clearing the fault
//                listens again on the same port (SO_REUSEADDR).
//   kHang        requests are accepted but not answered until the fault changes or the
//                service stops; then they are answered under the fault in force (dropped
//                unanswered for kRefuse, 503 when stopping).
//   kServerError 500 with a JSON problem body
//   kMalformed   the success status (200, or 201 for a delivery creation) with an HTML page
//                (a captive portal or a proxy in front of the service), not JSON
//   kFlapping    requests alternate, starting with a failure: 500, normal, 500, normal...
//
// stop() (and destruction) waits for in-flight requests; a client that keeps an idle
// keep-alive connection open can delay it by up to 1 s (the keep-alive timeout).
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace outpost::testing {

enum class Fault { kNone, kRefuse, kHang, kServerError, kMalformed, kFlapping };

const char* toString(Fault fault);

class FakeService {
 public:
  virtual ~FakeService();
  FakeService(const FakeService&) = delete;
  FakeService& operator=(const FakeService&) = delete;

  int port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:PORT"

  // Takes effect for the next request; also releases requests hung by kHang.
  void setFault(Fault fault);
  Fault fault() const;

  // Requests received (whatever was answered) whose path starts with `path_prefix`.
  int requestCount(const std::string& path_prefix = "") const;

  // Stops for good (idempotent): hung requests are released, the port is closed.
  void stop();

 protected:
  // Derived constructors call start() last; derived destructors call stop() first (their
  // handlers use their members).
  explicit FakeService(std::string name);
  void start();

  virtual void addRoutes(httplib::Server& server) = 0;
  // The status of a successful answer to `request`, for kMalformed.
  virtual int successStatus(const httplib::Request& request) const;

  // Guards the derived classes' state too.
  mutable std::mutex mutex_;

 private:
  struct Instance;  // one httplib::Server and its listening thread

  bool startServer(int port);  // 0: any free port
  void reapDrained();
  // Counts the request and applies the fault; true when the fault answered it.
  bool intercept(const httplib::Request& request, httplib::Response& response);

  const std::string name_;
  int port_ = 0;

  std::mutex lifecycle_mutex_;      // serialises start/stop/setFault; taken before mutex_
  std::unique_ptr<Instance> live_;  // listening now, unless refusing or stopped
  std::vector<std::unique_ptr<Instance>> draining_;  // closed, finishing their connections
  bool stopped_ = false;

  // Guarded by mutex_.
  std::condition_variable released_;
  Fault fault_ = Fault::kNone;
  bool stopping_ = false;
  long flap_count_ = 0;
  std::vector<std::string> paths_;
};

// POST /availability {"productIds": [...]} -> 200 [{"productId", "available", "quantity"}]
// (one entry per requested id, in order). A body that is not of that shape: 400.
class FakeProductService final : public FakeService {
 public:
  FakeProductService();
  ~FakeProductService() override;

  // Unknown products are available with quantity 1000.
  void setStock(const std::string& product_id, bool available, int quantity);

 private:
  struct Stock {
    bool available = true;
    int quantity = 1000;
  };
  void addRoutes(httplib::Server& server) override;

  std::map<std::string, Stock> stock_;  // guarded by mutex_
};

// POST /deliveries (header Idempotency-Key) {"orderId", "items", "shippingAddress"} ->
//   201 {"id", "status": "CREATED"}. The same key again replays 201 with the same id and
//   current status (header Idempotent-Replayed: true), never creating a second delivery;
//   the same key with a different orderId is 422. No key, or a body without a string
//   orderId, an array items and a shippingAddress: 400. setRejectAll(true): 422 for new
//   deliveries (replays still answer).
// GET /deliveries/{id} -> 200 {"id", "status", "orderId"}; unknown id: 404; an id given
//   to failStatusReads: 500 (one broken record, for reconciliation).
// POST /deliveries/{id}/cancel -> 200 {"id", "status": "CANCELLED"} (again: same answer);
//   unknown id: 404; once PICKED_UP, IN_TRANSIT or DELIVERED: 409. forgetNextCancel(): the
//   next cancel is answered 200 CANCELLED but the delivery stays as it was (a service that
//   acknowledges a cancel and loses it).
class FakeDeliveryService final : public FakeService {
 public:
  FakeDeliveryService();
  ~FakeDeliveryService() override;

  int deliveryCount() const;                              // distinct deliveries created
  std::map<std::string, int> deliveriesPerOrder() const;  // orderId -> deliveries created
  std::vector<std::string> deliveryIdsForOrder(const std::string& order_id) const;
  std::string status(const std::string& delivery_id) const;  // "" if unknown
  void setStatus(const std::string& delivery_id, const std::string& status);
  void setRejectAll(bool reject);  // 422: permanent rejection
  void failStatusReads(const std::string& delivery_id);
  int cancelCount(const std::string& delivery_id) const;  // cancel requests answered 200
  void forgetNextCancel();

 private:
  struct Delivery {
    std::string id;
    std::string order_id;
    std::string status;
  };
  void addRoutes(httplib::Server& server) override;
  int successStatus(const httplib::Request& request) const override;

  // Guarded by mutex_.
  std::map<std::string, Delivery> deliveries_;  // by id
  std::map<std::string, std::string> by_key_;   // Idempotency-Key -> id
  std::vector<std::string> creation_order_;     // ids
  bool reject_all_ = false;
  int next_id_ = 1;
  std::set<std::string> failing_reads_;
  std::map<std::string, int> cancels_;
  bool forget_next_cancel_ = false;
};

// POST /hook: an alert webhook receiver (SPEC §5). Keeps each body it answered 204, in
// order; failNext(n): the next n calls are answered 500 and not kept.
class FakeWebhook final : public FakeService {
 public:
  FakeWebhook();
  ~FakeWebhook() override;

  std::string hookUrl() const { return url() + "/hook"; }
  void failNext(int calls);
  std::vector<std::string> received() const;

 private:
  void addRoutes(httplib::Server& server) override;

  int fail_next_ = 0;                  // guarded by mutex_
  std::vector<std::string> received_;  // guarded by mutex_
};

}  // namespace outpost::testing
