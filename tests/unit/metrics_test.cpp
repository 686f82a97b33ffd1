#include "observability/metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace outpost::observability {
namespace {

bool has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

ReliabilityFigures someFigures() {
  ReliabilityFigures now;
  now.circuit_breaker_states = {{"delivery-service", "OPEN"}, {"events", "CLOSED"}};
  now.stored.outbox_events_pending = 7;
  now.stored.failed_event_count = 2;
  now.stored.manual_review_queue_length = 3;
  now.reconciliation_status = "DEGRADED";
  now.alerts = {{{"alert", "OUTBOX_BACKLOG"}}};
  now.stored.outbox_events_sent = 11;
  return now;
}

TEST(MetricsTest, GaugesComeFromTheFiguresOfTheScrape) {
  Metrics metrics;
  const std::string text = metrics.render(someFigures());
  EXPECT_TRUE(
      has(text, R"(outpost_circuit_breaker_state{breaker="delivery-service",state="OPEN"} 1)"));
  EXPECT_TRUE(
      has(text, R"(outpost_circuit_breaker_state{breaker="delivery-service",state="CLOSED"} 0)"));
  EXPECT_TRUE(has(text, R"(outpost_circuit_breaker_state{breaker="events",state="CLOSED"} 1)"));
  EXPECT_TRUE(has(text, R"(outpost_outbox_events{status="PENDING"} 7)"));
  EXPECT_TRUE(has(text, R"(outpost_outbox_events{status="SENT"} 11)"));
  EXPECT_TRUE(has(text, R"(outpost_outbox_events{status="FAILED"} 2)"));
  EXPECT_TRUE(has(text, "outpost_review_queue_items 3"));
  EXPECT_TRUE(has(text, R"(outpost_reconciliation_status{status="DEGRADED"} 1)"));
  EXPECT_TRUE(has(text, R"(outpost_alerts_active{alert="OUTBOX_BACKLOG"} 1)"));
  EXPECT_TRUE(has(text, "outpost_database_available 1"));
}

TEST(MetricsTest, NothingIsSaidOfTheDatabaseContentsWhenItCannotBeRead) {
  Metrics metrics;
  auto figures = someFigures();
  figures.database_available = false;
  const std::string text = metrics.render(figures);
  EXPECT_TRUE(has(text, "outpost_database_available 0"));
  EXPECT_EQ(text.find("outpost_outbox_events{"), std::string::npos);
  EXPECT_EQ(text.find("outpost_review_queue_items "), std::string::npos);
}

TEST(MetricsTest, CountersStartAtZeroAndCount) {
  Metrics metrics;
  EXPECT_TRUE(has(metrics.render({}), "outpost_orders_created_total 0"));
  metrics.orderCreated();
  metrics.orderCreated();
  metrics.eventsSent(5);
  metrics.eventsFailed(1);
  metrics.deliveryRetryScheduled();
  metrics.breakerTransition("events", "OPEN");
  metrics.jobRun("outbox-relay", true);
  metrics.jobRun("outbox-relay", false);
  metrics.jobRun("outbox-relay", true);
  const std::string text = metrics.render({});
  EXPECT_TRUE(has(text, "outpost_orders_created_total 2"));
  EXPECT_TRUE(has(text, "outpost_events_sent_total 5"));
  EXPECT_TRUE(has(text, "outpost_events_failed_total 1"));
  EXPECT_TRUE(has(text, "outpost_delivery_retries_total 1"));
  EXPECT_TRUE(
      has(text, R"(outpost_circuit_breaker_transitions_total{breaker="events",to="OPEN"} 1)"));
  EXPECT_TRUE(has(text, R"(outpost_job_runs_total{job="outbox-relay",outcome="ok"} 2)"));
  EXPECT_TRUE(has(text, R"(outpost_job_runs_total{job="outbox-relay",outcome="error"} 1)"));
  EXPECT_TRUE(has(text, "# TYPE outpost_orders_created_total counter"));
}

TEST(MetricsTest, RequestDurationsFormACumulativeHistogram) {
  Metrics metrics;
  metrics.httpRequest("POST", "/v1/orders", 201, 0.0003);
  metrics.httpRequest("POST", "/v1/orders", 201, 0.004);
  metrics.httpRequest("POST", "/v1/orders", 503, 20.0);
  const std::string text = metrics.render({});
  const std::string labels = R"(method="POST",route="/v1/orders")";
  EXPECT_TRUE(has(text, "outpost_http_requests_total{" + labels + R"(,status="201"} 2)"));
  EXPECT_TRUE(has(text, "outpost_http_requests_total{" + labels + R"(,status="503"} 1)"));
  EXPECT_TRUE(
      has(text, "outpost_http_request_duration_seconds_bucket{" + labels + R"(,le="0.0005"} 1)"));
  EXPECT_TRUE(
      has(text, "outpost_http_request_duration_seconds_bucket{" + labels + R"(,le="0.0025"} 1)"));
  EXPECT_TRUE(
      has(text, "outpost_http_request_duration_seconds_bucket{" + labels + R"(,le="0.005"} 2)"));
  EXPECT_TRUE(
      has(text, "outpost_http_request_duration_seconds_bucket{" + labels + R"(,le="10"} 2)"));
  EXPECT_TRUE(
      has(text, "outpost_http_request_duration_seconds_bucket{" + labels + R"(,le="+Inf"} 3)"));
  EXPECT_TRUE(has(text, "outpost_http_request_duration_seconds_count{" + labels + "} 3"));
  EXPECT_NE(text.find("outpost_http_request_duration_seconds_sum{" + labels + "} 20.004"),
            std::string::npos);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Metrics metrics;
  metrics.jobRun("a\"b\\c\nd", true);
  EXPECT_TRUE(
      has(metrics.render({}), R"(outpost_job_runs_total{job="a\"b\\c\nd",outcome="ok"} 1)"));
}

}  // namespace
}  // namespace outpost::observability
