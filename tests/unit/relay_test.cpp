// The outbox relay's rules, with a fake destination, a fake clock and a real store: no
// test waits for real time.
#include "outbox/relay.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>

#include "clients/event_destinations.h"
#include "node/context.h"
#include "outbox/outbox.h"
#include "support/fake_clock.h"
#include "support/node_process.h"
#include "support/scripted_http.h"

namespace outpost::outbox {
namespace {

using clients::CallClass;
using clients::EntryOutcome;
using clients::EventMessage;
using outpost::testing::TempDir;
using std::chrono::milliseconds;

constexpr std::int64_t kPoll = 30000;
constexpr std::int64_t kResetTimeout = 30000;

class FakeDestination final : public clients::EventDestination {
 public:
  explicit FakeDestination(clients::DestinationKind kind) : kind_(kind) {}
  clients::DestinationKind kind() const override { return kind_; }
  const std::string& address() const override { return address_; }

  clients::PublishOutcome publish(const std::vector<EventMessage>& messages) override {
    calls.push_back(messages);
    clients::PublishOutcome outcome;
    outcome.request = down ? CallClass::kRetriable : CallClass::kSuccess;
    for (const auto& message : messages) {
      outcome.entries.push_back(down ? EntryOutcome{CallClass::kRetriable, "connection refused"}
                                     : judge(message));
    }
    return outcome;
  }

  // The event ids of call `i`.
  std::vector<std::string> callIds(std::size_t i) const {
    std::vector<std::string> ids;
    for (const auto& message : calls.at(i)) ids.push_back(message.deduplication_id);
    return ids;
  }

  bool down = false;
  std::function<EntryOutcome(const EventMessage&)> judge = [](const EventMessage&) {
    return EntryOutcome{CallClass::kSuccess, ""};
  };
  std::vector<std::vector<EventMessage>> calls;

 private:
  clients::DestinationKind kind_;
  std::string address_ = "fake";
};

struct EventState {
  std::string status;
  int retry_count = 0;
  int sent_to = 0;
  std::string last_error;
  std::int64_t next_attempt_at = 0;
};

class Relay : public ::testing::Test {
 protected:
  Relay()
      : breaker_({"events", 50, kResetTimeout, 5, 5, 10000, 10000, 10}, clock_),
        log_sink_(std::tmpfile()),
        log_(clock_, log_sink_) {}
  ~Relay() override { std::fclose(log_sink_); }

  void SetUp() override {
    store::StoreOptions options{dir_.file("relay.db"), 2000};
    options.after_commit = [this] { ++commits_; };
    auto opened = store::Store::open(options);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    context_.emplace(node::Context{*store_, clock_, random_, log_, metrics_, node_});
  }

  OutboxRelay makeRelay(std::vector<clients::EventDestination*> destinations,
                        RelaySettings settings = {kPoll, 10, 3, 1000}) {
    return OutboxRelay({*context_, breaker_, std::move(destinations), settings});
  }

  std::string append(const std::string& aggregate, nlohmann::json data = {}) {
    std::string id;
    EXPECT_TRUE(store_->write([&](store::Connection& c) {
      id = appendEvent(c, {"ORDER_CREATED", aggregate, std::move(data)},
                       {node_, clock_.wallMillis(), random_});
      return okStatus();
    }));
    return id;
  }

  EventState state(const std::string& id) {
    return *store_->read([&](store::Connection& c) {
      auto q = c.prepare(
          "SELECT status, retry_count, sent_to, COALESCE(last_error, ''), next_attempt_at"
          " FROM outbox_events WHERE id = ?");
      q->bind(1, id);
      EXPECT_TRUE(q->executeStep()) << id;
      return EventState{q->getColumn(0).getString(), q->getColumn(1).getInt(),
                        q->getColumn(2).getInt(), q->getColumn(3).getString(),
                        q->getColumn(4).getInt64()};
    });
  }

  milliseconds pass(OutboxRelay& relay) {
    return relay.runPass([] { return false; });
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  observability::Metrics metrics_;
  std::optional<node::Context> context_;
  FakeClock clock_;
  SystemRandom random_{7};
  resilience::CircuitBreaker breaker_;
  std::FILE* log_sink_;
  observability::Logger log_;
  std::string node_ = "node-1";
  std::atomic<int> commits_ = 0;
  FakeDestination sns_{clients::DestinationKind::kSnsTopic};
  FakeDestination sqs_{clients::DestinationKind::kSqsQueue};
};

TEST_F(Relay, SendsEveryDueEventInBatchesAndMarksItSent) {
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) ids.push_back(append("ORD-" + std::to_string(i)));
  OutboxRelay relay = makeRelay({&sns_});

  EXPECT_EQ(pass(relay), milliseconds(kPoll));  // nothing left: wait for the next poll
  ASSERT_EQ(sns_.calls.size(), 3u);
  EXPECT_EQ(sns_.calls[0].size(), 10u);
  EXPECT_EQ(sns_.calls[2].size(), 5u);
  EXPECT_EQ(sns_.callIds(0).front(), ids.front());  // commit order
  EXPECT_EQ(sns_.calls[0][0].event_type, "ORDER_CREATED");
  EXPECT_EQ(sns_.calls[0][0].group_id, "ORD-0");
  auto envelope = nlohmann::json::parse(sns_.calls[0][0].body);
  EXPECT_EQ(envelope["eventId"], ids.front());
  EXPECT_EQ(envelope["nodeId"], "node-1");
  for (const auto& id : ids) {
    EXPECT_EQ(state(id).status, "SENT");
    EXPECT_EQ(state(id).sent_to, 1);
  }
  EXPECT_EQ(pass(relay), milliseconds(kPoll));
  EXPECT_EQ(sns_.calls.size(), 3u);  // nothing is sent twice
}

TEST_F(Relay, EventsOfOneOrderGoOutInCommitOrderNeverTogether) {
  const std::string a1 = append("ORD-A");
  const std::string b1 = append("ORD-B");
  const std::string a2 = append("ORD-A");
  const std::string a3 = append("ORD-A");
  OutboxRelay relay = makeRelay({&sns_});
  pass(relay);
  ASSERT_EQ(sns_.calls.size(), 3u);
  EXPECT_EQ(sns_.callIds(0), (std::vector<std::string>{a1, b1}));
  EXPECT_EQ(sns_.callIds(1), (std::vector<std::string>{a2}));
  EXPECT_EQ(sns_.callIds(2), (std::vector<std::string>{a3}));
}

TEST_F(Relay, AnOutageBacksOffThroughTheBreakerAndNeverCountsAgainstAnEvent) {
  const std::string id = append("ORD-A");
  OutboxRelay relay = makeRelay({&sns_});
  sns_.down = true;

  const milliseconds first = pass(relay);
  EXPECT_GE(first, milliseconds(800));  // 1 s, jittered
  EXPECT_LE(first, milliseconds(1200));
  EXPECT_EQ(pass(relay), first);  // still backing off: the destination is left alone
  EXPECT_EQ(sns_.calls.size(), 1u);
  // Four more outages, each after the backoff, open the breaker (5 consecutive failures).
  milliseconds wait = first;
  for (int i = 0; i < 4; ++i) {
    clock_.advance(wait);
    const milliseconds next = pass(relay);
    EXPECT_GT(next, wait) << "the backoff grows";
    wait = next;
  }
  EXPECT_EQ(sns_.calls.size(), 5u);
  EXPECT_EQ(breaker_.state(), resilience::BreakerState::kOpen);
  EXPECT_EQ(wait, milliseconds(kResetTimeout));  // the breaker's trial time, not a backoff
  clock_.advance(wait / 2);
  EXPECT_EQ(pass(relay), wait - wait / 2);
  EXPECT_EQ(sns_.calls.size(), 5u);  // open: not called
  EXPECT_EQ(state(id).status, "PENDING");
  EXPECT_EQ(state(id).retry_count, 0);

  sns_.down = false;
  clock_.advance(wait - wait / 2);
  EXPECT_EQ(pass(relay), milliseconds(kPoll));  // the trial carries the event
  EXPECT_EQ(sns_.calls.size(), 6u);
  EXPECT_EQ(breaker_.state(), resilience::BreakerState::kClosed);
  EXPECT_EQ(state(id).status, "SENT");
  EXPECT_EQ(state(id).retry_count, 0);
}

TEST_F(Relay, AnOutageWritesNothing) {
  append("ORD-A");
  OutboxRelay relay = makeRelay({&sns_});
  sns_.down = true;
  const int commits = commits_;
  milliseconds wait(0);
  for (int i = 0; i < 6; ++i) {  // backing off, then the breaker open
    clock_.advance(wait);
    wait = pass(relay);
  }
  EXPECT_EQ(breaker_.state(), resilience::BreakerState::kOpen);
  // Each commit wakes the relay: an empty one after each outage would keep it spinning.
  EXPECT_EQ(commits_, commits);
}

TEST_F(Relay, EntriesTheServiceFailedCountForTheBreaker) {
  const std::string id = append("ORD-A");
  sns_.judge = [](const EventMessage&) {
    return EntryOutcome{CallClass::kRetriable, "sns: InternalError"};
  };
  OutboxRelay relay = makeRelay({&sns_});
  milliseconds wait(0);
  for (int i = 0; i < 5; ++i) {
    clock_.advance(wait);
    wait = pass(relay);
  }
  EXPECT_EQ(sns_.calls.size(), 5u);
  EXPECT_EQ(breaker_.state(), resilience::BreakerState::kOpen);
  EXPECT_EQ(state(id).retry_count, 0);
}

TEST_F(Relay, AnEventADroppedDestinationAlreadyTookIsSentToTheOthersOnly) {
  const std::string id = append("ORD-A");
  ASSERT_TRUE(store_->write([&](store::Connection& c) {
    auto taken = c.prepare("UPDATE outbox_events SET sent_to = 2 WHERE id = ?");  // by SQS
    taken->bind(1, id);
    taken->exec();
    return okStatus();
  }));
  OutboxRelay relay = makeRelay({&sns_});  // the queue is no longer configured
  int passes = 0;
  relay.runPass([&] { return ++passes > 5; });
  EXPECT_EQ(state(id).status, "SENT");
  EXPECT_EQ(sns_.calls.size(), 1u);
  EXPECT_LE(passes, 3) << "the pass did not end once the event was sent";
}

TEST_F(Relay, AnEventEveryConfiguredDestinationHasIsSentWithoutSendingItAgain) {
  const std::string id = append("ORD-A");
  ASSERT_TRUE(store_->write([&](store::Connection& c) {
    auto taken = c.prepare("UPDATE outbox_events SET sent_to = 1 WHERE id = ?");  // by SNS
    taken->bind(1, id);
    taken->exec();
    return okStatus();
  }));
  OutboxRelay relay = makeRelay({&sns_});  // the queue it was waiting for was dropped
  int passes = 0;
  relay.runPass([&] { return ++passes > 5; });
  EXPECT_EQ(state(id).status, "SENT");
  EXPECT_TRUE(sns_.calls.empty());
  EXPECT_LE(passes, 3) << "the pass did not end";
}

TEST_F(Relay, ARejectionCountsHoldsBackItsOwnOrderOnlyAndEndsFailed) {
  const std::string a1 = append("ORD-A");
  const std::string a2 = append("ORD-A");
  const std::string b1 = append("ORD-B");
  sns_.judge = [&](const EventMessage& message) {
    return message.deduplication_id == a1 ? EntryOutcome{CallClass::kPermanent, "sns: NotFound"}
                                          : EntryOutcome{CallClass::kSuccess, ""};
  };
  OutboxRelay relay = makeRelay({&sns_});  // max_retries 3

  EXPECT_EQ(pass(relay), milliseconds(kPoll));  // a1 is due again at the next poll
  EXPECT_EQ(state(b1).status, "SENT");
  EXPECT_EQ(state(a1).status, "PENDING");
  EXPECT_EQ(state(a1).retry_count, 1);
  EXPECT_EQ(state(a1).last_error, "sns: NotFound");
  EXPECT_EQ(state(a1).next_attempt_at, clock_.wallMillis() + kPoll);
  EXPECT_EQ(state(a2).status, "PENDING");  // held back behind a1
  EXPECT_EQ(sns_.calls.size(), 1u);
  EXPECT_EQ(breaker_.state(), resilience::BreakerState::kClosed);  // it answered

  clock_.advance(milliseconds(kPoll / 2));
  EXPECT_EQ(pass(relay), milliseconds(kPoll / 2));
  EXPECT_EQ(sns_.calls.size(), 1u);  // not before the next poll

  clock_.advance(milliseconds(kPoll / 2));
  pass(relay);
  EXPECT_EQ(state(a1).retry_count, 2);
  clock_.advance(milliseconds(kPoll));
  pass(relay);
  EXPECT_EQ(state(a1).status, "FAILED");
  EXPECT_EQ(state(a1).retry_count, 3);
  // The dead letter no longer holds back the rest of its order.
  EXPECT_EQ(state(a2).status, "SENT");
  EXPECT_EQ(sns_.callIds(3), (std::vector<std::string>{a2}));
}

TEST_F(Relay, BringingRetriesForwardEndsTheBackoffAndMakesRejectedEventsDue) {
  const std::string rejected = append("ORD-A");
  sns_.judge = [&](const EventMessage& message) {
    return message.deduplication_id == rejected
               ? EntryOutcome{CallClass::kPermanent, "sns: NotFound"}
               : EntryOutcome{CallClass::kSuccess, ""};
  };
  OutboxRelay relay = makeRelay({&sns_});
  pass(relay);
  ASSERT_EQ(state(rejected).next_attempt_at, clock_.wallMillis() + kPoll);
  const std::string waiting = append("ORD-B");
  sns_.down = true;
  const milliseconds backoff = pass(relay);
  ASSERT_GE(backoff, milliseconds(800));
  EXPECT_EQ(pass(relay), backoff);  // backing off: no call
  ASSERT_EQ(sns_.calls.size(), 2u);

  EXPECT_EQ(relay.bringRetriesForward(), 1);  // the rejected one; the other was due
  EXPECT_EQ(state(rejected).next_attempt_at, clock_.wallMillis());
  sns_.down = false;
  sns_.judge = [](const EventMessage&) { return EntryOutcome{CallClass::kSuccess, ""}; };
  EXPECT_EQ(pass(relay), milliseconds(kPoll));  // at once, without the clock moving
  EXPECT_EQ(state(rejected).status, "SENT");
  EXPECT_EQ(state(waiting).status, "SENT");
  EXPECT_EQ(relay.bringRetriesForward(), 0);
}

TEST_F(Relay, EachDestinationGetsAnEventOnceEvenWhenTheOtherFails) {
  const std::string id = append("ORD-A");
  OutboxRelay relay = makeRelay({&sns_, &sqs_});
  sqs_.down = true;
  const milliseconds backoff = pass(relay);
  EXPECT_EQ(state(id).status, "PENDING");
  EXPECT_EQ(state(id).sent_to, 1);  // SNS took it

  sqs_.down = false;
  clock_.advance(backoff);
  pass(relay);
  EXPECT_EQ(sns_.calls.size(), 1u);  // not again
  EXPECT_EQ(sqs_.calls.size(), 2u);
  EXPECT_EQ(state(id).status, "SENT");
  EXPECT_EQ(state(id).sent_to, 3);
}

TEST_F(Relay, BatchesStayWithinTheSizeLimitAndAnOversizedEventFailsAtOnce) {
  const std::string big(100000, 'x');
  const std::string first = append("ORD-1", {{"blob", big}});
  const std::string second = append("ORD-2", {{"blob", big}});
  const std::string third = append("ORD-3", {{"blob", big}});
  const std::string huge = append("ORD-4", {{"blob", std::string(300000, 'y')}});
  OutboxRelay relay = makeRelay({&sns_});
  pass(relay);
  ASSERT_EQ(sns_.calls.size(), 2u);
  EXPECT_EQ(sns_.callIds(0), (std::vector<std::string>{first, second}));
  EXPECT_EQ(sns_.callIds(1), (std::vector<std::string>{third}));
  EXPECT_EQ(state(huge).status, "FAILED");
  EXPECT_NE(state(huge).last_error.find("SNS and SQS take at most 262144"), std::string::npos);
}

TEST_F(Relay, AStopRequestEndsThePassBetweenBatches) {
  for (int i = 0; i < 30; ++i) append("ORD-" + std::to_string(i));
  OutboxRelay relay = makeRelay({&sns_});
  int batches = 0;
  relay.runPass([&] { return ++batches > 1; });
  EXPECT_EQ(sns_.calls.size(), 1u);
}

// SPEC §11: a clock error, corrected and sent again at once, is a success like any other:
// no failure for the breaker, no retry spent, no backoff.
TEST_F(Relay, AClockErrorCorrectedAtOnceIsASuccessWithNoFailureRecorded) {
  const std::string id = append("ORD-A");
  outpost::testing::ScriptedHttp http;
  clients::HttpResponse refused = outpost::testing::ScriptedHttp::answer(
      400, {{"__type", "com.amazon.coral.service#InvalidSignatureException"},
            {"message",
             "Signature expired: 20231114T221320Z is now earlier than "
             "20231115T000820Z (20231115T001320Z - 5 min.)"}});
  refused.date = "Wed, 15 Nov 2023 00:13:20 GMT";  // 2 h ahead of the fake clock
  http.queue(refused);
  http.queue(outpost::testing::ScriptedHttp::answer(200, {{"MessageId", "m-1"}}));
  clients::ServiceClock service_clock(clock_);
  clients::SqsQueue queue(http,
                          {"us-east-1", "http://127.0.0.1:4566/", AwsCredentials{"A", "s", ""},
                           1000, nullptr, &service_clock},
                          "http://127.0.0.1:4566/000000000000/events");
  OutboxRelay relay = makeRelay({&queue});

  EXPECT_EQ(pass(relay), milliseconds(kPoll));  // nothing left, no backoff
  EXPECT_EQ(http.requests().size(), 2u);
  EXPECT_EQ(state(id).status, "SENT");
  EXPECT_EQ(state(id).retry_count, 0);
  EXPECT_EQ(state(id).last_error, "");
  const auto breaker = breaker_.snapshot();
  EXPECT_EQ(breaker.failures_in_window, 0);
  EXPECT_EQ(breaker.consecutive_failures, 0);
  EXPECT_EQ(service_clock.offsetMillis(), 2 * 3600 * 1000);
}

}  // namespace
}  // namespace outpost::outbox
