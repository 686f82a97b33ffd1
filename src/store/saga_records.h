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

namespace outpost::store {

// States.
inline constexpr const char* kSagaRunning = "RUNNING";  // delivery not initiated yet
inline constexpr const char* kSagaCompleted = "COMPLETED";
inline constexpr const char* kSagaCompensating = "COMPENSATING";  // a cancel is under way
inline constexpr const char* kSagaCompensated = "COMPENSATED";
inline constexpr const char* kSagaCompensationFailed = "COMPENSATION_FAILED";  // staff decide

// Steps, forward then compensation.
inline constexpr const char* kStepAvailabilityChecked = "AVAILABILITY_CHECKED";
inline constexpr const char* kStepOrderCreated = "ORDER_CREATED";
inline constexpr const char* kStepDeliveryInitiated = "DELIVERY_INITIATED";
inline constexpr const char* kStepSagaCompleted = "SAGA_COMPLETED";
inline constexpr const char* kStepCompensationStarted = "COMPENSATION_STARTED";
inline constexpr const char* kStepDeliveryCancelled = "DELIVERY_CANCELLED";
inline constexpr const char* kStepOrderCancelled = "ORDER_CANCELLED";
inline constexpr const char* kStepCompensationFailed = "COMPENSATION_FAILED";

struct NewSagaStep {
  std::string step;
  nlohmann::json data = nlohmann::json::object();
};

// A new order's first steps, for Order::saga_steps: they are written with the order's row.
nlohmann::json firstSagaSteps(const std::vector<NewSagaStep>& steps, std::int64_t now_millis);

void recordSagaStep(Connection& connection, const std::string& order_id, const std::string& step,
                    const nlohmann::json& data, std::int64_t now_millis);

void setSagaState(Connection& connection, const std::string& order_id, const std::string& state,
                  std::int64_t now_millis);

// Order ids of COMPENSATING sagas, oldest first.
std::vector<std::string> compensatingSagas(Connection& connection);

}  // namespace outpost::store
