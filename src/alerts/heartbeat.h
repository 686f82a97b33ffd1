// Heartbeat: the dead-man switch of SPEC §11. While the node runs it POSTs
// {"nodeId", "status", "outboxEventsPending", "outboxOldestPendingAgeSeconds", "at"} to
// alerts.heartbeat_url every alerts.heartbeat_interval_ms, so head office notices silence.
//
// It runs as its own job (its own thread), so a receiver that hangs never delays another
// job. Beats are neither queued nor durable: beat N is due at start + N * interval by the
// steady clock, however long beat N-1 took; a beat that fails is counted
// (outpost_heartbeats_total{outcome}) and dropped. Each beat is bounded by
// heartbeatTimeoutMs (half the interval, at most 10 s), so the next one is on time; a beat
// that would have been due while another was still running (its figures could not be
// read for longer than an interval) is skipped, never sent late. A beat in flight at
// shutdown is cancelled (HttpRequest::cancelled) and not counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "clients/http_client.h"
#include "jobs/background_job.h"
#include "node/context.h"
#include "observability/reliability.h"
#include "outpost/clock.h"

namespace outpost::alerts {

// The outcomes a beat is counted under: a bounded set, documented in the README.
inline constexpr const char* kHeartbeatOk = "ok";            // a 2xx answer
inline constexpr const char* kHeartbeatFailed = "failed";    // another answer, or none (refused)
inline constexpr const char* kHeartbeatTimeout = "timeout";  // no answer within the timeout

inline constexpr std::int64_t kMaxHeartbeatTimeoutMs = 10000;

// Half the interval, at most kMaxHeartbeatTimeoutMs: a beat always ends well before the
// next one is due.
std::int64_t heartbeatTimeoutMs(std::int64_t interval_ms);

struct HeartbeatDependencies {
  const node::Context& node;
  clients::HttpClient& http;
  std::string url;
  std::int64_t interval_ms = 60000;
  // The node's figures as /health shows them, active alerts included.
  std::function<observability::ReliabilityFigures()> figures;
};

class Heartbeat final : public jobs::BackgroundJob {
 public:
  explicit Heartbeat(HeartbeatDependencies deps) : deps_(std::move(deps)) {}

  // Sends the beat that is due, if one is; returns the delay until the next one is due.
  std::chrono::milliseconds runPass(const jobs::StopRequested& stop_requested) override;

 private:
  void beat(const jobs::StopRequested& stop_requested);
  // The outcome's first failure after a success is logged, and the recovery, not each beat.
  void note(const char* outcome, const std::string& error);

  HeartbeatDependencies deps_;
  std::optional<Clock::SteadyTime> start_;  // beat 0: the first pass
  std::int64_t next_beat_ = 0;              // N of the next beat due
  bool failing_ = false;
};

}  // namespace outpost::alerts
