// Shared by the saga and reconciliation unit tests: a real store, a fake clock, a
// delivery service scripted per request, and orders made through the real OrderService.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "clients/delivery_client.h"
#include "clients/http_client.h"
#include "node/context.h"
#include "orders/order_repository.h"
#include "orders/order_service.h"
#include "resilience/circuit_breaker.h"
#include "store/saga_records.h"
#include "store/store.h"
#include "support/fake_clock.h"
#include "support/node_process.h"
#include "support/scripted_http.h"

namespace outpost::testing {

class SagaFixture : public ::testing::Test {
 protected:
  SagaFixture()
      : breaker_({"delivery-service", 40, 60000, 5, 5, 10000, 3000, 10}, clock_),
        log_sink_(std::tmpfile()),
        log_(clock_, log_sink_) {}
  ~SagaFixture() override { std::fclose(log_sink_); }

  void SetUp() override {
    auto opened = store::Store::open({dir_.file("saga.db"), 2000});
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    context_.emplace(node::Context{*store_, clock_, random_, log_, metrics_, "node-1"});
    orders_ = std::make_unique<orders::OrderService>(*context_);
  }

  std::string newOrder() {
    orders::NewOrder order{"c-1", {{"sku-1", 2, std::nullopt}}, std::nullopt, std::nullopt};
    auto created = orders_->create(order, std::nullopt);
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->order_id : "";
  }

  // As if delivery initiation had succeeded: the delivery id and the saga's last steps.
  void giveDelivery(const std::string& id, const std::string& delivery_id) {
    ASSERT_TRUE(store_->write([&](store::Connection& c) {
      orders::setDeliveryId(c, id, delivery_id, clock_.wallMillis());
      SQLite::Statement job(c.db(),
                            "UPDATE jobs SET status = 'DONE', attempts = 1"
                            " WHERE aggregate_id = ? AND kind = 'INITIATE_DELIVERY'");
      job.bind(1, id);
      job.exec();
      SQLite::Statement saga(c.db(), "UPDATE orders SET saga_state = 'COMPLETED' WHERE id = ?");
      saga.bind(1, id);
      saga.exec();
      return okStatus();
    }));
  }

  void setStatus(const std::string& id, const std::string& from, const std::string& to) {
    ASSERT_TRUE(store_->write([&](store::Connection& c) {
      EXPECT_TRUE(orders::changeStatus(c, id, from, {to, clock_.wallMillis(), "test"}));
      return okStatus();
    }));
  }

  orders::Order order(const std::string& id) {
    auto found = orders_->get(id);
    EXPECT_TRUE(found) << id;
    return found ? *found : orders::Order{};
  }

  int count(const std::string& sql_with_one_text_parameter, const std::string& value) {
    return *store_->read([&](store::Connection& c) {
      SQLite::Statement query(c.db(), sql_with_one_text_parameter);
      query.bind(1, value);
      query.executeStep();
      return query.getColumn(0).getInt();
    });
  }

  int events(const std::string& id, const std::string& type) {
    return count(
        "SELECT COUNT(*) FROM outbox_events WHERE aggregate_id = ? AND event_type = '" + type + "'",
        id);
  }

  // The mark of an order whose delivery is still to be read back as cancelled.
  int cancelUnverified(const std::string& id) {
    return count("SELECT delivery_cancel_unverified FROM orders WHERE id = ?", id);
  }

  int openReviews(const std::string& id, const std::string& kind) {
    return count(
        "SELECT COUNT(*) FROM review_items WHERE order_id = ? AND resolved_at IS NULL"
        " AND kind = '" +
            kind + "'",
        id);
  }

  std::vector<std::string> steps(const std::string& id) {
    std::vector<std::string> names;
    const orders::Order found = order(id);
    for (const auto& step : found.saga_steps) names.push_back(step.at("step"));
    return names;
  }

  void openBreaker() {
    for (int i = 0; i < 5 && breaker_.state() != resilience::BreakerState::kOpen; ++i) {
      auto permit = breaker_.tryAcquire();
      ASSERT_TRUE(permit);
      breaker_.record(*permit, resilience::CallResult::kFailure);
    }
    ASSERT_EQ(breaker_.state(), resilience::BreakerState::kOpen);
  }

  TempDir dir_;
  FakeClock clock_;
  SystemRandom random_{11};
  resilience::CircuitBreaker breaker_;
  std::FILE* log_sink_;
  observability::Logger log_;
  std::unique_ptr<store::Store> store_;
  observability::Metrics metrics_;
  std::optional<node::Context> context_;  // once the store is open
  std::unique_ptr<orders::OrderService> orders_;
  ScriptedHttp http_;
  clients::DeliveryClient client_{http_, "http://delivery.test", 3000};
};

}  // namespace outpost::testing
