// The order saga's durable record (SPEC §5, schema/005): its state and its steps, kept on
// the order's row (orders.saga_state, orders.saga_steps as a JSON array), so that taking
// an order writes no extra rows. Every function runs on the connection it is given,
// inside the transaction of the change the step describes, and throws SQLite::Exception.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/connection.h"

namespace outpost::saga {

// States.
inline constexpr const char* kRunning = "RUNNING";  // delivery not initiated yet
inline constexpr const char* kCompleted = "COMPLETED";
inline constexpr const char* kCompensating = "COMPENSATING";  // a cancel is under way
inline constexpr const char* kCompensated = "COMPENSATED";
inline constexpr const char* kCompensationFailed = "COMPENSATION_FAILED";  // staff decide

// Steps, forward then compensation.
inline constexpr const char* kAvailabilityChecked = "AVAILABILITY_CHECKED";
inline constexpr const char* kOrderCreated = "ORDER_CREATED";
inline constexpr const char* kDeliveryInitiated = "DELIVERY_INITIATED";
inline constexpr const char* kSagaCompleted = "SAGA_COMPLETED";
inline constexpr const char* kCompensationStarted = "COMPENSATION_STARTED";
inline constexpr const char* kDeliveryCancelled = "DELIVERY_CANCELLED";
inline constexpr const char* kOrderCancelled = "ORDER_CANCELLED";
inline constexpr const char* kCompensationStopped = "COMPENSATION_FAILED";

struct NewStep {
  std::string step;
  nlohmann::json data = nlohmann::json::object();
};

// A new order's first steps, for Order::saga_steps: they are written with the order's row.
nlohmann::json firstSteps(const std::vector<NewStep>& steps, std::int64_t now_millis);

void recordStep(store::Connection& connection, const std::string& order_id, const std::string& step,
                const nlohmann::json& data, std::int64_t now_millis);

void setSagaState(store::Connection& connection, const std::string& order_id,
                  const std::string& state, std::int64_t now_millis);

// Order ids of COMPENSATING sagas, oldest first.
std::vector<std::string> compensatingSagas(store::Connection& connection);

}  // namespace outpost::saga
