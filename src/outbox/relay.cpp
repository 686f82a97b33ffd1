#include "outbox/relay.h"

#include <algorithm>

#include "clients/guarded_call.h"
#include "resilience/backoff.h"

namespace outpost::outbox {
namespace {

using clients::CallClass;
using std::chrono::milliseconds;

constexpr milliseconds kStoreDownDelay(1000);

int bitOf(const clients::EventDestination& destination) {
  return static_cast<int>(destination.kind());
}

std::int64_t steadyMillis(const Clock& clock) {
  return std::chrono::duration_cast<milliseconds>(clock.steadyNow().time_since_epoch()).count();
}

clients::EventMessage messageOf(const DueEvent& event) {
  return {event.envelope, event.event_type, event.aggregate_id, event.id};
}

// An entry the service failed by its own fault (or throttled) is an outage too.
bool anyRetriable(const clients::PublishOutcome& outcome) {
  if (outcome.request == CallClass::kRetriable) return true;
  return std::any_of(outcome.entries.begin(), outcome.entries.end(),
                     [](const auto& entry) { return entry.call_class == CallClass::kRetriable; });
}

// The longest prefix of `events` that fits one batch request (at least one event).
std::size_t fittingPrefix(const std::vector<DueEvent>& events) {
  std::size_t bytes = 0;
  std::size_t count = 0;
  for (const auto& event : events) {
    bytes += clients::messageBytes(event.envelope, event.event_type);
    if (count > 0 && bytes > clients::kMaxBatchBytes) break;
    ++count;
  }
  return count;
}

}  // namespace

OutboxRelay::OutboxRelay(RelayDependencies deps) : deps_(std::move(deps)) {
  for (const auto* destination : deps_.destinations) all_destinations_ |= bitOf(*destination);
}

milliseconds OutboxRelay::runPass(const jobs::StopRequested& stop_requested) {
  const std::int64_t backing_off_for = resume_at_steady_ms_ - steadyMillis(deps_.node.clock);
  if (backing_off_for > 0) return milliseconds(backing_off_for);
  const int limit =
      std::clamp(deps_.settings.batch_size, 1, static_cast<int>(clients::kMaxBatchEntries));
  while (!stop_requested()) {
    const std::int64_t now = deps_.node.clock.wallMillis();
    auto due = deps_.node.store.read([&](store::Connection& c) { return dueEvents(c, now, limit); });
    if (!due) return kStoreDownDelay;
    if (due->empty()) return untilNextDue();
    switch (sendBatch(std::move(*due))) {
      case BatchResult::kRecorded:
        break;
      case BatchResult::kOutage:
        return afterOutage();
      case BatchResult::kBreakerOpen:
        return untilBreakerTrial();
      case BatchResult::kStoreDown:
        return kStoreDownDelay;
      case BatchResult::kCancelled:
        return milliseconds(0);
    }
  }
  return milliseconds(0);
}

int OutboxRelay::bringRetriesForward() {
  resume_at_steady_ms_ = 0;
  int moved = 0;
  auto done = deps_.node.store.write([&](store::Connection& c) {
    moved = bringEventsForward(c, deps_.node.clock.wallMillis());
    return okStatus();
  });
  return done ? moved : 0;
}

OutboxRelay::BatchResult OutboxRelay::sendBatch(std::vector<DueEvent> events) {
  std::vector<InFlight> batch;
  const std::size_t fitting = fittingPrefix(events);
  for (std::size_t i = 0; i < fitting; ++i) {
    InFlight item{std::move(events[i]), 0, "", false};
    item.sent_to = item.event.sent_to;
    const std::size_t bytes = clients::messageBytes(item.event.envelope, item.event.event_type);
    if (bytes > clients::kMaxMessageBytes) {
      item.too_large = true;
      item.rejection = "event is " + std::to_string(bytes) + " bytes; SNS and SQS take at most " +
                       std::to_string(clients::kMaxMessageBytes);
    }
    batch.push_back(std::move(item));
  }
  bool outage = false;
  Send stopped_by = Send::kAnswered;
  for (auto* destination : deps_.destinations) {
    stopped_by = sendTo(*destination, batch, outage);
    if (stopped_by != Send::kAnswered) break;
  }
  if (!record(batch)) return BatchResult::kStoreDown;
  if (stopped_by == Send::kCancelled) return BatchResult::kCancelled;
  if (outage) return BatchResult::kOutage;
  if (stopped_by == Send::kBreakerOpen) return BatchResult::kBreakerOpen;
  if (outage_streak_ > 0) {
    deps_.node.log.info("events destination reachable again; sending the outbox",
                   {{"outages_in_a_row", outage_streak_}});
    outage_streak_ = 0;
  }
  return BatchResult::kRecorded;
}

OutboxRelay::Send OutboxRelay::sendTo(clients::EventDestination& destination,
                                      std::vector<InFlight>& batch, bool& outage) {
  const int bit = bitOf(destination);
  std::vector<InFlight*> waiting;
  std::vector<clients::EventMessage> messages;
  for (auto& item : batch) {
    // A destination is tried even after another rejected the event: each gets it once.
    if ((item.sent_to & bit) != 0 || item.too_large) continue;
    waiting.push_back(&item);
    messages.push_back(messageOf(item.event));
  }
  if (waiting.empty()) return Send::kAnswered;
  auto permit = deps_.breaker.tryAcquire();
  if (!permit) return Send::kBreakerOpen;
  const clients::PublishOutcome outcome = destination.publish(messages);
  // A call cut short by shutdown says nothing about the destination; a trial permit left
  // unrecorded expires at the trial's deadline.
  if (outcome.cancelled) return Send::kCancelled;
  deps_.breaker.record(*permit, clients::breakerResult(anyRetriable(outcome) ? CallClass::kRetriable
                                                                             : CallClass::kSuccess,
                                                       outcome.timed_out));
  if (anyRetriable(outcome) && outage_streak_ == 0) {
    deps_.node.log.warn("events destination unreachable; events wait in the outbox",
                   {{"destination", destination.address()}, {"error", outcome.error}});
  }
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    const clients::EntryOutcome& entry = outcome.entries[i];
    switch (entry.call_class) {
      case CallClass::kSuccess:
        waiting[i]->sent_to |= bit;
        break;
      case CallClass::kPermanent:
        if (!waiting[i]->rejection.empty()) waiting[i]->rejection += "; ";
        waiting[i]->rejection += entry.error;
        break;
      case CallClass::kRetriable:
        outage = true;
        break;
    }
  }
  return Send::kAnswered;
}

Status OutboxRelay::record(const std::vector<InFlight>& batch) {
  // (An event every configured destination already has, say after one was removed from
  // the configuration, is a change too: it becomes SENT without being sent again.)
  const bool changed = std::any_of(batch.begin(), batch.end(), [this](const InFlight& item) {
    return !item.rejection.empty() || item.sent_to != item.event.sent_to ||
           (item.sent_to & all_destinations_) == all_destinations_;
  });
  // Nothing to write after an outage: an empty commit would only wake the relay again.
  if (!changed) return okStatus();
  const std::int64_t now = deps_.node.clock.wallMillis();
  const std::int64_t retry_at = now + deps_.settings.poll_interval_ms;
  std::vector<const InFlight*> failed;
  std::int64_t sent = 0;
  auto written = deps_.node.store.write([&](store::Connection& c) {
    failed.clear();
    sent = 0;
    for (const auto& item : batch) {
      if (!item.rejection.empty()) {
        // No destination would take an event that is too large, now or later.
        const bool give_up =
            item.too_large || item.event.retry_count + 1 >= deps_.settings.max_retries;
        markRejected(c, item.event.seq, item.sent_to, item.rejection, give_up, retry_at);
        if (give_up) failed.push_back(&item);
      } else if ((item.sent_to & all_destinations_) == all_destinations_) {
        markSent(c, item.event.seq, item.sent_to, now);
        ++sent;
      } else if (item.sent_to != item.event.sent_to) {
        markPartlySent(c, item.event.seq, item.sent_to);
      }
    }
    return okStatus();
  });
  if (!written) {
    deps_.node.log.warn("could not record what the events destination accepted; it will be sent again",
                   {{"error", written.error().message}});
    return written;
  }
  deps_.node.metrics.eventsSent(sent);
  deps_.node.metrics.eventsFailed(static_cast<std::int64_t>(failed.size()));
  for (const auto& item : batch) {
    if (item.rejection.empty()) continue;
    deps_.node.log.warn("events destination rejected an event",
                   {{"event_id", item.event.id},
                    {"aggregate_id", item.event.aggregate_id},
                    {"rejections", item.event.retry_count + 1},
                    {"error", item.rejection}});
  }
  for (const auto* item : failed) {
    deps_.node.log.error("event FAILED: kept in the outbox until staff re-queue it",
                    {{"event_id", item->event.id}, {"error", item->rejection}});
  }
  return okStatus();
}

milliseconds OutboxRelay::afterOutage() {
  ++outage_streak_;
  // Once the outage has opened the breaker, its trial time is the one that counts.
  if (deps_.breaker.state() == resilience::BreakerState::kOpen) return untilBreakerTrial();
  const std::int64_t cap =
      std::min(deps_.settings.poll_interval_ms, deps_.breaker.options().reset_timeout_ms);
  const std::int64_t delay = resilience::backoffDelayMs(
      {std::min(deps_.settings.outage_initial_delay_ms, cap), cap}, outage_streak_, deps_.node.random);
  return pauseFor(delay);
}

milliseconds OutboxRelay::untilBreakerTrial() {
  const auto snapshot = deps_.breaker.snapshot();
  std::int64_t wait = deps_.settings.poll_interval_ms;
  if (snapshot.state == resilience::BreakerState::kOpen) {
    wait = snapshot.next_attempt_wall_ms - deps_.node.clock.wallMillis();
  }
  return pauseFor(std::clamp<std::int64_t>(wait, 1, deps_.settings.poll_interval_ms));
}

milliseconds OutboxRelay::pauseFor(std::int64_t delay_ms) {
  // Commits wake the relay early; until then a pass returns at once without reading.
  resume_at_steady_ms_ = steadyMillis(deps_.node.clock) + delay_ms;
  return milliseconds(delay_ms);
}

milliseconds OutboxRelay::untilNextDue() {
  const std::int64_t now = deps_.node.clock.wallMillis();
  auto next = deps_.node.store.read([&](store::Connection& c) { return nextEventDueAt(c, now); });
  if (!next) return kStoreDownDelay;
  std::int64_t wait = deps_.settings.poll_interval_ms;
  if (*next) wait = std::min(wait, **next - now);
  return milliseconds(std::max<std::int64_t>(wait, 0));
}

}  // namespace outpost::outbox
