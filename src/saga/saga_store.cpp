#include "saga/saga_store.h"

namespace outpost::saga {

void startSaga(store::Connection& connection, const std::string& order_id,
               std::int64_t now_millis) {
  auto insert =
      connection.prepare("INSERT INTO sagas (order_id, state, updated_at) VALUES (?, ?, ?)");
  insert->bind(1, order_id);
  insert->bind(2, kRunning);
  insert->bind(3, now_millis);
  insert->exec();
}

void recordStep(store::Connection& connection, const std::string& order_id, const std::string& step,
                const nlohmann::json& data, std::int64_t now_millis) {
  auto insert =
      connection.prepare("INSERT INTO saga_steps (order_id, step, data, at) VALUES (?, ?, ?, ?)");
  insert->bind(1, order_id);
  insert->bind(2, step);
  insert->bind(3, data.dump());
  insert->bind(4, now_millis);
  insert->exec();
}

void setSagaState(store::Connection& connection, const std::string& order_id,
                  const std::string& state, std::int64_t now_millis) {
  auto upsert = connection.prepare(
      "INSERT INTO sagas (order_id, state, updated_at) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (order_id) DO UPDATE SET state = ?2, updated_at = ?3");
  upsert->bind(1, order_id);
  upsert->bind(2, state);
  upsert->bind(3, now_millis);
  upsert->exec();
}

std::vector<SagaStep> sagaSteps(store::Connection& connection, const std::string& order_id) {
  auto query =
      connection.prepare("SELECT step, data, at FROM saga_steps WHERE order_id = ? ORDER BY id");
  query->bind(1, order_id);
  std::vector<SagaStep> steps;
  while (query->executeStep()) {
    steps.push_back({query->getColumn(0).getString(),
                     nlohmann::json::parse(query->getColumn(1).getString()),
                     query->getColumn(2).getInt64()});
  }
  return steps;
}

std::vector<std::string> compensatingSagas(store::Connection& connection) {
  auto query = connection.prepare(
      "SELECT order_id FROM sagas WHERE state = 'COMPENSATING' ORDER BY updated_at");
  std::vector<std::string> ids;
  while (query->executeStep()) ids.push_back(query->getColumn(0).getString());
  return ids;
}

}  // namespace outpost::saga
