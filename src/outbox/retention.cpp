#include "outbox/retention.h"

#include "idempotency/idempotency.h"
#include "outbox/outbox_admin.h"

namespace outpost::outbox {
namespace {

// Small batches keep each delete's write lock short next to the order writes.
constexpr int kBatch = 500;
constexpr std::chrono::milliseconds kInterval = std::chrono::minutes(10);

}  // namespace

std::chrono::milliseconds Retention::runPass(const jobs::StopRequested&) {
  const std::int64_t now = clock_.wallMillis();
  int events = 0, answers = 0;
  auto pruned = store_.write([&](store::Connection& c) {
    events = pruneSentEvents(c, now - retention_ms_, kBatch);
    answers = idempotency::pruneExpired(c, now - idempotency::kReplayWindowMillis, kBatch);
    return okStatus();
  });
  if (!pruned) return kInterval;
  if (events > 0 || answers > 0) {
    log_.info("retention", {{"sentEventsDeleted", events}, {"idempotencyKeysDeleted", answers}});
  }
  return (events == kBatch || answers == kBatch) ? std::chrono::milliseconds(0) : kInterval;
}

}  // namespace outpost::outbox
