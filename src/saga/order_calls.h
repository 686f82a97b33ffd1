// Delivery calls per order in this process, shared by delivery initiation and saga
// compensation: at most one call per order at a time (`in_flight`), and the orders whose
// delivery call was sent but whose outcome could not be recorded (the database was down),
// for which a delivery may exist that the store does not know of. Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <unordered_set>

#include "idempotency/idempotency.h"

namespace outpost::saga {

class OrderCalls {
 public:
  idempotency::InFlightKeys in_flight;

  void markUnrecorded(const std::string& order_id) {
    std::lock_guard lock(mutex_);
    unrecorded_.insert(order_id);
  }
  void clearUnrecorded(const std::string& order_id) {
    std::lock_guard lock(mutex_);
    unrecorded_.erase(order_id);
  }
  bool unrecorded(const std::string& order_id) const {
    std::lock_guard lock(mutex_);
    return unrecorded_.contains(order_id);
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_set<std::string> unrecorded_;
};

}  // namespace outpost::saga
