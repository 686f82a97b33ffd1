// The one assembly of the health figures (observability::assembleFigures), as the running
// node and `outpost status` both use it.
#include "observability/reliability.h"

#include <gtest/gtest.h>

namespace outpost::observability {
namespace {

Config defaults() {
  auto config = loadConfig({std::nullopt, {}, "node-1"});
  EXPECT_TRUE(config) << config.error().message;
  return *config;
}

StoredFigures stored() {
  StoredFigures figures;
  figures.outbox_events_pending = 3;
  figures.stored_breaker_states = {{"events", "OPEN"}, {"product-service", "HALF_OPEN"}};
  figures.last_reconciliation_status = "FAILED";
  return figures;
}

TEST(AssembleFigures, LiveBreakerStatesWinOverTheFileWhichWinsOverClosed) {
  FigureInputs inputs;
  inputs.stored = stored();
  inputs.breaker_states = {{"events", "CLOSED"}};
  const auto figures = assembleFigures(defaults(), inputs);
  EXPECT_EQ(figures.circuit_breaker_states.at("events"), "CLOSED");
  EXPECT_EQ(figures.circuit_breaker_states.at("product-service"), "HALF_OPEN");
  EXPECT_EQ(figures.circuit_breaker_states.at("delivery-service"), "CLOSED");
  EXPECT_EQ(figures.circuit_breaker_states.at("database"), "CLOSED");
  EXPECT_EQ(figures.stored.outbox_events_pending, 3);
  EXPECT_TRUE(figures.database_available);
  EXPECT_EQ(overallStatus(figures), kDegraded);
}

TEST(AssembleFigures, TheJobsOwnReconciliationStatusWinsOverTheFilesLastRun) {
  FigureInputs inputs;
  inputs.stored = stored();
  EXPECT_EQ(assembleFigures(defaults(), inputs).reconciliation_status, "FAILED");
  inputs.reconciliation_status = kHealthy;
  EXPECT_EQ(assembleFigures(defaults(), inputs).reconciliation_status, kHealthy);
  inputs = {};
  inputs.stored = StoredFigures{};
  EXPECT_EQ(assembleFigures(defaults(), inputs).reconciliation_status, kHealthy);
}

TEST(AssembleFigures, AnUnreadableFileIsUnavailableAndSaysNothingOfItsContents) {
  const FigureInputs inputs;  // the file's figures are an error until read
  ASSERT_FALSE(inputs.stored);
  const auto figures = assembleFigures(defaults(), inputs);
  EXPECT_FALSE(figures.database_available);
  EXPECT_EQ(figures.stored.outbox_events_pending, 0);
  EXPECT_EQ(overallStatus(figures), kUnavailable);
  EXPECT_EQ(figures.services.at("events"), "not configured");
}

}  // namespace
}  // namespace outpost::observability
