// Metrics: the node's figures in the Prometheus text format (GET /metrics, SPEC §3).
//
// Counters and the request-duration histogram live in memory from the moment the process
// starts (Prometheus expects counters to restart at zero with the process). What the
// database and the breakers say now (outbox events by status, the review queue, breaker
// states, active alerts) is not counted twice: it is read at each scrape and handed to
// render(). Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "observability/reliability.h"

namespace outpost::observability {

// The route label of requests that matched no route: a bounded label however odd the path.
inline constexpr const char* kUnmatchedRoute = "unmatched";

class Metrics {
 public:
  Metrics();

  void orderCreated();
  void eventsSent(std::int64_t count);
  // Events given up on: FAILED in the outbox until staff re-queue them.
  void eventsFailed(std::int64_t count);
  void deliveryRetryScheduled();
  void breakerTransition(const std::string& breaker, const std::string& to_state);
  // One pass of a background job; `succeeded` is false when the pass threw.
  void jobRun(const std::string& job, bool succeeded);
  void httpRequest(const std::string& method, const std::string& route, int status, double seconds);
  // One heartbeat to alerts.heartbeat_url; `outcome` is one of a small fixed set
  // (alerts/heartbeat.h), so the label stays bounded.
  void heartbeat(const std::string& outcome);

  // The whole exposition, every family with HELP and TYPE lines.
  std::string render(const ReliabilityFigures& now) const;

 private:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  struct Histogram {
    std::vector<std::uint64_t> bucket_counts;  // one per bound, not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  void add(const std::string& family, Labels labels, std::int64_t by);

  mutable std::mutex mutex_;
  std::map<std::string, std::map<Labels, std::int64_t>> counters_;
  std::map<Labels, Histogram> request_durations_;
};

}  // namespace outpost::observability
