// Durable background jobs: a job row is committed with the state change that needs it,
// so a crash between the commit and the work loses nothing.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "store/connection.h"

namespace outpost::jobs {

inline constexpr const char* kInitiateDelivery = "INITIATE_DELIVERY";

struct NewJob {
  std::string kind;
  std::string aggregate_id;
  nlohmann::json payload = nlohmann::json::object();
  std::int64_t run_at_millis = 0;
};

// Throws SQLite::Exception; a second job of the same kind for one aggregate is a
// constraint violation.
void scheduleJob(store::Connection& connection, const NewJob& job, std::int64_t now_millis);

}  // namespace outpost::jobs
