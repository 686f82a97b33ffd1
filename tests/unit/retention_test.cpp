#include "outbox/retention.h"

#include <gtest/gtest.h>

#include "idempotency/idempotency.h"
#include "node/context.h"
#include "outbox/outbox.h"
#include "support/fake_clock.h"
#include "support/node_process.h"

namespace outpost::outbox {
namespace {

using outpost::testing::TempDir;
constexpr std::int64_t kWeek = 7LL * 24 * 60 * 60 * 1000;

TEST(Retention, PrunesOldSentEventsAndExpiredAnswersOnly) {
  TempDir dir;
  auto store = store::Store::open({dir.file("r.db"), 2000});
  ASSERT_TRUE(store);
  FakeClock clock;
  SystemRandom random(1);
  const std::string node = "n";
  const std::int64_t start = clock.wallMillis();
  ASSERT_TRUE((*store)->write([&](store::Connection& c) {
    outbox::EventContext context{node, start, random};
    for (const char* status : {"SENT", "FAILED", "PENDING"}) {
      const std::string id = outbox::appendEvent(c, {"T", "order", {}}, context);
      auto mark = c.prepare("UPDATE outbox_events SET status = ?, sent_at = ? WHERE id = ?");
      mark->bind(1, status);
      mark->bind(2, start);
      mark->bind(3, id);
      mark->exec();
    }
    idempotency::saveResponse(c, "old-key", {"h", 201, "{}", "order"}, start, start);
    return okStatus();
  }));
  auto count = [&](const char* sql) {
    return *(*store)->read([&](store::Connection& c) {
      auto q = c.prepare(sql);
      q->executeStep();
      return q->getColumn(0).getInt();
    });
  };
  SystemClock real;
  std::FILE* sink = std::tmpfile();
  observability::Logger log(real, sink);
  observability::Metrics metrics;
  const node::Context context{**store, clock, random, log, metrics, node};
  Retention retention(context, kWeek);

  clock.advance(std::chrono::milliseconds(kWeek));  // exactly the retention age: kept
  retention.runPass([] { return false; });
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox_events"), 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM idempotency_keys"), 0);  // 24 h passed long ago

  clock.advance(std::chrono::milliseconds(1));
  retention.runPass([] { return false; });
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox_events WHERE status = 'SENT'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox_events"), 2);  // FAILED and PENDING stay
  std::fclose(sink);
}

}  // namespace
}  // namespace outpost::outbox
