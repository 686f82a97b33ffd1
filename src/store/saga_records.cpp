#include "store/saga_records.h"

namespace outpost::store {
namespace {

nlohmann::json stepJson(const std::string& step, const nlohmann::json& data,
                        std::int64_t now_millis) {
  nlohmann::json out = {{"step", step}, {"at", now_millis}};
  if (!data.empty()) out["data"] = data;  // most steps have none: keep the row small
  return out;
}

}  // namespace

nlohmann::json firstSagaSteps(const std::vector<NewSagaStep>& steps, std::int64_t now_millis) {
  nlohmann::json recorded = nlohmann::json::array();
  for (const auto& step : steps) recorded.push_back(stepJson(step.step, step.data, now_millis));
  return recorded;
}

void recordSagaStep(Connection& connection, const std::string& order_id, const std::string& step,
                    const nlohmann::json& data, std::int64_t now_millis) {
  auto update = connection.prepare(
      "UPDATE orders SET saga_steps = json_insert(saga_steps, '$[#]', json(?)) WHERE id = ?");
  update->bind(1, stepJson(step, data, now_millis).dump());
  update->bind(2, order_id);
  update->exec();
}

void setSagaState(Connection& connection, const std::string& order_id, const std::string& state,
                  std::int64_t now_millis) {
  auto update = connection.prepare("UPDATE orders SET saga_state = ?, updated_at = ? WHERE id = ?");
  update->bind(1, state);
  update->bind(2, now_millis);
  update->bind(3, order_id);
  update->exec();
}

std::vector<std::string> compensatingSagas(Connection& connection) {
  auto query = connection.prepare(
      "SELECT id FROM orders WHERE saga_state = 'COMPENSATING' ORDER BY updated_at");
  std::vector<std::string> ids;
  while (query->executeStep()) ids.push_back(query->getColumn(0).getString());
  return ids;
}

}  // namespace outpost::store
