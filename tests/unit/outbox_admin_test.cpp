// Staff's outbox tools of SPEC §11: an order's forwarding trail (its outbox events in
// commit order, read with the order) and the bulk re-drive of FAILED events (filters,
// counts, retries reset, one transaction, figure_counts kept right), and its body.
#include "outbox/outbox_admin.h"

#include <gtest/gtest.h>

#include <set>

#include "common/text.h"
#include "observability/reliability.h"
#include "orders/order_json.h"
#include "outbox/outbox.h"
#include "saga_fixture.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

class OutboxTools : public SagaFixture {
 protected:
  void SetUp() override {
    SagaFixture::SetUp();
    admin_.emplace(*store_, clock_);
  }

  // An event of `aggregate` committed now, then moved to `status` as the relay would.
  std::string addEvent(const std::string& type, const std::string& aggregate,
                       const std::string& status) {
    std::string id;
    EXPECT_TRUE(store_->write([&](store::Connection& c) {
      outbox::EventContext context{"node-1", clock_.wallMillis(), random_};
      id = outbox::appendEvent(c, {type, aggregate, {{"n", 1}}}, context);
      auto mark = c.prepare(
          "UPDATE outbox_events SET status = ?1, retry_count = CASE ?1 WHEN 'FAILED' THEN 5"
          " ELSE 0 END, last_error = CASE ?1 WHEN 'FAILED' THEN 'AccessDenied' END,"
          " sent_at = CASE ?1 WHEN 'SENT' THEN ?2 END WHERE id = ?3");
      mark->bind(1, status);
      mark->bind(2, clock_.wallMillis() + 40);
      mark->bind(3, id);
      mark->exec();
      return okStatus();
    }));
    clock_.advance(milliseconds(1000));
    return id;
  }

  std::string statusOf(const std::string& event_id) {
    return *store_->read([&](store::Connection& c) {
      SQLite::Statement q(c.db(),
                          "SELECT status || ':' || retry_count FROM outbox_events"
                          " WHERE id = ?");
      q.bind(1, event_id);
      return q.executeStep() ? q.getColumn(0).getString() : std::string("missing");
    });
  }

  void expectFigureCountsMatch() {
    auto figures =
        store_->read([](store::Connection& c) { return observability::readStoredFigures(c); });
    ASSERT_TRUE(figures);
    const auto counted = [&](const char* status) {
      return count("SELECT COUNT(*) FROM outbox_events WHERE status = ?", status);
    };
    EXPECT_EQ(figures->outbox_events_pending, counted("PENDING"));
    EXPECT_EQ(figures->outbox_events_sent, counted("SENT"));
    EXPECT_EQ(figures->failed_event_count, counted("FAILED"));
  }

  std::optional<outbox::OutboxAdmin> admin_;
};

TEST_F(OutboxTools, TheTrailListsTheOrdersEventsInCommitOrderWithTheirFields) {
  const std::string order_id = newOrder();  // ORDER_CREATED, PENDING
  const std::string sent = addEvent("DELIVERY_INITIATED", order_id, "SENT");
  addEvent("ORDER_CREATED", "ORD-someone-else", "PENDING");
  const std::string failed = addEvent("ORDER_CANCELLED", order_id, "FAILED");

  const orders::Order found = order(order_id);
  ASSERT_EQ(found.events.size(), 3u);
  EXPECT_EQ(found.events[0].event_type, "ORDER_CREATED");
  EXPECT_EQ(found.events[1].id, sent);
  EXPECT_EQ(found.events[2].id, failed);

  const json trail = orders::orderJson(found, true)["events"];
  ASSERT_EQ(trail.size(), 3u);
  for (const json& event : trail) {
    EXPECT_EQ(event.size(), 7u) << event;
    for (const char* key :
         {"id", "eventType", "status", "createdAt", "sentAt", "retryCount", "lastError"}) {
      EXPECT_TRUE(event.contains(key)) << key;
    }
  }
  EXPECT_EQ(trail[0]["status"], "PENDING");
  EXPECT_TRUE(trail[0]["sentAt"].is_null());
  EXPECT_EQ(trail[1]["status"], "SENT");
  // The formats of GET /v1/outbox: the same event there and in the trail reads the same.
  const json listed = outbox::eventJson(found.events[1]);
  for (const auto& [key, value] : trail[1].items()) EXPECT_EQ(listed[key], value) << key;
  EXPECT_EQ(trail[1]["sentAt"], formatTimestamp(found.events[1].created_at + 40));
  EXPECT_EQ(trail[2]["status"], "FAILED");
  EXPECT_EQ(trail[2]["retryCount"], 5);
  EXPECT_EQ(trail[2]["lastError"], "AccessDenied");
}

TEST_F(OutboxTools, AnOrderWithoutEventsHasAnEmptyTrailAndAnUnknownOneNone) {
  const std::string order_id = newOrder();
  ASSERT_TRUE(store_->write([&](store::Connection& c) {
    c.exec("DELETE FROM outbox_events");  // as retention does once they are SENT and old
    return okStatus();
  }));
  const json shown = orders::orderJson(order(order_id), true);
  ASSERT_TRUE(shown["events"].is_array());
  EXPECT_TRUE(shown["events"].empty());
  auto unknown = store_->read(
      [](store::Connection& c) { return outbox::listAggregateEvents(c, "ORD-unknown"); });
  ASSERT_TRUE(unknown);
  EXPECT_TRUE(unknown->empty());
}

TEST_F(OutboxTools, TheTrailIsReadOnlyForTheFullOrderNotForListsOrEventData) {
  const std::string order_id = newOrder();
  EXPECT_FALSE(orders::orderJson(order(order_id), false).contains("events"));
  auto bare =
      store_->read([&](store::Connection& c) { return orders::findOrder(c, order_id, false); });
  ASSERT_TRUE(bare && *bare);
  EXPECT_TRUE((**bare).events.empty());
}

TEST_F(OutboxTools, RedriveWithoutFiltersRequeuesEveryFailedEventAndNothingElse) {
  const std::string a = addEvent("ORDER_CREATED", "ORD-a", "FAILED");
  const std::string b = addEvent("DELIVERY_INITIATED", "ORD-b", "FAILED");
  const std::string pending = addEvent("ORDER_CREATED", "ORD-c", "PENDING");
  const std::string sent = addEvent("ORDER_CREATED", "ORD-d", "SENT");
  expectFigureCountsMatch();

  auto requeued = admin_->retryAllFailed({});
  ASSERT_TRUE(requeued) << requeued.error().message;
  EXPECT_EQ(*requeued, 2);
  EXPECT_EQ(statusOf(a), "PENDING:0");
  EXPECT_EQ(statusOf(b), "PENDING:0");
  EXPECT_EQ(statusOf(pending), "PENDING:0");
  EXPECT_EQ(statusOf(sent), "SENT:0");
  // Due now, so the relay's next pass takes them.
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox_events WHERE id = ? AND next_attempt_at = " +
                      std::to_string(clock_.wallMillis()),
                  a),
            1);
  expectFigureCountsMatch();
  EXPECT_EQ(*admin_->retryAllFailed({}), 0);  // nothing FAILED is left
}

TEST_F(OutboxTools, RedriveFiltersByEventTypeAndByAggregate) {
  const std::string created_a = addEvent("ORDER_CREATED", "ORD-a", "FAILED");
  const std::string initiated_a = addEvent("DELIVERY_INITIATED", "ORD-a", "FAILED");
  const std::string created_b = addEvent("ORDER_CREATED", "ORD-b", "FAILED");
  const std::string created_c = addEvent("ORDER_CREATED", "ORD-c", "FAILED");

  EXPECT_EQ(*admin_->retryAllFailed({std::nullopt, "ORD-zzz"}), 0);
  EXPECT_EQ(*admin_->retryAllFailed({"ORDER_CREATED", "ORD-b"}), 1);
  EXPECT_EQ(statusOf(created_b), "PENDING:0");
  EXPECT_EQ(statusOf(created_a), "FAILED:5");

  EXPECT_EQ(*admin_->retryAllFailed({std::nullopt, "ORD-a"}), 2);
  EXPECT_EQ(statusOf(created_a), "PENDING:0");
  EXPECT_EQ(statusOf(initiated_a), "PENDING:0");
  EXPECT_EQ(statusOf(created_c), "FAILED:5");

  EXPECT_EQ(*admin_->retryAllFailed({"ORDER_CREATED", std::nullopt}), 1);
  EXPECT_EQ(statusOf(created_c), "PENDING:0");
  expectFigureCountsMatch();
}

TEST_F(OutboxTools, RedriveIsOneTransactionAllOrNothing) {
  addEvent("ORDER_CREATED", "ORD-a", "FAILED");
  addEvent("ORDER_CREATED", "ORD-b", "FAILED");
  const std::string last = addEvent("ORDER_CREATED", "ORD-c", "FAILED");
  // The last event's update fails after the first two were updated in the same write.
  ASSERT_TRUE(store_->write([&](store::Connection& c) {
    SQLite::Statement trigger(c.db(),
                              "CREATE TRIGGER refuse_one BEFORE UPDATE OF status ON outbox_events"
                              " WHEN OLD.id = '" +
                                  last + "' BEGIN SELECT RAISE(ABORT, 'injected'); END");
    trigger.exec();
    return okStatus();
  }));
  EXPECT_FALSE(admin_->retryAllFailed({}));
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox_events WHERE status = ?", "FAILED"), 3);
  expectFigureCountsMatch();
}

TEST(FailedEventFilterBody, TakesOptionalEventTypeAndAggregateId) {
  auto none = outbox::parseFailedEventFilter(json::object());
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->event_type);
  EXPECT_FALSE(none->aggregate_id);
  auto both =
      outbox::parseFailedEventFilter({{"eventType", "ORDER_CREATED"}, {"aggregateId", "o"}});
  ASSERT_TRUE(both);
  EXPECT_EQ(both->event_type, "ORDER_CREATED");
  EXPECT_EQ(both->aggregate_id, "o");
  auto nulls = outbox::parseFailedEventFilter({{"eventType", nullptr}, {"aggregateId", nullptr}});
  ASSERT_TRUE(nulls);
  EXPECT_FALSE(nulls->event_type);
  // 1 and 128 characters (code points, not bytes) are the edges.
  EXPECT_TRUE(outbox::parseFailedEventFilter({{"eventType", "x"}}));
  EXPECT_TRUE(outbox::parseFailedEventFilter({{"aggregateId", std::string(128, 'x')}}));
  std::string umlauts;
  for (int i = 0; i < 128; ++i) umlauts += "\xc3\xbc";
  EXPECT_TRUE(outbox::parseFailedEventFilter({{"eventType", umlauts}}));
}

TEST(FailedEventFilterBody, RefusesUnknownFieldsBadStringsAndNonObjects) {
  const auto rejected = [](const json& body) {
    auto parsed = outbox::parseFailedEventFilter(body);
    EXPECT_FALSE(parsed) << body;
    if (parsed) return std::vector<FieldError>{};
    EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidArgument);
    return parsed.error().fields;
  };
  auto fields = rejected({{"eventType", ""}, {"aggregateId", std::string(129, 'x')}, {"st", 1}});
  ASSERT_EQ(fields.size(), 3u);
  std::set<std::string> named;
  for (const auto& field : fields) named.insert(field.field);
  EXPECT_EQ(named, (std::set<std::string>{"eventType", "aggregateId", "st"}));
  EXPECT_EQ(rejected({{"eventType", 5}}).size(), 1u);
  EXPECT_EQ(rejected({{"aggregateId", json::array({"o"})}}).size(), 1u);
  const auto body = rejected(json::array());
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0].field, "body");
  EXPECT_EQ(rejected("ORDER_CREATED").size(), 1u);
}

}  // namespace
}  // namespace outpost::testing
