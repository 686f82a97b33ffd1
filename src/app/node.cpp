#include "app/node.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "alerts/alert_checker.h"
#include "alerts/alert_webhook.h"
#include "alerts/heartbeat.h"
#include "clients/delivery_client.h"
#include "clients/event_destinations.h"
#include "clients/http_client.h"
#include "clients/product_client.h"
#include "http/server.h"
#include "node/context.h"
#include "observability/reliability.h"
#include "orders/availability.h"
#include "orders/availability_recheck.h"
#include "orders/order_service.h"
#include "outbox/outbox_admin.h"
#include "outbox/relay.h"
#include "outbox/retention.h"
#include "reconciliation/reconciler.h"
#include "resilience/circuit_breaker.h"
#include "review/review_service.h"
#include "saga/compensator.h"
#include "saga/delivery_initiator.h"
#include "saga/saga_recovery.h"
#include "store/breaker_records.h"
#include "store/disk_floor.h"
#include "store/store.h"

namespace outpost::app {
namespace {

constexpr const char* kDeliveryJob = "delivery";
constexpr const char* kRecheckJob = "availability-recheck";
constexpr const char* kRetentionJob = "retention";
constexpr const char* kRelayJob = "outbox-relay";
constexpr const char* kCompensationJob = "compensation";
constexpr const char* kReconciliationJob = "reconciliation";
constexpr const char* kAlertsJob = "alerts";
constexpr const char* kAlertWebhookJob = "alert-webhook";
constexpr const char* kWatchdogJob = "systemd-watchdog";
constexpr const char* kHeartbeatJob = "heartbeat";

bool eventsConfigured(const Config& config) {
  return config.events.sns_topic_arn || config.events.sqs_queue_url;
}

nlohmann::json startupFields(const Config& config, int port) {
  return {{"listen", config.listen_host + ":" + std::to_string(port)},
          {"database", config.database},
          {"node_id", config.node_id},
          {"scheme", config.usesTls() ? "https" : "http"},
          {"events",
           eventsConfigured(config) ? "configured" : "not configured: events wait in the outbox"},
          {"aws_credentials", config.events.credentials ? "from the environment"
                                                        : "none: SNS/SQS requests go unsigned"},
          {"delivery_service", config.delivery_service.url ? "configured" : "not configured"},
          {"product_service", config.product_service.url ? "configured" : "not configured"},
          {"alerts_webhook", config.alerts.webhook_url ? "configured" : "not configured"}};
}

resilience::BreakerOptions breakerOptions(const std::string& name, const BreakerConfig& c) {
  return {name,
          c.error_threshold_percentage,
          c.reset_timeout_ms,
          c.volume_threshold,
          c.consecutive_failures,
          c.rolling_window_ms,
          c.timeout_ms,
          10};
}

using Breakers = std::map<std::string, std::unique_ptr<resilience::CircuitBreaker>>;

// Each configured breaker, in the state the file kept for it.
Breakers makeBreakers(const Config& config, const Clock& clock, store::Store& store) {
  auto restored = store.read([](store::Connection& c) { return store::loadBreakerStates(c); });
  Breakers breakers;
  for (const auto& [name, settings] : config.breakers) {
    std::optional<resilience::PersistedBreaker> state;
    if (restored && restored->contains(name)) state = restored->at(name);
    breakers[name] =
        std::make_unique<resilience::CircuitBreaker>(breakerOptions(name, settings), clock, state);
  }
  return breakers;
}

using Destinations = std::vector<std::unique_ptr<clients::EventDestination>>;

// The configured SNS topic and/or SQS queue; none: events wait in the outbox.
Destinations makeEventDestinations(const Config& config, clients::HttpClient& http,
                                   std::function<bool()> stopping,
                                   clients::ServiceClock& service_clock) {
  const clients::AwsTarget target{
      config.events.region,      config.events.endpoint_url,
      config.events.credentials, config.breakers.at("events").timeout_ms,
      std::move(stopping),       &service_clock};
  Destinations destinations;
  if (config.events.sns_topic_arn) {
    destinations.push_back(
        std::make_unique<clients::SnsTopic>(http, target, *config.events.sns_topic_arn));
  }
  if (config.events.sqs_queue_url) {
    destinations.push_back(
        std::make_unique<clients::SqsQueue>(http, target, *config.events.sqs_queue_url));
  }
  return destinations;
}

std::vector<clients::EventDestination*> pointers(const Destinations& destinations) {
  std::vector<clients::EventDestination*> raw;
  for (const auto& destination : destinations) raw.push_back(destination.get());
  return raw;
}

template <typename T>
T* pointerTo(std::optional<T>& value) {
  return value ? &*value : nullptr;
}

}  // namespace

// Everything built on the store, in the order the parts need each other.
struct Node::Parts {
  Parts(const Config& config, Node& node, std::unique_ptr<store::Store> opened_store);

  void wireOrders();
  void reactToBreakers();
  void addJobs();
  void wireDrain();
  void forwardWaitingWork();
  void warnOfUnsignedEvents() const;
  void warnOfTokensInClear() const;
  void resumeSagas();
  observability::ReliabilityFigures figures();
  // figures() with the active alerts, as /health and the heartbeat show them.
  observability::ReliabilityFigures figuresWithAlerts();

  const Config& config;
  Node& node;
  std::unique_ptr<store::Store> store;
  Breakers breakers;
  node::Context context;
  clients::CurlHttpClient http;
  clients::ServiceClock service_clock;  // the one AWS clock offset of SNS and SQS
  std::optional<clients::DeliveryClient> delivery_client;
  std::optional<clients::ProductClient> product_client;
  saga::OrderCalls order_calls;  // one delivery call per order at a time
  saga::DeliveryInitiator delivery;
  saga::Compensator compensator;
  review::ReviewService reviews;
  orders::OrderService orders;
  std::optional<orders::AvailabilityChecker> availability;
  std::optional<orders::AvailabilityRechecker> recheck;
  std::optional<reconciliation::Reconciler> reconciler;
  outbox::OutboxAdmin outbox_admin;
  outbox::Retention retention;
  Destinations destinations;
  std::optional<outbox::OutboxRelay> relay;
  store::DiskFloor disk_floor;  // before what reads it: the alert checks and the server
  alerts::AlertChecker alert_checker;
  std::optional<alerts::AlertWebhook> alert_webhook;
  std::optional<ServiceWatchdog> watchdog;
  http::HttpServer server;
  std::optional<alerts::Heartbeat> heartbeat;
};

Node::Parts::Parts(const Config& config, Node& node, std::unique_ptr<store::Store> opened_store)
    : config(config),
      node(node),
      store(std::move(opened_store)),
      breakers(makeBreakers(config, node.clock_, *store)),
      context{*store, node.clock_, node.random_, node.log_, node.metrics_, config.node_id},
      service_clock(node.clock_,
                    [&log = node.log_](std::int64_t old_ms, std::int64_t new_ms) {
                      log.warn("signing AWS requests with the services' clock",
                               {{"clockSkewMs", new_ms}, {"previousClockSkewMs", old_ms}});
                    }),
      delivery_client(config.delivery_service.url ? std::make_optional<clients::DeliveryClient>(
                                                        http, *config.delivery_service.url,
                                                        config.delivery_service.timeout_ms)
                                                  : std::nullopt),
      product_client(config.product_service.url
                         ? std::make_optional<clients::ProductClient>(
                               http, *config.product_service.url, config.product_service.timeout_ms)
                         : std::nullopt),
      delivery({context, *breakers.at("delivery-service"), pointerTo(delivery_client),
                config.delivery_service.retry, order_calls,
                [this] { this->node.runner_.wake(kDeliveryJob); }}),
      compensator({context, *breakers.at("delivery-service"), pointerTo(delivery_client),
                   config.delivery_service.retry, order_calls, node.clock_.wallMillis(),
                   [this] { this->node.runner_.wake(kCompensationJob); }}),
      reviews(context, {[this](const std::string& id) { compensator.attemptNow(id); },
                        [this] { this->node.runner_.wake(kDeliveryJob); }}),
      orders(context),
      outbox_admin(*store, node.clock_),
      retention(context, config.events.retention_ms),
      destinations(makeEventDestinations(
          config, http, [this] { return this->node.runner_.stopRequested(); }, service_clock)),
      disk_floor(node.clock_, static_cast<std::uint64_t>(config.storage.min_free_bytes),
                 store::DiskFloor::probeFor(config.database)),
      alert_checker({context,
                     {config.alerts.outbox_backlog, config.alerts.manual_review_backlog,
                      config.alerts.outbox_max_age_ms},
                     config.alerts.check_interval_ms,
                     config.alerts.webhook_url.has_value(),
                     [this] { return figures(); },
                     [this] { this->node.runner_.wake(kAlertWebhookJob); }}),
      server({context, config, orders, outbox_admin, compensator, reviews,
              [this] { return figuresWithAlerts(); }, node.drain_, node.tls_, disk_floor}) {
  store->setBreaker(breakers.at("database").get());
  if (product_client) {
    availability.emplace(*product_client, *breakers.at("product-service"), node.log_);
    recheck.emplace(orders::RecheckDependencies{context, *product_client,
                                                *breakers.at("product-service"),
                                                config.product_service.recheck_interval_ms});
  }
  if (delivery_client) {
    reconciler.emplace(reconciliation::ReconcilerDependencies{
        context, *breakers.at("delivery-service"), *delivery_client,
        config.reconciliation.interval_ms, config.reconciliation.stale_after_ms});
  }
  if (!destinations.empty()) {
    relay.emplace(outbox::RelayDependencies{
        context,
        *breakers.at("events"),
        pointers(destinations),
        {config.events.poll_interval_ms, config.events.batch_size, config.events.max_retries}});
  }
  if (config.alerts.webhook_url) {
    alert_webhook.emplace(
        alerts::AlertWebhookDependencies{context, http, *config.alerts.webhook_url});
  }
  if (config.alerts.heartbeat_url) {
    heartbeat.emplace(alerts::HeartbeatDependencies{context, http, *config.alerts.heartbeat_url,
                                                    config.alerts.heartbeat_interval_ms,
                                                    [this] { return figuresWithAlerts(); }});
  }
  wireOrders();
  reactToBreakers();
  addJobs();
  wireDrain();
  warnOfUnsignedEvents();
  warnOfTokensInClear();
  resumeSagas();
}

void Node::Parts::wireOrders() {
  orders.setAvailability(pointerTo(availability), {config.checkout.reject_unavailable,
                                                   config.product_service.recheck_interval_ms,
                                                   [this] { node.runner_.wake(kRecheckJob); }});
  if (delivery_client) {
    // The attempt takes at most the delivery timeout, and a second for its writes.
    orders.setAfterCommit([this](const std::string& id) { return delivery.attemptAfterCommit(id); },
                          config.delivery_service.timeout_ms + 1000);
  }
}

void Node::Parts::reactToBreakers() {
  // What the node does when a breaker closes again: its dependency is back, so the work
  // waiting on it goes now instead of waiting out its backoff (SPEC §4.1 fix).
  const std::map<std::string, std::function<void()>> on_recovery = {
      {"delivery-service",
       [this] {
         delivery.bringRetriesForward();
         compensator.bringRetriesForward();
         node.runner_.wake(kDeliveryJob);
         node.runner_.wake(kCompensationJob);
       }},
      {"product-service",
       [this] {
         if (recheck) recheck->bringRetriesForward();
         node.runner_.wake(kRecheckJob);
       }},
      {"events", [this] { node.runner_.wake(kRelayJob); }},
  };
  for (auto& [name, breaker] : breakers) {
    std::function<void()> recovered;
    if (auto reaction = on_recovery.find(name); reaction != on_recovery.end()) {
      recovered = reaction->second;
    }
    breaker->setListener([this, name = name, recovered](const resilience::BreakerTransition& t) {
      node.metrics_.breakerTransition(t.name, resilience::toString(t.to));
      node.log_.warn(
          "circuit breaker " + std::string(resilience::toString(t.to)),
          {{"breaker", t.name}, {"from", resilience::toString(t.from)}, {"reason", t.reason}});
      // The database breaker's own state cannot be written while the database is down.
      if (name != "database") {
        (void)store->write([&](store::Connection& c) {
          store::saveBreakerTransition(c, t);
          return okStatus();
        });
      }
      if (t.to == resilience::BreakerState::kClosed && recovered) recovered();
    });
  }
}

void Node::Parts::addJobs() {
  jobs::JobRunner& runner = node.runner_;
  runner.add(kDeliveryJob, delivery);
  runner.add(kCompensationJob, compensator);
  if (reconciler) runner.add(kReconciliationJob, *reconciler);
  if (recheck) runner.add(kRecheckJob, *recheck);
  runner.add(kRetentionJob, retention);
  if (relay) runner.add(kRelayJob, *relay);
  runner.add(kAlertsJob, alert_checker);
  if (alert_webhook) runner.add(kAlertWebhookJob, *alert_webhook);
  if (heartbeat) runner.add(kHeartbeatJob, *heartbeat);
  if (node.watchdog_interval_) {
    watchdog.emplace(
        *node.watchdog_interval_,
        [this](std::chrono::milliseconds limit) { return store->writerResponds(limit); },
        node.notifier_, node.log_);
    runner.add(kWatchdogJob, *watchdog);
  }
}

void Node::Parts::wireDrain() {
  node.drain_.setWork({[this] {
                         return store->read(
                             [](store::Connection& c) { return jobs::readPendingWork(c); });
                       },
                       [this] { forwardWaitingWork(); },
                       [this](const jobs::PendingWork& pending) {
                         // Without a destination events wait in the outbox, and without a
                         // delivery URL initiations wait (SPEC §2): no drain moves them.
                         return (pending.events > 0 && relay.has_value()) ||
                                (pending.deliveries > 0 && delivery_client.has_value());
                       }});
}

// SPEC §10: before the box is switched off, every waiting event and delivery initiation
// goes now; an open breaker gets its trial now instead of after reset_timeout_ms.
void Node::Parts::forwardWaitingWork() {
  breakers.at("events")->allowTrialNow();
  breakers.at("delivery-service")->allowTrialNow();
  if (relay) relay->bringRetriesForward();
  delivery.bringRetriesForward("draining");
  compensator.bringRetriesForward();
  node.runner_.wake(kRelayJob);
  node.runner_.wake(kDeliveryJob);
  node.runner_.wake(kCompensationJob);
}

void Node::Parts::warnOfUnsignedEvents() const {
  if (eventsConfigured(config) && !config.events.credentials && !config.events.endpoint_url) {
    node.log_.warn(
        "events go to AWS unsigned: AWS will reject them until AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY are set",
        {{"region", config.events.region}});
  }
}

void Node::Parts::warnOfTokensInClear() const {
  if (config.sendsTokensInClear()) {
    node.log_.warn(
        "tokens travel in clear on this network: set tls.cert_file and tls.key_file for HTTPS",
        {{"listen", config.listen}});
  }
}

void Node::Parts::resumeSagas() {
  auto resumed = saga::resumeInterruptedSagas(*store, node.clock_.wallMillis());
  if (!resumed) {
    node.log_.error("cannot resume interrupted sagas", {{"error", resumed.error().message}});
    return;
  }
  if (resumed->resumed > 0 || resumed->compensating > 0) {
    node.log_.info("resuming interrupted sagas",
                   {{"awaitingDelivery", resumed->resumed},
                    {"compensating", resumed->compensating},
                    {"compensationJobsRecreated", resumed->repaired}});
  }
}

observability::ReliabilityFigures Node::Parts::figuresWithAlerts() {
  auto now = figures();
  now.alerts = alert_checker.active();
  return now;
}

observability::ReliabilityFigures Node::Parts::figures() {
  observability::FigureInputs inputs;
  // The read first: it may be the database breaker's trial, which closes it, and the
  // states must say so rather than HALF_OPEN beside an available database.
  inputs.stored =
      store->read([](store::Connection& c) { return observability::readStoredFigures(c); });
  for (const auto& [name, breaker] : breakers) {
    inputs.breaker_states[name] = resilience::toString(breaker->state());
  }
  const auto stored_status =
      inputs.stored ? inputs.stored->last_reconciliation_status : std::nullopt;
  inputs.reconciliation_status =
      reconciler ? reconciler->lastStatus(stored_status) : observability::kHealthy;
  inputs.now_ms = node.clock_.wallMillis();
  inputs.clock_skew_ms = service_clock.offsetMillis();
  inputs.disk = disk_floor.reading();
  return observability::assembleFigures(config, inputs);
}

Node::Node(const Config& config)
    : config_(config), log_(clock_), runner_(clock_, log_, &metrics_), drain_(clock_) {
  const auto env = processEnvironment();
  notifier_ = SystemdNotifier::fromEnvironment(env);
  watchdog_interval_ = watchdogInterval(env, getpid());
}

Node::~Node() = default;

Result<std::unique_ptr<Node>> Node::create(const Config& config) {
  std::unique_ptr<Node> node(new Node(config));
  if (config.usesTls()) {
    // Before the store: a bad certificate must not leave a new database file behind.
    auto tls = http::TlsContext::load(*config.tls.cert_file, *config.tls.key_file);
    if (!tls) {
      node->log_.error("cannot serve HTTPS", {{"error", tls.error().message}});
      return tls.error();
    }
    node->tls_ = std::move(*tls);
  }
  store::StoreOptions options{config.database, config.database_busy_timeout_ms};
  options.opened_at_millis = node->clock_.wallMillis();
  // Any commit may have added events: the relay looks at once (SPEC §4.3); and it may
  // have finished work a drain waits for.
  options.after_commit = [node = node.get(), events = eventsConfigured(config)] {
    if (events) node->runner_.wake(kRelayJob);
    node->drain_.workCommitted();
  };
  auto store = store::Store::open(options);
  if (!store) {
    node->log_.error("cannot open the database",
                     {{"database", config.database}, {"error", store.error().message}});
    return store.error();
  }
  if (const auto& backup = (*store)->migration().backup_path) {
    node->log_.info("backed the database up before migrating it",
                    {{"backup", *backup},
                     {"fromVersion", (*store)->migration().from_version},
                     {"toVersion", (*store)->migration().to_version}});
  }
  node->parts_ = std::make_unique<Parts>(config, *node, std::move(*store));
  return node;
}

int Node::run(const sigset_t& signals) {
  http::HttpServer& server = parts_->server;
  auto port = server.bind();
  if (!port) {
    log_.error("cannot listen", {{"error", port.error().message}});
    return 1;
  }
  runner_.start();
  std::atomic<bool> serving_ended = false;
  std::thread signal_thread([&] {
    int received = 0;
    sigwait(&signals, &received);
    if (!serving_ended) {
      notifier_.notify("STOPPING=1");
      log_.info("shutting down", {{"signal", strsignal(received)}});
    }
    drain_.stop();  // a drain request waiting for its timeout must not hold up the stop
    server.stop();
  });
  log_.info("outpost is taking orders", startupFields(config_, *port));
  notifier_.notify("READY=1");
  server.serve();
  serving_ended = true;
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  runner_.stop();
  parts_->store->shutdown();
  log_.info("stopped");
  return 0;
}

}  // namespace outpost::app
