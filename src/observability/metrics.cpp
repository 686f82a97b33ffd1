#include "observability/metrics.h"

#include <array>
#include <charconv>

namespace outpost::observability {
namespace {

// Request durations in seconds: from a cached GET (well under a millisecond) to a POST
// that waited out a slow delivery service.
constexpr std::array kDurationBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

constexpr const char* kOrdersCreated = "outpost_orders_created_total";
constexpr const char* kEventsSent = "outpost_events_sent_total";
constexpr const char* kEventsFailed = "outpost_events_failed_total";
constexpr const char* kDeliveryRetries = "outpost_delivery_retries_total";
constexpr const char* kBreakerTransitions = "outpost_circuit_breaker_transitions_total";
constexpr const char* kJobRuns = "outpost_job_runs_total";
constexpr const char* kHttpRequests = "outpost_http_requests_total";
constexpr const char* kHttpDuration = "outpost_http_request_duration_seconds";
constexpr const char* kHeartbeats = "outpost_heartbeats_total";

struct Counter {
  const char* name;
  const char* help;
};

// Counters in the order they are written; those without labels always show a sample.
constexpr std::array kCounters = {
    Counter{kOrdersCreated, "Orders created (201), idempotent replays not counted."},
    Counter{kEventsSent, "Outbox events every configured destination accepted."},
    Counter{kEventsFailed,
            "Outbox events given up on (FAILED) after events.max_retries rejections."},
    Counter{kDeliveryRetries, "Delivery initiations scheduled for another attempt."},
    Counter{kBreakerTransitions, "Circuit breaker state changes, by breaker and state."},
    Counter{kJobRuns, "Background job passes, by job and outcome (ok, error)."},
    Counter{kHttpRequests, "HTTP requests answered, by method, route and status."},
    Counter{kHeartbeats, "Heartbeats to alerts.heartbeat_url, by outcome (ok, failed, timeout)."},
};

std::string escapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string formatNumber(double value, std::chars_format format = std::chars_format::general) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value, format);
  return error == std::errc() ? std::string(buffer, end) : "NaN";
}

class Exposition {
 public:
  void family(const char* name, const char* type, const char* help) {
    text_ += "# HELP ";
    text_ += name;
    text_ += ' ';
    text_ += help;
    text_ += "\n# TYPE ";
    text_ += name;
    text_ += ' ';
    text_ += type;
    text_ += '\n';
  }

  template <typename Labels>
  void sample(const std::string& name, const Labels& labels, const std::string& value) {
    text_ += name;
    if (!labels.empty()) {
      text_ += '{';
      bool first = true;
      for (const auto& [key, label_value] : labels) {
        if (!first) text_ += ',';
        first = false;
        text_ += key;
        text_ += "=\"";
        text_ += escapeLabelValue(label_value);
        text_ += '"';
      }
      text_ += '}';
    }
    text_ += ' ';
    text_ += value;
    text_ += '\n';
  }

  void sample(const std::string& name, std::int64_t value) {
    sample(name, std::vector<std::pair<std::string, std::string>>{}, std::to_string(value));
  }

  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

using LabelList = std::vector<std::pair<std::string, std::string>>;

void writeDiskGauge(Exposition& out, const store::DiskReading& disk) {
  out.family("outpost_disk_free_bytes", "gauge",
             "Free space on the database's filesystem, read at most once a second.");
  if (disk.free_bytes)
    out.sample("outpost_disk_free_bytes", LabelList{}, std::to_string(*disk.free_bytes));
}

void writeGauges(Exposition& out, const ReliabilityFigures& reliability) {
  out.family("outpost_circuit_breaker_state", "gauge",
             "1 for the state each circuit breaker is in, 0 for the others.");
  for (const auto& [breaker, state] : reliability.circuit_breaker_states) {
    for (const char* candidate : {"CLOSED", "OPEN", "HALF_OPEN"}) {
      out.sample("outpost_circuit_breaker_state",
                 LabelList{{"breaker", breaker}, {"state", candidate}},
                 state == candidate ? "1" : "0");
    }
  }
  out.family("outpost_database_available", "gauge",
             "1 when the database file can be read, 0 when it cannot.");
  out.sample("outpost_database_available", reliability.database_available ? 1 : 0);
  // Without the database there is nothing true to say about what it holds.
  if (reliability.database_available) {
    out.family("outpost_outbox_events", "gauge", "Events in the outbox, by status.");
    const std::array<std::pair<const char*, std::int64_t>, 3> statuses = {
        {{"PENDING", reliability.stored.outbox_events_pending},
         {"SENT", reliability.stored.outbox_events_sent},
         {"FAILED", reliability.stored.failed_event_count}}};
    for (const auto& [status, count] : statuses) {
      out.sample("outpost_outbox_events", LabelList{{"status", status}}, std::to_string(count));
    }
    out.family("outpost_review_queue_items", "gauge", "Open manual review items.");
    out.sample("outpost_review_queue_items", reliability.stored.manual_review_queue_length);
    out.family("outpost_outbox_oldest_pending_age_seconds", "gauge",
               "Seconds since the oldest PENDING event was committed; 0 when none is.");
    out.sample("outpost_outbox_oldest_pending_age_seconds",
               reliability.outbox_oldest_pending_age_seconds);
  }
  out.family("outpost_reconciliation_status", "gauge",
             "1 for the outcome of the last reconciliation run, 0 for the others.");
  for (const char* candidate : {"HEALTHY", "DEGRADED", "FAILED"}) {
    out.sample("outpost_reconciliation_status", LabelList{{"status", candidate}},
               reliability.reconciliation_status == candidate ? "1" : "0");
  }
  out.family("outpost_alerts_active", "gauge", "1 for each alert that is raised now.");
  for (const auto& alert : reliability.alerts) {
    out.sample("outpost_alerts_active", LabelList{{"alert", alert.value("alert", "")}}, "1");
  }
  out.family("outpost_clock_skew_seconds", "gauge",
             "The AWS services' clock minus this node's, as the node signs with it.");
  out.sample("outpost_clock_skew_seconds", LabelList{},
             formatNumber(static_cast<double>(reliability.clock_skew_ms) / 1000.0));
  writeDiskGauge(out, reliability.disk);
}

}  // namespace

Metrics::Metrics() {
  for (const char* name : {kOrdersCreated, kEventsSent, kEventsFailed, kDeliveryRetries}) {
    counters_[name][{}] = 0;
  }
}

void Metrics::add(const std::string& family, Labels labels, std::int64_t by) {
  std::lock_guard lock(mutex_);
  counters_[family][std::move(labels)] += by;
}

void Metrics::orderCreated() { add(kOrdersCreated, {}, 1); }
void Metrics::eventsSent(std::int64_t count) { add(kEventsSent, {}, count); }
void Metrics::eventsFailed(std::int64_t count) { add(kEventsFailed, {}, count); }
void Metrics::deliveryRetryScheduled() { add(kDeliveryRetries, {}, 1); }

void Metrics::breakerTransition(const std::string& breaker, const std::string& to_state) {
  add(kBreakerTransitions, {{"breaker", breaker}, {"to", to_state}}, 1);
}

void Metrics::jobRun(const std::string& job, bool succeeded) {
  add(kJobRuns, {{"job", job}, {"outcome", succeeded ? "ok" : "error"}}, 1);
}

void Metrics::heartbeat(const std::string& outcome) { add(kHeartbeats, {{"outcome", outcome}}, 1); }

void Metrics::httpRequest(const std::string& method, const std::string& route, int status,
                          double seconds) {
  Labels request_labels = {{"method", method}, {"route", route}};
  std::lock_guard lock(mutex_);
  auto with_status = request_labels;
  with_status.emplace_back("status", std::to_string(status));
  counters_[kHttpRequests][std::move(with_status)] += 1;
  auto& histogram = request_durations_[std::move(request_labels)];
  if (histogram.bucket_counts.empty()) histogram.bucket_counts.assign(kDurationBounds.size(), 0);
  for (std::size_t i = 0; i < kDurationBounds.size(); ++i) {
    if (seconds <= kDurationBounds[i]) {
      ++histogram.bucket_counts[i];
      break;
    }
  }
  ++histogram.count;
  histogram.sum += seconds;
}

std::string Metrics::render(const ReliabilityFigures& now) const {
  Exposition out;
  writeGauges(out, now);
  std::lock_guard lock(mutex_);
  for (const auto& family : kCounters) {
    out.family(family.name, "counter", family.help);
    auto series = counters_.find(family.name);
    if (series == counters_.end()) continue;
    for (const auto& [labels, value] : series->second) {
      out.sample(family.name, labels, std::to_string(value));
    }
  }
  out.family(kHttpDuration, "histogram", "Time from reading a request to its answer, by route.");
  const std::string bucket = std::string(kHttpDuration) + "_bucket";
  for (const auto& [labels, histogram] : request_durations_) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kDurationBounds.size(); ++i) {
      cumulative += histogram.bucket_counts[i];
      auto with_bound = labels;
      with_bound.emplace_back("le", formatNumber(kDurationBounds[i], std::chars_format::fixed));
      out.sample(bucket, with_bound, std::to_string(cumulative));
    }
    auto with_infinity = labels;
    with_infinity.emplace_back("le", "+Inf");
    out.sample(bucket, with_infinity, std::to_string(histogram.count));
    out.sample(std::string(kHttpDuration) + "_sum", labels, formatNumber(histogram.sum));
    out.sample(std::string(kHttpDuration) + "_count", labels, std::to_string(histogram.count));
  }
  return out.take();
}

}  // namespace outpost::observability
